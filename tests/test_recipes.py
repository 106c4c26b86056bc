"""chainrule.train.recipes: models, optimizers and schedules built from their names."""

import pytest

from chainrule import nn, optim
from chainrule.train import recipes


def _params():
    return nn.Linear(3, 2).parameters()


@pytest.mark.parametrize("name, cls, extra", [
    ("sgd", optim.SGD, {"momentum": 0.0, "nesterov": False}),
    ("momentum", optim.SGD, {"momentum": 0.9, "nesterov": False}),
    ("nesterov", optim.SGD, {"momentum": 0.9, "nesterov": True}),
    ("adagrad", optim.Adagrad, {}),
    ("rmsprop", optim.RMSprop, {}),
    ("adam", optim.Adam, {"decoupled_weight_decay": False}),
    ("adamw", optim.AdamW, {"decoupled_weight_decay": True}),
])
def test_build_optimizer_names(name, cls, extra):
    opt = recipes.build_optimizer(name, _params(), lr=0.03, weight_decay=0.01)
    assert type(opt) is cls
    group = opt.param_groups[0]
    assert group["lr"] == 0.03 and group["weight_decay"] == 0.01
    assert {k: group[k] for k in extra} == extra
    assert name in recipes.DEFAULT_LR


def test_build_model_sizes_the_mlp_for_the_dataset():
    model = recipes.build_model("mlp", "digits", hidden=[16], dropout=0.0)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 16), (16, 10)]


def test_build_scheduler_names():
    opt = recipes.build_optimizer("sgd", _params(), lr=0.1, weight_decay=0.0)
    assert recipes.build_scheduler("none", opt, epochs=30, patience=4) is None
    step = recipes.build_scheduler("step", opt, epochs=30, patience=4)
    assert isinstance(step, optim.lr_scheduler.StepLR) and step.step_size == 10
    cosine = recipes.build_scheduler("cosine", opt, epochs=30, patience=4)
    assert isinstance(cosine, optim.lr_scheduler.CosineAnnealingLR) and cosine.T_max == 30
    plateau = recipes.build_scheduler("plateau", opt, epochs=30, patience=4)
    assert isinstance(plateau, optim.lr_scheduler.ReduceLROnPlateau) and plateau.patience == 2


@pytest.mark.parametrize("build, name", [
    (lambda n: recipes.build_model(n, "digits", [8], 0.0), "cnn"),
    (lambda n: recipes.build_optimizer(n, _params(), 0.1, 0.0), "lbfgs"),
    (lambda n: recipes.build_scheduler(n, optim.SGD(_params(), lr=0.1), 10, 2), "cyclic"),
])
def test_unknown_names_raise_with_the_choices(build, name):
    with pytest.raises(ValueError, match=f"unknown .* {name!r}; choose from"):
        build(name)
