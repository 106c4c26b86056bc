"""Every layer against its torch.nn twin: same weights, float64, outputs and all gradients."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


def _load_into_torch(module: nn.Module, twin: torch.nn.Module) -> None:
    twin.load_state_dict({k: torch.tensor(np.array(v)) for k, v in module.state_dict().items()})


def assert_module_matches(module, twin, *arrays, seed=0, rtol=1e-7, atol=1e-10):
    """Copy ``module``'s state into ``twin`` (both float64), run both on ``arrays``,
    back-propagate a random upstream gradient, compare outputs, input gradients,
    parameter gradients and buffers. Returns the chainrule output."""
    module.double()
    twin.double()
    _load_into_torch(module, twin)
    ins = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    tins = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out, tout = module(*ins), twin(*tins)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    assert out.dtype == np.float64
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    if tout.requires_grad:
        (out * upstream).sum().backward()
        (tout * torch.tensor(upstream)).sum().backward()
        for i, (a, b) in enumerate(zip(ins, tins)):
            if a.requires_grad:
                np.testing.assert_allclose(
                    a.grad, b.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}"
                )
        tparams = dict(twin.named_parameters())
        for name, p in module.named_parameters():
            expected = tparams[name].grad
            if expected is None:
                assert p.grad is None or not p.grad.any(), name
            else:
                np.testing.assert_allclose(
                    p.grad, expected.numpy(), rtol=rtol, atol=atol, err_msg=name
                )
    tbuffers = dict(twin.named_buffers())
    for name, b in module.named_buffers():
        np.testing.assert_allclose(b.data, tbuffers[name].numpy(), rtol=rtol, err_msg=name)
    return out


# --------------------------------------------------------------------------- Linear
def test_linear_matches_torch(rng):
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert_module_matches(layer, torch.nn.Linear(4, 3), rng.standard_normal((5, 4)))


def test_linear_without_bias_and_batched_input(rng):
    layer = nn.Linear(4, 2, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert_module_matches(
        layer, torch.nn.Linear(4, 2, bias=False), rng.standard_normal((2, 3, 4))
    )


def test_linear_default_init_bounds_and_dtype():
    cr.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.98 * bound
    # U(-b, b) has variance b²/3
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert abs(layer.weight.data.mean()) < 0.01 * bound
    assert nn.Linear(3, 2, dtype=cr.float64).weight.dtype == np.float64


def test_linear_init_is_reproducible_with_manual_seed():
    cr.manual_seed(7)
    a = nn.Linear(5, 4)
    cr.manual_seed(7)
    b = nn.Linear(5, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, nn.Linear(5, 4).weight.data)


def test_linear_wrong_input_names_layer_shape_and_in_features():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError) as info:
        layer(cr.zeros(2, 5))
    message = str(info.value)
    assert "Linear(in_features=4, out_features=3, bias=True)" in message
    assert "(2, 5)" in message and "in_features=4" in message
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)


# ------------------------------------------------------------------- small layers
def test_identity_and_flatten(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    assert_module_matches(nn.Identity(54, unused=True), torch.nn.Identity(), x)
    assert_module_matches(nn.Flatten(), torch.nn.Flatten(), x)
    out = assert_module_matches(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x)
    assert out.shape == (24, 5)


# -------------------------------------------------------------------- activations
ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2.0, threshold=1.0), lambda: torch.nn.Softplus(2.0, 1.0)),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.PReLU(), lambda: torch.nn.PReLU()),
    (lambda: nn.PReLU(3, init=0.1), lambda: torch.nn.PReLU(3, init=0.1)),
]


@pytest.mark.parametrize("make", ACTIVATIONS, ids=lambda m: repr(m[0]()))
def test_activation_matches_torch(make, rng):
    module, twin = make[0](), make[1]()
    assert repr(module) == repr(twin)
    x = rng.standard_normal((4, 3, 2)) * 3
    assert_module_matches(module, twin, x)


def test_prelu_slope_is_learned_and_channel_checked(rng):
    prelu = nn.PReLU(3)
    assert [n for n, _ in prelu.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(prelu.weight.data, np.full(3, 0.25, np.float32))
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=3\).*\(2, 4\)"):
        prelu(cr.zeros(2, 4))


def test_softmax_without_dim_uses_torch_legacy_choice(rng):
    x = rng.standard_normal((3, 4))
    with pytest.warns(UserWarning, match="dim"):
        out = nn.Softmax()(cr.tensor(x))
    with pytest.warns(UserWarning):
        expected = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-7)
    with pytest.warns(UserWarning):
        out = nn.LogSoftmax()(cr.tensor(x[0]))
    np.testing.assert_allclose(out.data, torch.log_softmax(torch.tensor(x[0]), 0), rtol=1e-7)


def test_gelu_rejects_unknown_approximation_when_called_naming_the_layer():
    gelu = nn.GELU("fast")  # checked once, by F.gelu, when called (as torch)
    with pytest.raises(ValueError, match=r"GELU\(approximate='fast'\): gelu: approximate must"):
        gelu(cr.zeros(2))


# ------------------------------------------------------------------------ dropout
def test_dropout_eval_is_identity_and_train_scales_kept_units(rng):
    drop = nn.Dropout(0.25)
    assert repr(drop) == "Dropout(p=0.25, inplace=False)"  # as torch
    x = rng.standard_normal((50, 40)) + 5
    assert_module_matches(drop.eval(), torch.nn.Dropout(0.25).eval(), x)
    drop.train()
    xt = cr.tensor(x, requires_grad=True)
    out = drop(xt)
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x[kept] / 0.75)
    assert 0.70 < kept.mean() < 0.80
    upstream = rng.standard_normal(x.shape)
    (out * upstream).sum().backward()
    np.testing.assert_allclose(xt.grad, upstream * kept / 0.75)
    with pytest.raises(ValueError, match="Dropout"):
        nn.Dropout(1.5)


def test_dropout_masks_follow_manual_seed():
    x = cr.ones(10, 10)
    cr.manual_seed(3)
    a = nn.Dropout()(x)
    cr.manual_seed(3)
    b = nn.Dropout()(x)
    np.testing.assert_array_equal(a.data, b.data)


# ------------------------------------------------------------------ normalisation
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_train_then_eval_matches_torch(shape, rng):
    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert repr(bn) == repr(tbn)
    bn.weight.data[...] = rng.uniform(0.5, 1.5, 3)
    bn.bias.data[...] = rng.standard_normal(3)
    for step in range(3):  # three training batches: running stats and counter
        assert_module_matches(bn, tbn, rng.standard_normal(shape) * 2 + 1, seed=step)
    assert int(bn.num_batches_tracked.data) == 3
    bn.eval()
    tbn.eval()
    assert_module_matches(bn, tbn, rng.standard_normal(shape))
    assert int(bn.num_batches_tracked.data) == 3


def test_batchnorm_variants_match_torch(rng):
    x = rng.standard_normal((5, 4)) * 3
    for kwargs in (
        {"affine": False},
        {"momentum": None},
        {"track_running_stats": False},
        {"eps": 1e-3, "momentum": 0.5},
        {"bias": False},
    ):
        bn, tbn = nn.BatchNorm1d(4, **kwargs), torch.nn.BatchNorm1d(4, **kwargs)
        assert repr(bn) == repr(tbn)
        assert list(bn.state_dict()) == list(tbn.state_dict())
        for step in range(2):
            assert_module_matches(bn, tbn, x + step, seed=step)
        assert_module_matches(bn.eval(), tbn.eval(), x)


def test_batchnorm2d_matches_torch(rng):
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = rng.standard_normal((2, 3, 4, 4))
    assert_module_matches(bn, tbn, x)
    assert_module_matches(bn.eval(), tbn.eval(), x)


def test_batchnorm_checks_input_shape():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*\(4, 5\).*num_features=3"):
        nn.BatchNorm1d(3)(cr.zeros(4, 5))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        nn.BatchNorm1d(3)(cr.zeros(4, 3, 2, 2))
    with pytest.raises(ValueError, match="4-D"):
        nn.BatchNorm2d(3)(cr.zeros(4, 3))


def test_batchnorm_rejected_batch_changes_nothing():
    bn = nn.BatchNorm1d(3, momentum=None)
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(cr.ones(1, 3))
    assert int(bn.num_batches_tracked.data) == 0
    np.testing.assert_array_equal(bn.running_mean.data, 0)


def test_batchnorm_reset_running_stats():
    bn = nn.BatchNorm1d(2)
    bn(cr.tensor([[1.0, 2.0], [3.0, 5.0]]))
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.data, [0, 0])
    np.testing.assert_array_equal(bn.running_var.data, [1, 1])
    assert int(bn.num_batches_tracked.data) == 0


@pytest.mark.parametrize(
    "args, kwargs",
    [((5,), {}), ((5,), {"elementwise_affine": False}), (((3, 5),), {"eps": 1e-3}),
     ((5,), {"bias": False})],
)
def test_layernorm_matches_torch(args, kwargs, rng):
    ln, tln = nn.LayerNorm(*args, **kwargs), torch.nn.LayerNorm(*args, **kwargs)
    assert repr(ln) == repr(tln)
    for p in ln.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((2, 3, 5)) * 2 + 1
    assert_module_matches(ln, tln, x)
    assert_module_matches(ln.eval(), tln.eval(), x)


def test_layernorm_checks_trailing_shape():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\).*\(2, 5\).*\(4,\)"):
        nn.LayerNorm(4)(cr.zeros(2, 5))


# -------------------------------------------------------------------------- losses
def _loss_case(rng, kind):
    logits = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    probs = rng.uniform(0.05, 0.95, (6, 4))
    labels = (rng.random((6, 4)) > 0.5).astype(np.float64)
    if kind == "regression":
        return logits, rng.standard_normal((6, 4))
    if kind == "probs":
        return probs, labels
    if kind == "logits":
        return logits, labels
    if kind == "classes":
        return logits, classes
    if kind == "log_probs":
        return torch.log_softmax(torch.tensor(logits), 1).numpy(), classes
    if kind == "kl":
        target = torch.softmax(torch.tensor(rng.standard_normal((6, 4))), 1).numpy()
        return torch.log_softmax(torch.tensor(logits), 1).numpy(), target
    if kind == "cosine":
        return logits, rng.standard_normal((6, 4)), rng.choice([-1, 1], 6)
    raise AssertionError(kind)


W = np.array([0.5, 1.0, 2.0, 0.25])
LOSSES = [
    ("MSELoss", {}, "regression"),
    ("L1Loss", {}, "regression"),
    ("BCELoss", {}, "probs"),
    ("BCELoss", {"weight": W}, "probs"),
    ("BCEWithLogitsLoss", {}, "logits"),
    ("BCEWithLogitsLoss", {"weight": W, "pos_weight": W[::-1].copy()}, "logits"),
    ("CrossEntropyLoss", {}, "classes"),
    ("CrossEntropyLoss", {"weight": W, "label_smoothing": 0.1}, "classes"),
    ("CrossEntropyLoss", {"ignore_index": 2}, "classes"),
    ("NLLLoss", {}, "log_probs"),
    ("NLLLoss", {"weight": W}, "log_probs"),
    ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, "kl"),
    ("CosineEmbeddingLoss", {"margin": 0.2}, "cosine"),
]


LOSS_CASES = [
    (name, kwargs if "reduction" in kwargs else {**kwargs, "reduction": reduction}, kind)
    for name, kwargs, kind in LOSSES
    for reduction in (["mean", "sum", "none"] if "reduction" not in kwargs else ["case"])
]


@pytest.mark.parametrize("name, kwargs, kind", LOSS_CASES, ids=lambda v: str(v))
def test_loss_matches_torch(name, kwargs, kind, rng):
    arrays = list(_loss_case(rng, kind))
    if name == "KLDivLoss" and kwargs.get("log_target"):
        arrays[1] = np.log(arrays[1])
    make_cr = {k: cr.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    make_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss, tloss = getattr(nn, name)(**make_cr), getattr(torch.nn, name)(**make_t)
    assert repr(loss) == repr(tloss)
    assert list(loss.state_dict()) == list(tloss.state_dict())
    assert_module_matches(loss, tloss, *arrays)


def test_loss_rejects_unknown_reduction_when_called_naming_the_loss():
    """Checked once, by the functional, when called (as torch), naming the module."""
    x, y = cr.zeros(2, 3), cr.tensor([0, 1])
    with pytest.raises(ValueError, match=r"MSELoss\(\): mse_loss: reduction .*'avg'"):
        nn.MSELoss(reduction="avg")(x, x)
    with pytest.raises(ValueError, match="CrossEntropyLoss.*got 'batchmean'"):
        nn.CrossEntropyLoss(reduction="batchmean")(x, y)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss.*label_smoothing must be in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=1.5)(x, y)
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_loss_weight_is_a_buffer_converted_by_to():
    loss = nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0]))
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
    loss.double()
    assert loss.weight.dtype == np.float64
    value = loss(cr.tensor([[0.0, 1.0]], dtype=cr.float64), cr.tensor([1]))
    assert value.item() == pytest.approx(math.log(1 + math.e) - 1)


TORCH_STYLE = [  # (layer, args, kwargs, args without inplace for the torch twin)
    ("ReLU", (True,), {}, ()),
    ("LeakyReLU", (0.2, True), {}, (0.2,)),
    ("ELU", (), {"alpha": 0.5, "inplace": True}, ()),
    ("Dropout", (0.2, True), {}, (0.2,)),
    ("Linear", (4, 3), {"device": "cpu", "dtype": np.float64}, (4, 3)),
    ("PReLU", (3,), {"device": "cpu"}, (3,)),
    ("BatchNorm1d", (3,), {"device": "cpu"}, (3,)),
    ("LayerNorm", (4,), {"device": "cpu"}, (4,)),
]


@pytest.mark.parametrize("name, args, kwargs, twin_args", TORCH_STYLE, ids=lambda v: str(v))
def test_torch_style_constructor_arguments(name, args, kwargs, twin_args):
    """inplace= and device= as torch code passes them: same repr, same output."""
    torch_kwargs = {**kwargs, "dtype": torch.float64} if "dtype" in kwargs else kwargs
    layer = getattr(nn, name)(*args, **kwargs)
    assert repr(layer) == repr(getattr(torch.nn, name)(*args, **torch_kwargs))
    # torch refuses in-place on a leaf that requires grad: compare with its out-of-place twin
    twin = getattr(torch.nn, name)(
        *twin_args, **{k: v for k, v in torch_kwargs.items() if k != "inplace"}
    )
    layer.eval(), twin.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    if name == "Linear":
        x = x[0]
    x_before = x.copy()
    assert_module_matches(layer, twin, x)
    np.testing.assert_array_equal(x, x_before)


def test_device_other_than_cpu_is_refused():
    with pytest.raises(ValueError, match="Linear: chainrule runs on the CPU only.*'cuda'"):
        nn.Linear(2, 2, device="cuda")
