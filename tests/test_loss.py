"""Losses of chainrule.nn.functional against torch.nn.functional (float64, random upstream)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.check import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _consts(w):
    """The same constant (a weight) for both frameworks; None stays None."""
    if w is None:
        return None, None
    return cr.tensor(w), torch.tensor(w)


@pytest.fixture
def x(rng):
    return rng.standard_normal((5, 4))


# ----------------------------------------------------------------- regression
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses(rng, x, name, reduction, weighted):
    w_cr, w_t = _consts(rng.random(x.shape) if weighted else None)
    target = rng.standard_normal(x.shape)
    target[0, :2] = x[0, :2]  # x = t: l1's gradient is 0 there (torch's sign)
    assert_matches_torch(
        lambda a, b: getattr(F, name)(a, b, reduction=reduction, weight=w_cr),
        lambda a, b: getattr(TF, name)(a, b, reduction=reduction, weight=w_t),
        x, target,
    )


def test_l1_gradient_is_zero_where_input_equals_target():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.l1_loss(x, cr.tensor([0.0, 2.0, 5.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, -1.0])


def test_mse_values():
    loss = F.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([0.0, 4.0]))
    assert loss.item() == pytest.approx(2.5)
    weighted = F.mse_loss(cr.tensor([1.0, 2.0]), cr.tensor([0.0, 4.0]),
                          weight=cr.tensor([3.0, 1.0]))
    assert weighted.item() == pytest.approx((3 * 1 + 1 * 4) / 4)


# ------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "per_class", "full"])
def test_binary_cross_entropy(rng, reduction, weight):
    p = rng.uniform(0.05, 0.95, (5, 4))
    w = {None: None, "per_class": rng.random(4), "full": rng.random((5, 4))}[weight]
    w_cr, w_t = _consts(w)
    assert_matches_torch(
        lambda a, b: F.binary_cross_entropy(a, b, weight=w_cr, reduction=reduction),
        lambda a, b: TF.binary_cross_entropy(a, b, weight=w_t, reduction=reduction),
        p, rng.random((5, 4)),
    )


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    t_cr, t_t = cr.tensor(t, dtype=np.float64), torch.tensor(t)
    assert_matches_torch(
        lambda a: F.binary_cross_entropy(a, t_cr, reduction="none"),
        lambda a: TF.binary_cross_entropy(a, t_t, reduction="none"),
        p,
    )
    out = F.binary_cross_entropy(cr.tensor(p, dtype=np.float64), t_cr, reduction="none")
    np.testing.assert_allclose(out.data, [100.0, 100.0, 0.0, 0.0, 100.0])


NAN = float("nan")


@pytest.mark.parametrize("name, p, t, problem", [
    ("input", [0.5, 1.5], [0.0, 1.0], r"got values in \[0.5, 1.5\].*position 1: 1.5"),
    ("input", [-0.5, 0.5], [0.0, 1.0], r"position 0: -0.5"),
    ("input", [0.5, NAN], [0.0, 1.0], r"1 NaN value\(s\), the first at position 1"),
    ("target", [0.5, 0.5], [0.0, 1.5], r"got values in \[0, 1.5\].*position 1: 1.5"),
    ("target", [0.5, 0.5], [-1.0, 1.0], r"position 0: -1"),
    ("target", [0.5, 0.5], [NAN, 1.0], r"1 NaN value\(s\), the first at position 0"),
])
def test_binary_cross_entropy_rejects_what_torch_rejects(name, p, t, problem):
    """Out-of-range or NaN probabilities are an error in torch, not a silent NaN loss."""
    with pytest.raises(RuntimeError, match=f"all elements of {name} should be between 0 and 1"):
        TF.binary_cross_entropy(torch.tensor(p, dtype=torch.float64),
                               torch.tensor(t, dtype=torch.float64))
    message = rf"binary_cross_entropy: all elements of {name} should be between 0 and 1, but "
    with pytest.raises(ValueError, match=message + ".*" + problem):
        F.binary_cross_entropy(cr.tensor(p, dtype=np.float64), cr.tensor(t, dtype=np.float64))
    with pytest.raises(ValueError, match=message):
        nn.BCELoss()(cr.tensor(p, dtype=np.float64), cr.tensor(t, dtype=np.float64))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "per_class", "full"])
@pytest.mark.parametrize("pos_weight", [None, "per_class", "scalar"])
def test_binary_cross_entropy_with_logits(rng, x, reduction, weight, pos_weight):
    w_cr, w_t = _consts({None: None, "per_class": rng.random(4),
                         "full": rng.random((5, 4))}[weight])
    p_cr, p_t = _consts({None: None, "per_class": rng.uniform(0.5, 5, 4),
                         "scalar": np.array(10.0)}[pos_weight])
    assert_matches_torch(
        lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=w_cr, reduction=reduction, pos_weight=p_cr),
        lambda a, b: TF.binary_cross_entropy_with_logits(
            a, b, weight=w_t, reduction=reduction, pos_weight=p_t),
        3 * x, rng.random((5, 4)),
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_with_logits_is_stable_for_huge_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 20.0]], dtype=dtype)
    t = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=dtype)
    pw = np.array([2.0, 3.0, 4.0], dtype=dtype)
    zc = cr.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(zc, cr.tensor(t), pos_weight=cr.tensor(pw),
                                              reduction="sum")
    loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = TF.binary_cross_entropy_with_logits(zt, torch.tensor(t), pos_weight=torch.tensor(pw),
                                              reduction="sum")
    ref.backward()
    assert loss.dtype == dtype and zc.grad.dtype == dtype
    assert np.isfinite(loss.item()) and np.all(np.isfinite(zc.grad))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=rtol)
    np.testing.assert_allclose(zc.grad, zt.grad.numpy(), rtol=rtol, atol=1e-7)
    # by hand: confident-right terms cost 0, confident-wrong ones |z| (×2 with pos_weight 2)
    expected = 2e4 + 1e4 + 4 * math.log(2) + 20 + math.log1p(math.exp(-20))
    np.testing.assert_allclose(loss.item(), expected, rtol=rtol)


def test_binary_cross_entropy_with_logits_gradient_formula(rng):
    """δ_z = σ(z)(1 + (p - 1)y) - p y."""
    z, y, p = rng.standard_normal(6), rng.integers(0, 2, 6).astype(float), 3.0
    zc = cr.tensor(z, requires_grad=True)
    F.binary_cross_entropy_with_logits(zc, cr.tensor(y), reduction="sum",
                                       pos_weight=cr.tensor([p])).backward()
    sig = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(zc.grad, sig * (1 + (p - 1) * y) - p * y, rtol=1e-12)


# -------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_class_indices(rng, x, reduction, weighted, label_smoothing,
                                     ignore_index):
    y = np.array([0, 2, 3, 1, 2])  # two targets hit ignore_index=2
    w_cr, w_t = _consts(rng.uniform(0.2, 2, 4) if weighted else None)
    options = dict(ignore_index=ignore_index, reduction=reduction,
                   label_smoothing=label_smoothing)
    assert_matches_torch(
        lambda a, b: F.cross_entropy(a, b, weight=w_cr, **options),
        lambda a, b: TF.cross_entropy(a, b, weight=w_t, **options),
        3 * x, y,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(rng, x, reduction, weighted, label_smoothing):
    """Gradients flow into the logits and into the target probabilities."""
    w_cr, w_t = _consts(rng.uniform(0.2, 2, 4) if weighted else None)
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    assert_matches_torch(
        lambda a, b: F.cross_entropy(a, b, weight=w_cr, **options),
        lambda a, b: TF.cross_entropy(a, b, weight=w_t, **options),
        x, rng.dirichlet(np.ones(4), 5),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("targets", ["indices", "probabilities"])
def test_cross_entropy_higher_dimensional(rng, reduction, targets):
    """Input (N, C, d1, d2) with target (N, d1, d2) or probabilities of the input's shape."""
    z = rng.standard_normal((2, 4, 3, 2))
    if targets == "indices":
        y = rng.integers(0, 4, (2, 3, 2))
        y[0, 0, 0] = 1
    else:
        y = np.moveaxis(rng.dirichlet(np.ones(4), (2, 3, 2)), -1, 1).copy()
    w_cr, w_t = _consts(rng.uniform(0.2, 2, 4))
    options = dict(reduction=reduction, label_smoothing=0.1)
    if targets == "indices":
        options["ignore_index"] = 1
    assert_matches_torch(
        lambda a, b: F.cross_entropy(a, b, weight=w_cr, **options),
        lambda a, b: TF.cross_entropy(a, b, weight=w_t, **options),
        z, y,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_single_sample(rng, reduction):
    """Unbatched: input (C,) with a 0-d class index or a (C,) distribution."""
    z = rng.standard_normal(5)
    for y in (np.array(3), rng.dirichlet(np.ones(5))):
        assert_matches_torch(
            lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction, label_smoothing=0.1),
            z, y,
        )


def test_cross_entropy_all_ignored_mean_is_nan_as_torch():
    z = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    loss = F.cross_entropy(z, cr.tensor([1, 1]), ignore_index=1)
    assert math.isnan(loss.item())
    assert math.isnan(TF.cross_entropy(torch.zeros(2, 3), torch.tensor([1, 1]),
                                       ignore_index=1).item())


def test_cross_entropy_gradient_is_softmax_minus_onehot(rng):
    z = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 1])
    zc = cr.tensor(z, requires_grad=True)
    F.cross_entropy(zc, cr.tensor(y), reduction="sum").backward()
    soft = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(zc.grad, soft - np.eye(3)[y], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("targets", ["indices", "probabilities"])
def test_cross_entropy_is_stable_for_huge_logits(dtype, targets):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, 1e4, -1e4]], dtype=dtype)
    if targets == "indices":
        y = np.array([1, 1, 2])
    else:
        y = np.array([[0.2, 0.8, 0.0], [0.0, 1.0, 0.0], [0.1, 0.1, 0.8]], dtype=dtype)
    zc = cr.tensor(z, requires_grad=True)
    loss = F.cross_entropy(zc, cr.tensor(y), weight=cr.tensor(np.array([1, 2, 3], dtype)),
                           label_smoothing=0.1)
    loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = TF.cross_entropy(zt, torch.tensor(y), weight=torch.tensor(np.array([1, 2, 3], dtype)),
                           label_smoothing=0.1)
    ref.backward()
    assert loss.dtype == dtype and zc.grad.dtype == dtype
    assert np.isfinite(loss.item()) and np.all(np.isfinite(zc.grad))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=rtol)
    np.testing.assert_allclose(zc.grad, zt.grad.numpy(), rtol=rtol, atol=1e-7)


INF = float("inf")
MASKED_LOGITS = {  # -inf masks a class (softmax 0); torch's answers, NaN where torch's is
    "one masked class": [[0.0, -INF, 1.0]],
    "target class masked": [[-INF, 0.0, 1.0]],
    "a whole row masked": [[-INF, -INF, -INF], [1.0, 2.0, -INF]],
    "+inf logit": [[0.0, INF, 1.0]],
}
CE_VARIANTS = {
    "plain": {},
    "class weights": {"weight": np.array([1.0, 2.0, 3.0])},
    "label smoothing": {"label_smoothing": 0.1},  # smoothing on a masked class: loss inf
    "no reduction": {"reduction": "none"},
    "ignored row": {"ignore_index": 0},
    "probabilities": {"probabilities": [0.5, 0.0, 0.5]},  # 0 · ln 0: NaN in torch too
}


@pytest.mark.parametrize("variant", CE_VARIANTS)
@pytest.mark.parametrize("logits", MASKED_LOGITS)
def test_cross_entropy_with_infinite_logits_matches_torch(logits, variant):
    z = np.array(MASKED_LOGITS[logits])
    options = dict(CE_VARIANTS[variant])
    weight = options.pop("weight", None)
    probabilities = options.pop("probabilities", None)
    if probabilities is not None:
        target = np.array([probabilities] * len(z))
    else:
        target = np.zeros(len(z), dtype=np.int64)
    assert_matches_torch(
        lambda a, t: F.cross_entropy(a, t, weight=None if weight is None else cr.tensor(weight),
                                     **options),
        lambda a, t: TF.cross_entropy(a, t, weight=None if weight is None
                                      else torch.tensor(weight), **options),
        z, target if probabilities is None else target.astype(np.float64),
    )


def test_cross_entropy_masks_a_minus_inf_logit():
    """The case that gave NaN: torch's 1.3133 = ln(1 + e), and a finite gradient."""
    z = cr.tensor([[0.0, float("-inf"), 1.0]], dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(z, cr.tensor([0]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), math.log(1 + math.e), rtol=1e-15)
    softmax = np.array([1, 0, math.e]) / (1 + math.e)
    np.testing.assert_allclose(z.grad.data, [softmax - [1, 0, 0]], rtol=1e-15)


def test_cross_entropy_out_of_range_label_names_label_position_and_classes():
    z = cr.tensor(np.zeros((5, 10)))
    with pytest.raises(IndexError) as error:
        F.cross_entropy(z, cr.tensor([1, 2, 3, 12, 0]))
    message = "cross_entropy: target 12 at position 3 is out of range for 10 classes"
    assert str(error.value) == message
    with pytest.raises(IndexError, match=r"target -1 at position 0 is out of range for 10"):
        F.cross_entropy(z, cr.tensor([-1, 2, 3, 4, 0]))
    with pytest.raises(IndexError, match=r"target 7 at position \(1, 2\) is out of range for 3"):
        F.cross_entropy(cr.tensor(np.zeros((2, 3, 4))), cr.tensor([[0, 1, 2, 0], [0, 0, 7, 1]]))
    # ignore_index may lie outside [0, C)
    assert F.cross_entropy(z, cr.tensor([1, -100, 3, 9, 0])).item() == pytest.approx(math.log(10))


def test_cross_entropy_input_errors():
    z = cr.tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"float target holds .* shape \(4, 3\), got \(4,\)"):
        F.cross_entropy(z, cr.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(4,\), got \(5,\)"):
        F.cross_entropy(z, cr.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(TypeError, match=r"target must be an integer tensor, got dtype bool"):
        F.cross_entropy(z, cr.tensor([True, False, True, True]))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*got \(4,\)"):
        F.cross_entropy(z, cr.tensor([0, 1, 2, 1]), weight=cr.tensor([1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(z, cr.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"reduction must be one of 'none', 'mean', 'sum', got"):
        F.cross_entropy(z, cr.tensor([0, 1, 2, 1]), reduction="avg")
    with pytest.raises(TypeError, match=r"input must be a floating-point tensor, got dtype int64"):
        F.cross_entropy(cr.tensor([[1, 2]]), cr.tensor([0]))
    with pytest.raises(ValueError, match=r"ignore_index is not supported for probability"):
        F.cross_entropy(z, cr.tensor(np.full((4, 3), 1 / 3)), ignore_index=0)


# ----------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 2), (4,)])
def test_nll_loss(rng, reduction, weighted, shape):
    sample_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    logp = np.log(rng.dirichlet(np.ones(4), sample_shape))
    logp = np.moveaxis(logp, -1, 1 if len(shape) > 1 else 0).copy()
    y = rng.integers(0, 4, sample_shape)
    w_cr, w_t = _consts(rng.uniform(0.2, 2, 4) if weighted else None)
    assert_matches_torch(
        lambda a, b: F.nll_loss(a, b, weight=w_cr, ignore_index=3, reduction=reduction),
        lambda a, b: TF.nll_loss(a, b, weight=w_t, ignore_index=3, reduction=reduction),
        logp, y,
    )


def test_nll_of_log_softmax_is_cross_entropy(rng, x):
    y = cr.tensor([0, 1, 2, 3, 0])
    w = cr.tensor([1.0, 2.0, 0.5, 1.5], dtype=np.float64)
    a = cr.tensor(x)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(a, 1), y, weight=w).item(),
                               F.cross_entropy(a, y, weight=w).item(), rtol=1e-13)


def test_nll_loss_errors():
    with pytest.raises(IndexError, match=r"nll_loss: target 4 at position 1 is out of range for 4"):
        F.nll_loss(cr.tensor(np.zeros((2, 4))), cr.tensor([0, 4]))
    with pytest.raises(TypeError, match=r"nll_loss: class-index target must be an integer"):
        F.nll_loss(cr.tensor(np.zeros((2, 4))), cr.tensor([0.0, 1.0]))


# ------------------------------------------------------------------- kl_div
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_kl_div(rng, reduction, log_target):
    log_q = np.log(rng.dirichlet(np.ones(4), 5))
    p = rng.dirichlet(np.ones(4), 5)
    assert_matches_torch(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
        log_q, np.log(p) if log_target else p,
    )


def test_kl_div_zero_target_contributes_zero():
    p = cr.tensor([0.0, 0.5, 0.5], dtype=np.float64)
    log_q = cr.tensor(np.log([0.2, 0.3, 0.5]), requires_grad=True)
    loss = F.kl_div(log_q, p, reduction="sum")
    assert loss.item() == pytest.approx(0.5 * math.log(0.5 / 0.3))
    loss.backward()
    np.testing.assert_allclose(log_q.grad, [0.0, -0.5, -0.5])
    batch = F.kl_div(cr.tensor(np.log(np.full((2, 3), 1 / 3))), cr.tensor(np.eye(3)[:2]),
                     reduction="batchmean")
    assert batch.item() == pytest.approx(math.log(3))


# ----------------------------------------------------- cosine and distances
@pytest.mark.parametrize("shapes,dim", [
    (((5, 4), (5, 4)), 1),
    (((1, 4), (5, 4)), 1),  # one anchor against a batch
    (((5, 4), (4,)), 1),
    (((4, 5), (4, 5)), 0),
    (((2, 3, 4), (2, 1, 4)), -1),
    (((6,), (6,)), 0),
])
def test_cosine_similarity(rng, shapes, dim):
    a, b = (rng.standard_normal(s) for s in shapes)
    assert_matches_torch(
        lambda u, v: F.cosine_similarity(u, v, dim=dim),
        lambda u, v: TF.cosine_similarity(u, v, dim=dim),
        a, b,
    )


def test_cosine_similarity_near_zero_vectors_clamp_norm_as_torch(rng):
    a = np.zeros((4, 3))
    a[1] = [1e-9, 0.0, 0.0]
    a[2] = [1e-10, -2e-10, 1e-10]
    a[3] = [1.0, 2.0, -1.0]
    assert_matches_torch(
        lambda u, v: F.cosine_similarity(u, v, eps=1e-8),
        lambda u, v: TF.cosine_similarity(u, v, eps=1e-8),
        a, rng.standard_normal((4, 3)),
    )


def test_cosine_similarity_gradient_formula(rng):
    """∂s/∂z = ẑ/(‖z‖‖ẑ‖) - s z/‖z‖²."""
    z, zh = rng.standard_normal(5), rng.standard_normal(5)
    zc, zhc = cr.tensor(z, requires_grad=True), cr.tensor(zh, requires_grad=True)
    s = F.cosine_similarity(zc, zhc, dim=0)
    s.backward()
    nz, nzh = np.linalg.norm(z), np.linalg.norm(zh)
    assert s.item() == pytest.approx(z @ zh / (nz * nzh), rel=1e-13)
    np.testing.assert_allclose(zc.grad, zh / (nz * nzh) - s.item() * z / nz**2, rtol=1e-12)
    np.testing.assert_allclose(zhc.grad, z / (nz * nzh) - s.item() * zh / nzh**2, rtol=1e-12)


def test_cosine_similarity_errors():
    with pytest.raises(ValueError, match=r"x1 of shape \(3, 4\) and x2 of shape \(3, 5\)"):
        F.cosine_similarity(cr.randn(3, 4), cr.randn(3, 5))
    with pytest.raises(IndexError, match=r"cosine_similarity: dim 2 is out of range"):
        F.cosine_similarity(cr.randn(3, 4), cr.randn(3, 4), dim=2)


@pytest.mark.parametrize("p", [2, 1, 3, 1.5])
@pytest.mark.parametrize("shape,dim", [((5, 4), 1), ((5, 4), 0), ((2, 3, 4), -1), ((6,), 0),
                                       ((2, 3, 4), (1, 2)), ((2, 3, 4), [0, -1])])
def test_normalize(rng, p, shape, dim):
    x = rng.standard_normal(shape)
    x.reshape(-1)[:3] = 0.0  # a zero entry: sign(0) |0|^(p-1) = 0
    assert_matches_torch(lambda u: F.normalize(u, p=p, dim=dim),
                         lambda u: TF.normalize(u, p=p, dim=dim), x)


def test_normalize_zero_and_tiny_rows_clamp_the_norm_as_torch(rng):
    x = rng.standard_normal((4, 3))
    x[1] = 0.0
    x[2] = [1e-13, -2e-13, 0.0]
    assert_matches_torch(lambda u: F.normalize(u, eps=1e-12), lambda u: TF.normalize(u, eps=1e-12),
                         x)


def test_normalize_gradient_formula(rng):
    """p = 2: y = x/‖x‖, δ_x = (δ_y - y (δ_y·y)) / ‖x‖."""
    x, g = rng.standard_normal(5), rng.standard_normal(5)
    xc = cr.tensor(x, requires_grad=True)
    y = F.normalize(xc, dim=0)
    y.backward(cr.tensor(g))
    n = np.linalg.norm(x)
    np.testing.assert_allclose(y.numpy(), x / n, rtol=1e-14)
    np.testing.assert_allclose(xc.grad, (g - x / n * (g @ x / n)) / n, rtol=1e-12)


@pytest.mark.parametrize("kwargs, problem", [
    ({"p": 0.5}, "p must be a finite number >= 1"),
    ({"p": float("inf")}, "p must be a finite number >= 1"),
    ({"eps": 0.0}, "eps must be a positive number"),
])
def test_normalize_errors(kwargs, problem):
    with pytest.raises(ValueError, match=f"normalize: {problem}"):
        F.normalize(cr.randn(3, 4), **kwargs)
    with pytest.raises(IndexError, match="normalize: dim 2 is out of range"):
        F.normalize(cr.randn(3, 4), dim=2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss(rng, x, reduction, margin):
    y = np.array([1, -1, 1, -1, -1])
    y_cr, y_t = cr.tensor(y), torch.tensor(y)
    x2 = rng.standard_normal(x.shape)
    x2[1] = x[1] + 0.1 * x2[1]  # a dissimilar-labelled pair that is similar: active hinge
    assert_matches_torch(
        lambda a, b: F.cosine_embedding_loss(a, b, y_cr, margin=margin, reduction=reduction),
        lambda a, b: TF.cosine_embedding_loss(a, b, y_t, margin=margin, reduction=reduction),
        x, x2,
    )


def test_cosine_embedding_loss_single_pair_and_errors(rng):
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    for y in (1, -1):
        assert_matches_torch(
            lambda u, v, y=y: F.cosine_embedding_loss(u, v, cr.tensor(y)),
            lambda u, v, y=y: TF.cosine_embedding_loss(u, v, torch.tensor(y)),
            a, -a + 0.1 * b,
        )
    with pytest.raises(ValueError, match=r"target must have shape \(3,\).*got \(2,\)"):
        F.cosine_embedding_loss(cr.randn(3, 4), cr.randn(3, 4), cr.tensor([1, -1]))
    with pytest.raises(ValueError, match=r"got \(3, 4\) and \(3, 5\)"):
        F.cosine_embedding_loss(cr.randn(3, 4), cr.randn(3, 5), cr.tensor([1, -1, 1]))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5, math.inf, 0.0])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(rng, x, p, keepdim):
    assert_matches_torch(
        lambda a, b: F.pairwise_distance(a, b, p=p, keepdim=keepdim),
        lambda a, b: TF.pairwise_distance(a, b, p=p, keepdim=keepdim),
        x, rng.standard_normal((1, 4)),
    )


def test_pairwise_distance_values_and_errors():
    d = F.pairwise_distance(cr.tensor([[3.0, 4.0]]), cr.tensor([[0.0, 0.0]]), eps=0.0)
    np.testing.assert_allclose(d.data, [5.0])
    with pytest.raises(ValueError, match=r"pairwise_distance: x1 of shape \(2, 3\) and x2 of"):
        F.pairwise_distance(cr.randn(2, 3), cr.randn(2, 4))


# ------------------------------------------------------- common validation
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "kl_div"])
def test_shape_mismatch_names_both_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}: target shape \(4,\) differs from input "
                                         rf"shape \(4, 1\)"):
        getattr(F, name)(cr.rand(4, 1), cr.rand(4))


@pytest.mark.parametrize("name", ["mse_loss", "binary_cross_entropy_with_logits", "nll_loss",
                                  "kl_div", "cosine_embedding_loss"])
def test_bad_reduction(name):
    args = {"nll_loss": (cr.rand(2, 3), cr.tensor([0, 1])),
            "cosine_embedding_loss": (cr.rand(2, 3), cr.rand(2, 3), cr.tensor([1, -1]))}
    with pytest.raises(ValueError, match=rf"{name}: reduction must be one of"):
        getattr(F, name)(*args.get(name, (cr.rand(2), cr.rand(2))), reduction="avg")


def test_weight_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to "
                                         r"the input shape \(2, 4\)"):
        F.binary_cross_entropy_with_logits(cr.rand(2, 4), cr.rand(2, 4),
                                           pos_weight=cr.tensor([1.0, 2.0, 3.0]))


def test_float32_stays_float32(rng):
    x = cr.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    y = cr.tensor(rng.random((4, 3)).astype(np.float32))
    w = cr.tensor(np.array([1.0, 2.0, 3.0]))  # float64 weights are cast to the input's dtype
    losses = [
        F.mse_loss(x, y), F.l1_loss(x, y), F.binary_cross_entropy(F.sigmoid(x), y, weight=w),
        F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
        F.cross_entropy(x, cr.tensor([0, 1, 2, 0]), weight=w, label_smoothing=0.1),
        F.cross_entropy(x, y, weight=w), F.nll_loss(x, cr.tensor([0, 1, 2, 0]), weight=w),
        F.kl_div(x, y, reduction="batchmean"), F.cosine_similarity(x, y).sum(),
        F.cosine_embedding_loss(x, y, cr.tensor([1, -1, 1, 1])), F.pairwise_distance(x, y).sum(),
    ]
    for loss in losses:
        assert loss.dtype == np.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32


# --------------------------------------------------------- finite differences
@pytest.mark.parametrize("fn", [
    lambda z, t: F.binary_cross_entropy_with_logits(z, t.sigmoid(), pos_weight=cr.tensor([2.0])),
    lambda z, t: F.cross_entropy(z, t.softmax(1), label_smoothing=0.2),
    lambda z, t: F.cross_entropy(z, cr.tensor([0, 2, 1]), label_smoothing=0.2,
                                 weight=cr.tensor([1.0, 2.0, 3.0], dtype=np.float64)),
    lambda z, t: F.kl_div(z.log_softmax(1), t.softmax(1), reduction="batchmean"),
    lambda z, t: F.cosine_similarity(z, t),
    lambda z, t: F.cosine_embedding_loss(z, t, cr.tensor([1, -1, -1]), margin=-0.5),
    lambda z, t: F.pairwise_distance(z, t, p=3.0),
])
def test_finite_differences(rng, fn):
    z = cr.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    t = cr.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert gradcheck(fn, [z, t])


def test_plain_arrays_and_lists_are_accepted_as_targets():
    x = cr.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], requires_grad=True)
    cases = [
        (F.cross_entropy(x, [2, 0]), F.cross_entropy(x, cr.tensor([2, 0]))),
        (F.mse_loss(x, np.ones((2, 3), np.float32)), F.mse_loss(x, cr.ones(2, 3))),
        (F.binary_cross_entropy_with_logits(x, [[1, 0, 1], [0, 0, 1]]),
         F.binary_cross_entropy_with_logits(x, cr.tensor([[1.0, 0, 1], [0, 0, 1]]))),
    ]
    for loss, reference in cases:
        assert loss.dtype == np.float32
        assert loss.item() == reference.item()


def test_regression_weight_must_match_input_shape():
    with pytest.raises(ValueError, match=r"mse_loss: weight shape \(2,\) differs from input "
                                         r"shape \(3, 2\)"):
        F.mse_loss(cr.rand(3, 2), cr.rand(3, 2), weight=cr.rand(2))


def test_weights_are_constants():
    """As in PyTorch, no gradient flows into weight or pos_weight."""
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.randn(2, 3, requires_grad=True)
    F.cross_entropy(x, cr.tensor([0, 2]), weight=w).backward()
    F.binary_cross_entropy_with_logits(x, cr.rand(2, 3), weight=w, pos_weight=w).backward()
    assert w.grad is None and x.grad is not None
