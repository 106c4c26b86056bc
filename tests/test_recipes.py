"""chainrule.train.recipes: models, optimizers and schedules built from their names."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
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
    (lambda n: recipes.build_model(n, "digits", [8], 0.0), "vgg"),
    (lambda n: recipes.build_optimizer(n, _params(), 0.1, 0.0), "lbfgs"),
    (lambda n: recipes.build_scheduler(n, optim.SGD(_params(), lr=0.1), 10, 2), "cyclic"),
])
def test_unknown_names_raise_with_the_choices(build, name):
    with pytest.raises(ValueError, match=f"unknown .* {name!r}; choose from"):
        build(name)


@pytest.mark.parametrize("model", recipes.MODELS)
@pytest.mark.parametrize("dataset", list(recipes.DATASETS))
def test_every_model_is_sized_for_every_dataset_and_counted_without_building(model, dataset):
    info = recipes.DATASETS[dataset]
    net = recipes.build_model(model, dataset)
    assert sum(p.numel() for p in net.parameters()) == recipes.parameter_count(model, dataset)
    net.eval()
    out = net(cr.zeros(2, *info.shape))
    assert out.shape == (2, info.classes)
    assert isinstance(net[len(net) - 1], nn.Linear)  # the head
    small = {"hidden": [5], "channels": [3, 4], "depth": 1, "num_classes": 3}
    if model == "mlp":
        del small["channels"], small["depth"]
    elif model == "cnn":
        del small["depth"]
    else:
        del small["hidden"]
    net = recipes.build_model(model, dataset, **small)
    assert sum(p.numel() for p in net.parameters()) == recipes.parameter_count(model, dataset,
                                                                              **small)
    assert net.eval()(cr.zeros(1, *info.shape)).shape == (1, 3)


def test_resnet_and_cnn_use_1d_layers_for_mnist1d_and_2d_for_images():
    for model in ("cnn", "resnet"):
        assert isinstance(recipes.build_model(model, "mnist1d")[0], nn.Conv1d)
        assert isinstance(recipes.build_model(model, "digits")[0], nn.Conv2d)
    assert recipes.build_model("resnet", "cifar10")[0].in_channels == 3


def _labels(n_per_class, classes=10):
    return np.repeat(np.arange(classes), n_per_class)


def test_stratified_subset_keeps_the_class_shares_and_is_fixed_by_the_seed():
    y = np.concatenate([_labels(30, 5), np.full(50, 5)])  # class 5 is over-represented
    index = recipes.stratified_subset(y, 40, 0)
    assert len(set(index.tolist())) == 40
    counts = np.bincount(y[index], minlength=6)
    assert counts.tolist() == [6, 6, 6, 6, 6, 10]
    np.testing.assert_array_equal(index, recipes.stratified_subset(y, 40, 0))
    assert not np.array_equal(index, recipes.stratified_subset(y, 40, 1))


def test_prepare_data_keeps_and_relabels_classes_and_subsets_the_training_split():
    full = recipes.prepare_data("digits", seed=0)
    assert (len(full.y_train), len(full.y_val), len(full.y_test)) == (1257, 180, 360)
    data = recipes.prepare_data("digits", seed=0, classes=[5, 6, 7, 8, 9], train_subset=100)
    assert np.bincount(data.y_train).tolist() == [20] * 5
    for y in (data.y_val, data.y_test):
        assert set(np.unique(y).tolist()) == {0, 1, 2, 3, 4}
    # the relabelled samples are the images of digits 5-9: label k is digit k + 5
    X, y = cr.data.datasets.load_digits()
    images = {x.tobytes(): label for x, label in zip(X, y)}
    assert all(images[x.tobytes()] == label + 5 for x, label in zip(data.x_test, data.y_test))
    # the subset is of the training split: no validation or test image in it
    held_out = {x.tobytes() for x in np.concatenate([data.x_val, data.x_test])}
    assert not any(x.tobytes() in held_out for x in data.x_train)
    with pytest.raises(recipes.DataUnavailable, match="--train-subset 5000: the training "
                                                      "split has only 1257 samples"):
        recipes.prepare_data("digits", train_subset=5000)


def test_mnist1d_keeps_its_official_test_set():
    pytest.importorskip("mnist1d")
    data = recipes.prepare_data("mnist1d", seed=3)
    (_, y), (x_test, y_test) = cr.data.datasets.load_mnist1d()
    assert (len(data.y_train), len(data.y_val)) == (3600, 400)
    np.testing.assert_array_equal(data.x_test, x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert np.abs(np.bincount(data.y_val) - np.bincount(y) * 0.1).max() <= 1  # stratified


@pytest.mark.parametrize("dataset", list(recipes.DATASETS))
def test_augmentation_keeps_shapes_and_is_fixed_by_the_generator(dataset):
    shape = recipes.DATASETS[dataset].shape
    x = np.random.default_rng(0).standard_normal((16, *shape)).astype(np.float32)
    augment = recipes.build_augmentation(dataset)
    a = augment(x, generator=np.random.default_rng(1))
    b = augment(x, generator=np.random.default_rng(1))
    assert a.shape == x.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)


def test_normalisation_pads_with_the_normalised_black():
    assert recipes.background("digits") == 0.0
    assert recipes.background("mnist") == pytest.approx(-0.1307 / 0.3081)
    black = np.full((4, 1, 28, 28), recipes.background("mnist"), np.float32)
    out = recipes.build_augmentation("mnist")(black, generator=np.random.default_rng(0))
    np.testing.assert_allclose(out, black, rtol=1e-6)  # padding and rotation add only black


def _train_steps(model, params, steps=3, weight_decay=0.1):
    cr.manual_seed(0)
    x = cr.randn(16, 1, 8, 8)
    y = cr.tensor(np.arange(16) % 3)
    optimizer = recipes.build_optimizer("adamw", params, 1e-2, weight_decay)
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


@pytest.mark.parametrize("name", ["cnn", "resnet"])
def test_a_frozen_body_stays_bit_identical_and_gets_no_gradient_while_the_head_learns(name):
    cr.manual_seed(0)
    sizes = {"channels": [4, 8], **({"hidden": [8]} if name == "cnn" else {"depth": 1})}
    model = recipes.build_model(name, "digits", num_classes=3, **sizes)
    _train_steps(model, model.parameters())  # BatchNorm running statistics are not the initial
    model.zero_grad()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    frozen = recipes.freeze_body(model)
    head = recipes.head_prefix(frozen)
    trainable = [p for p in frozen.parameters() if p.requires_grad]
    assert [id(p) for p in trainable] == [id(p) for p in frozen[len(frozen) - 1].parameters()]
    _train_steps(frozen, trainable, weight_decay=0.5)
    after = frozen.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        if key.startswith(head):
            assert not np.array_equal(after[key], value), key
        else:
            np.testing.assert_array_equal(after[key], value, err_msg=key)
    for param_name, param in frozen.named_parameters():
        assert (param.grad is None) != param_name.startswith(head), param_name
    frozen.eval()
    assert not any(m.training for m in frozen.modules())
    frozen.train()
    norms = [m for m in frozen.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    assert all(not m.training for m in norms)
    assert frozen[len(frozen) - 1].training


def test_load_body_copies_all_but_the_head_and_names_what_does_not_fit():
    cr.manual_seed(0)
    source = recipes.build_model("cnn", "digits", channels=[4], hidden=[8], num_classes=5)
    target = recipes.build_model("cnn", "digits", channels=[4], hidden=[8], num_classes=3)
    last = f"{len(target) - 1}.weight"
    head = target.state_dict()[last].copy()
    loaded = recipes.load_body(target, source.state_dict())
    head_key = recipes.head_prefix(target)
    assert loaded == sorted(k for k in target.state_dict() if not k.startswith(head_key))
    assert head_key + "weight" not in loaded and "0.weight" in loaded
    for key in loaded:
        np.testing.assert_array_equal(target.state_dict()[key], source.state_dict()[key])
    np.testing.assert_array_equal(target.state_dict()[last], head)
    other = recipes.build_model("cnn", "digits", channels=[6], hidden=[8])
    with pytest.raises(ValueError, match=r"0.weight has shape \(6, 1, 3, 3\) in the file, "
                                         r"\(4, 1, 3, 3\) here"):
        recipes.load_body(target, other.state_dict())
    with pytest.raises(ValueError, match="do not fit this architecture: the file lacks"):
        recipes.load_body(target, {})
    np.testing.assert_array_equal(target.state_dict()[last], head)


def test_a_loader_with_the_augmentation_is_deterministic():
    data = recipes.prepare_data("digits", seed=0, train_subset=64)

    def first_batch():
        loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=32,
                            shuffle=True, seed=0, transform=recipes.build_augmentation("digits"))
        return next(iter(loader))[0].numpy()

    np.testing.assert_array_equal(first_batch(), first_batch())
