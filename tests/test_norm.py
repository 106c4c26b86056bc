"""Dropout, batch norm and layer norm against PyTorch and against their definitions."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import gradcheck

BN_SHAPES = [(6, 3), (4, 3, 5), (3, 2, 4, 5)]


# ------------------------------------------------------------------ batch norm
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_batch_norm_training_matches_torch(rng, shape, affine, momentum, eps):
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    mean0, var0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    cr_stats, t_stats = (mean0.copy(), var0.copy()), (torch.tensor(mean0), torch.tensor(var0))
    params = (rng.standard_normal(c), rng.standard_normal(c)) if affine else ()
    assert_matches_torch(
        lambda t, *p: F.batch_norm(t, *cr_stats, *p, training=True, momentum=momentum, eps=eps),
        lambda t, *p: TF.batch_norm(t, *t_stats, *p, training=True, momentum=momentum, eps=eps),
        x,
        *params,
    )
    np.testing.assert_allclose(cr_stats[0], t_stats[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr_stats[1], t_stats[1].numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_matches_torch(rng, shape, affine):
    c = shape[1]
    x = rng.standard_normal(shape)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    params = (rng.standard_normal(c), rng.standard_normal(c)) if affine else ()
    assert_matches_torch(
        lambda t, *p: F.batch_norm(t, mean, var, *p),
        lambda t, *p: TF.batch_norm(t, torch.tensor(mean), torch.tensor(var), *p),
        x,
        *params,
    )


def test_batch_norm_weight_only_and_bias_only_match_torch(rng):
    x, g = rng.standard_normal((5, 3, 4)), rng.standard_normal(3)
    assert_matches_torch(
        lambda t, w: F.batch_norm(t, None, None, weight=w, training=True),
        lambda t, w: TF.batch_norm(t, None, None, weight=w, training=True),
        x, g,
    )
    assert_matches_torch(
        lambda t, b: F.batch_norm(t, None, None, bias=b, training=True),
        lambda t, b: TF.batch_norm(t, None, None, bias=b, training=True),
        x, g,
    )


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_running_stats_follow_torch_over_several_steps(rng, shape):
    c = shape[1]
    running = (cr.zeros(c, dtype=np.float64), cr.ones(c, dtype=np.float64))  # Tensors
    t_running = (torch.zeros(c, dtype=torch.float64), torch.ones(c, dtype=torch.float64))
    data_ids = [id(running[0].data), id(running[1].data)]
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step
        y = F.batch_norm(cr.tensor(x), *running, training=True)
        t_y = TF.batch_norm(torch.tensor(x), *t_running, training=True)
        np.testing.assert_allclose(y.data, t_y.numpy(), rtol=1e-7, atol=1e-10)
    assert [id(running[0].data), id(running[1].data)] == data_ids  # updated in place
    np.testing.assert_allclose(running[0].data, t_running[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(running[1].data, t_running[1].numpy(), rtol=1e-12)
    # and evaluation then uses them
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(
        F.batch_norm(cr.tensor(x), *running).data,
        TF.batch_norm(torch.tensor(x), *t_running).numpy(),
        rtol=1e-7, atol=1e-10,
    )


def test_batch_norm_running_update_uses_the_unbiased_variance(rng):
    x = rng.standard_normal((5, 2))
    mean, var = np.zeros(2), np.ones(2)
    F.batch_norm(cr.tensor(x), mean, var, training=True, momentum=0.25)
    np.testing.assert_allclose(mean, 0.25 * x.mean(0), rtol=1e-14)
    np.testing.assert_allclose(var, 0.75 + 0.25 * x.var(0, ddof=1), rtol=1e-14)
    # the output itself is normalised with the biased variance
    y = F.batch_norm(cr.tensor(x), None, None, training=True, eps=0.0).data
    np.testing.assert_allclose(y, (x - x.mean(0)) / x.std(0), rtol=1e-12)


def test_batch_norm_float32_stays_float32(rng):
    x = cr.tensor(rng.standard_normal((4, 3, 2)).astype(np.float32), requires_grad=True)
    w, b = cr.ones(3, requires_grad=True), cr.zeros(3, requires_grad=True)
    mean, var = np.zeros(3, dtype=np.float32), np.ones(3, dtype=np.float32)
    for training in (True, False):
        y = F.batch_norm(x, mean, var, w, b, training=training)
        (y * y).sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32
        assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert mean.dtype == np.float32 and var.dtype == np.float32


def test_batch_norm_bad_input_raises_before_updating_stats():
    mean, var = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel"):
        F.batch_norm(cr.ones(1, 3), mean, var, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: weight of shape \(2,\)"):
        F.batch_norm(cr.ones(4, 3), mean, var, cr.ones(2), training=True)
    with pytest.raises(ValueError, match=r"running_var of shape \(4,\).*3 channels"):
        F.batch_norm(cr.ones(4, 3), mean, np.ones(4), training=True)
    with pytest.raises(TypeError, match="batch_norm: running_mean must be a floating"):
        F.batch_norm(cr.ones(4, 3), [0.0, 0.0, 0.0], var, training=True)
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(cr.ones(4, 3), None, None)
    with pytest.raises(ValueError, match=r"batch_norm: expected an input \(N, C, ...\)"):
        F.batch_norm(cr.ones(3), mean, var)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(var, 1.0)


# ------------------------------------------------------------------ layer norm
@pytest.mark.parametrize(
    "shape, normalized_shape",
    [((4, 5), 5), ((4, 5), (5,)), ((2, 3, 4), [3, 4]), ((2, 3, 4, 5), (3, 4, 5)), ((6,), 6)],
)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_layer_norm_matches_torch(rng, shape, normalized_shape, affine, eps):
    x = rng.standard_normal(shape) * 3 - 1
    pshape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        normalized_shape
    )
    params = (rng.standard_normal(pshape), rng.standard_normal(pshape)) if affine else ()
    assert_matches_torch(
        lambda t, *p: F.layer_norm(t, normalized_shape, *p, eps=eps),
        lambda t, *p: TF.layer_norm(t, pshape, *p, eps=eps),
        x,
        *params,
    )


def test_layer_norm_weight_only_matches_torch(rng):
    x, g = rng.standard_normal((3, 4)), rng.standard_normal(4)
    assert_matches_torch(
        lambda t, w: F.layer_norm(t, (4,), weight=w),
        lambda t, w: TF.layer_norm(t, (4,), weight=w),
        x, g,
    )


def test_layer_norm_normalises_each_sample():
    x = np.arange(12.0).reshape(3, 4) ** 2
    y = F.layer_norm(cr.tensor(x), 4, eps=0.0).data
    np.testing.assert_allclose(y.mean(1), 0, atol=1e-15)
    np.testing.assert_allclose(y.var(1), 1, rtol=1e-14)


def test_layer_norm_float32_stays_float32(rng):
    x = cr.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w, b = cr.ones(4, requires_grad=True), cr.zeros(4, requires_grad=True)
    y = F.layer_norm(x, 4, w, b)
    (y * y).sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_layer_norm_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end"):
        F.layer_norm(cr.ones(2, 3), (2,))
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(4,\)"):
        F.layer_norm(cr.ones(2, 3), 3, weight=cr.ones(4))


# --------------------------------------------------------------------- dropout
def test_dropout_statistics():
    x = cr.ones(400, 500)
    for p in (0.2, 0.5, 0.8):
        y = F.dropout(x, p, generator=np.random.default_rng(7)).data
        dropped = (y == 0).mean()
        assert abs(dropped - p) < 0.005, (p, dropped)
        np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)
        assert abs(y.mean() - 1.0) < 0.02  # the expectation is preserved


def test_dropout_output_is_reproducible_and_exact_for_a_seed(rng):
    x = rng.standard_normal((5, 6))
    y1 = F.dropout(cr.tensor(x), p=0.3, generator=np.random.default_rng(42)).data
    y2 = F.dropout(cr.tensor(x), p=0.3, generator=np.random.default_rng(42)).data
    np.testing.assert_array_equal(y1, y2)
    keep = np.random.default_rng(42).random((5, 6)) >= 0.3
    np.testing.assert_allclose(y1, x * keep / 0.7, rtol=1e-15, atol=0)
    cr.manual_seed(3)
    y3 = F.dropout(cr.tensor(x), p=0.3).data
    cr.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(cr.tensor(x), p=0.3).data, y3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_gradient_is_the_scaled_mask(rng, dtype):
    x = cr.tensor(rng.uniform(1, 2, (6, 7)).astype(dtype), requires_grad=True)
    y = F.dropout(x, p=0.4, generator=np.random.default_rng(0))
    upstream = rng.standard_normal((6, 7)).astype(dtype)
    (y * cr.tensor(upstream)).sum().backward()
    mask = (y.data != 0) / 0.6
    assert 0 < (y.data == 0).sum() < 42
    np.testing.assert_allclose(x.grad, upstream * mask, rtol=1e-6)
    np.testing.assert_allclose(y.data, x.data * mask, rtol=1e-6)
    assert y.dtype == x.grad.dtype == dtype


def test_dropout_identity_in_eval_or_p0_and_zeros_at_p1(rng):
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_dropout_rejects_bad_arguments():
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"dropout: probability p must be .* got {p}"):
            F.dropout(cr.ones(3), p)
    with pytest.raises(TypeError, match="dropout: generator must be a numpy.random.Generator"):
        F.dropout(cr.ones(3), 0.5, generator=42)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_passes_finite_difference_check(rng, training):
    x = cr.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(2), requires_grad=True)
    b = cr.tensor(rng.standard_normal(2), requires_grad=True)
    mean, var = rng.standard_normal(2), rng.uniform(0.5, 2, 2)
    assert gradcheck(
        lambda t, g, s: F.batch_norm(t, mean.copy(), var.copy(), g, s, training=training),
        [x, w, b],
    )


def test_layer_norm_passes_finite_difference_check(rng):
    x = cr.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    assert gradcheck(lambda t, g, s: F.layer_norm(t, (2, 4), g, s), [x, w, b])


def test_dropout_passes_finite_difference_check(rng):
    x = cr.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.dropout(t, 0.3, generator=np.random.default_rng(5)), [x])
