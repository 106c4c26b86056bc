"""Pooling and channel dropout against PyTorch (float64, random upstream gradient),
plus ties, NaN/-inf windows, finite differences, float32, reprs and bad input."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.check import gradcheck

SHAPES_2D = [(2, 3, 7, 9), (3, 8, 8), (1, 2, 6, 5)]
SHAPES_1D = [(2, 3, 11), (3, 8), (1, 2, 6)]

# (kernel_size, stride, padding, dilation): square and not, overlapping, strided past
# the kernel, padded, dilated; each runs with ceil_mode False and True
MAX_2D = [
    (2, None, 0, 1), (3, None, 0, 1), (2, 1, 0, 1), (3, 2, 1, 1), (3, 1, 1, 1), (2, 3, 0, 1),
    (3, 2, 1, 2), (2, 1, 1, 2), ((2, 3), (1, 2), (1, 1), 1), ((3, 2), 2, (1, 0), (1, 2)),
    (1, 2, 0, 1), (4, 3, 2, 1),
]
MAX_1D = [(2, None, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (4, 3, 2, 1), (2, 3, 1, 1), (5, 2, 0, 1)]


def ties(rng, shape):
    """Small integers: many windows hold their maximum more than once."""
    return rng.integers(-2, 3, shape).astype(np.float64)


def fits(size, kernel, padding, dilation):
    k, p, d = (np.broadcast_to(v, (len(size),)) for v in (kernel, padding, dilation))
    return all(n + 2 * pp >= dd * (kk - 1) + 1 for n, kk, pp, dd in zip(size, k, p, d))


# ---------------------------------------------------------------- max pooling
@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize("kernel, stride, padding, dilation", MAX_2D)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("values", ["normal", "ties"])
def test_max_pool2d_matches_torch(rng, shape, kernel, stride, padding, dilation, ceil_mode,
                                  values):
    if not fits(shape[-2:], kernel, padding, dilation):
        pytest.skip("kernel larger than the padded input")
    x = rng.standard_normal(shape) if values == "normal" else ties(rng, shape)
    args = (kernel, stride, padding, dilation, ceil_mode)
    assert_matches_torch(lambda t: F.max_pool2d(t, *args), lambda t: TF.max_pool2d(t, *args), x)
    out, idx = F.max_pool2d(cr.tensor(x), *args, return_indices=True)
    _, idx_t = TF.max_pool2d(torch.tensor(x), *args, return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == out.shape
    np.testing.assert_array_equal(idx.data, idx_t.numpy())


@pytest.mark.parametrize("shape", SHAPES_1D)
@pytest.mark.parametrize("kernel, stride, padding, dilation", MAX_1D)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool1d_matches_torch_with_ties_and_indices(rng, shape, kernel, stride, padding,
                                                        dilation, ceil_mode):
    if not fits(shape[-1:], kernel, padding, dilation):
        pytest.skip("kernel larger than the padded input")
    args = (kernel, stride, padding, dilation, ceil_mode)
    for x in (rng.standard_normal(shape), ties(rng, shape)):
        assert_matches_torch(
            lambda t: F.max_pool1d(t, *args), lambda t: TF.max_pool1d(t, *args), x
        )
        _, idx = F.max_pool1d(cr.tensor(x), *args, return_indices=True)
        np.testing.assert_array_equal(
            idx.data, TF.max_pool1d(torch.tensor(x), *args, return_indices=True)[1].numpy()
        )


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 1, 1), (2, 1, 0), (3, 2, 1)])
def test_max_pool_tie_sends_the_gradient_to_the_first_maximum(kernel, stride, padding):
    x = np.full((2, 3, 6, 6), 0.5)
    assert_matches_torch(
        lambda t: F.max_pool2d(t, kernel, stride, padding),
        lambda t: TF.max_pool2d(t, kernel, stride, padding), x,
    )
    # every window's gradient goes to one element: the gradient sums to the upstream's
    xc = cr.tensor(x, requires_grad=True)
    out = F.max_pool2d(xc, kernel, stride, padding)
    out.sum().backward()
    assert xc.grad.data.sum() == out.data.size
    if stride >= kernel:  # disjoint windows: exactly the top-left element of each
        expected = np.zeros_like(x)
        expected[..., ::stride, ::stride] = 1.0
        np.testing.assert_array_equal(xc.grad.data, expected[..., :6, :6])


def test_max_pool2d_2x2_on_a_known_tie():
    x = cr.tensor([[[[1.0, 3.0, 0.0, 0.0],
                     [3.0, 2.0, 0.0, 0.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(out.data, [[[[3.0, 0.0]]]])
    out.backward(cr.tensor([[[[10.0, 20.0]]]]))
    np.testing.assert_array_equal(x.grad.data, [[[[0, 10, 20, 0], [0, 0, 0, 0]]]])


@pytest.mark.parametrize("kernel, padding, dilation, ceil_mode",
                         [(2, 0, 1, False), (2, 1, 1, True), (3, 1, 2, False), (3, 1, 1, True)])
def test_max_pool2d_nan_and_minus_inf_windows_match_torch(rng, kernel, padding, dilation,
                                                          ceil_mode):
    ints = rng.integers(0, 2, (2, 3, 6, 6)).astype(float)
    cases = [
        np.where(rng.random(ints.shape) < 0.2, np.nan, ints),  # a NaN wins (the last one)
        np.where(rng.random(ints.shape) < 0.5, -np.inf, ints),  # windows of -inf and padding
        np.full((1, 1, 5, 5), -np.inf),
    ]
    args = (kernel, None, padding, dilation, ceil_mode)
    for x in cases:
        xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, idx = F.max_pool2d(xc, *args, return_indices=True)
        out_t, idx_t = TF.max_pool2d(xt, *args, return_indices=True)
        np.testing.assert_array_equal(out.data, out_t.detach().numpy())
        np.testing.assert_array_equal(idx.data, idx_t.numpy())
        upstream = rng.standard_normal(out.shape)
        out.backward(cr.tensor(upstream))
        out_t.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(xc.grad.data, xt.grad.numpy())


def test_max_pool_without_grad_gives_the_same_values(rng):
    x = ties(rng, (2, 3, 9, 9))
    with_grad = F.max_pool2d(cr.tensor(x, requires_grad=True), 3, 2, 1)
    with cr.no_grad():
        without = F.max_pool2d(cr.tensor(x, requires_grad=True), 3, 2, 1)
    assert not without.requires_grad
    np.testing.assert_array_equal(with_grad.data, without.data)


def test_max_pool_gradient_ignores_later_changes_of_the_input(rng):
    """Backward reads only the argmax it made, not x: changing x afterwards is harmless."""
    x = rng.standard_normal((2, 2, 4, 4))
    xc = cr.tensor(x, requires_grad=True)
    h = xc * 1.0
    out = F.max_pool2d(h, 2)
    expected_t = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(expected_t, 2).sum().backward()
    h.data[...] = 0.0
    out.sum().backward()
    np.testing.assert_array_equal(xc.grad.data, expected_t.grad.numpy())


# -------------------------------------------------------------- average pooling
AVG_2D = [(2, None, 0), (3, None, 0), (2, 1, 0), (3, 2, 1), (3, 1, 1), (2, 3, 0), (2, 2, 1),
          ((2, 3), (1, 2), (1, 1)), ((3, 2), 2, (1, 0)), (4, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize("kernel, stride, padding", AVG_2D)
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(rng, shape, kernel, stride, padding, ceil_mode,
                                  count_include_pad):
    if not fits(shape[-2:], kernel, padding, 1):
        pytest.skip("kernel larger than the padded input")
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    assert_matches_torch(
        lambda t: F.avg_pool2d(t, *args), lambda t: TF.avg_pool2d(t, *args),
        rng.standard_normal(shape),
    )


@pytest.mark.parametrize("divisor", [1, 3, 7])
def test_avg_pool2d_divisor_override_matches_torch(rng, divisor):
    x = rng.standard_normal((2, 3, 7, 7))
    assert_matches_torch(
        lambda t: F.avg_pool2d(t, 3, 2, 1, True, True, divisor),
        lambda t: TF.avg_pool2d(t, 3, 2, 1, True, True, divisor), x,
    )


@pytest.mark.parametrize("shape", SHAPES_1D)
@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), (3, 1, 1),
                                                     (4, 3, 2), (2, 3, 1), (5, 2, 0)])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool1d_matches_torch(rng, shape, kernel, stride, padding, ceil_mode,
                                  count_include_pad):
    if not fits(shape[-1:], kernel, padding, 1):
        pytest.skip("kernel larger than the padded input")
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    assert_matches_torch(
        lambda t: F.avg_pool1d(t, *args), lambda t: TF.avg_pool1d(t, *args),
        rng.standard_normal(shape),
    )


def test_avg_pool2d_ceil_mode_divisor_on_ones():
    """torch's divisor: padding counts, the part of a window past the padding does not."""
    out = F.avg_pool2d(cr.ones(1, 1, 5, 5), 2, padding=1, ceil_mode=True)
    np.testing.assert_allclose(out.data[0, 0], [[0.25, 0.5, 0.5], [0.5, 1, 1], [0.5, 1, 1]])
    out = F.avg_pool2d(cr.ones(1, 1, 5, 5), 2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out.data, 1.0)


# ------------------------------------------------------------ adaptive pooling
@pytest.mark.parametrize("shape, output_size", [
    ((2, 3, 7, 9), (3, 4)), ((2, 3, 7, 9), 1), ((3, 8, 8), (None, 3)), ((2, 3, 5, 5), (7, 8)),
    ((2, 3, 6, 6), (2, 3)), ((1, 2, 10, 7), 4), ((2, 1, 4, 6), (4, None)),
    ((2, 3, 5, 6), (1, None)), ((2, 3, 5, 6), (None, 1)), ((3, 5, 6), 1),
])
def test_adaptive_avg_pool2d_matches_torch(rng, shape, output_size):
    assert_matches_torch(
        lambda t: F.adaptive_avg_pool2d(t, output_size),
        lambda t: TF.adaptive_avg_pool2d(t, output_size), rng.standard_normal(shape),
    )


@pytest.mark.parametrize("shape, output_size", [((2, 3, 7), 3), ((3, 8), 5), ((3, 8), 1),
                                                ((2, 2, 5), 9), ((2, 3, 12), (4,))])
def test_adaptive_avg_pool1d_matches_torch(rng, shape, output_size):
    assert_matches_torch(
        lambda t: F.adaptive_avg_pool1d(t, output_size),
        lambda t: TF.adaptive_avg_pool1d(t, output_size), rng.standard_normal(shape),
    )


def test_adaptive_avg_pool2d_to_one_is_the_mean_and_spreads_the_gradient_evenly(rng):
    x = cr.tensor(rng.standard_normal((2, 3, 4, 5)), requires_grad=True)
    out = F.adaptive_avg_pool2d(x, 1)
    np.testing.assert_allclose(out.data, x.data.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    out.backward(cr.ones(2, 3, 1, 1, dtype=np.float64))
    np.testing.assert_allclose(x.grad.data, 1 / 20, rtol=1e-12)


# ------------------------------------------------------------ finite differences
def distinct(rng, shape):
    """Values 0.1 apart in random order: no ties within a finite-difference step."""
    return cr.tensor(rng.permutation(np.prod(shape)).reshape(shape) * 0.1, dtype=np.float64,
                     requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda t: F.max_pool2d(t, 2),
    lambda t: F.max_pool2d(t, 3, 2, 1, 2, True),
    lambda t: F.max_pool2d(t, (2, 3), 1, (1, 1)),
    lambda t: F.max_pool1d(t.reshape(2, 3, 20), 3, 2, 1),
    lambda t: F.avg_pool2d(t, 3, 2, 1, True, False),
    lambda t: F.avg_pool2d(t, 2, 1),
    lambda t: F.avg_pool1d(t.reshape(2, 3, 20), 4, 3, 2, True),
    lambda t: F.adaptive_avg_pool2d(t, (3, 2)),
    lambda t: F.adaptive_avg_pool1d(t.reshape(6, 20), 7),
])
def test_pool_gradcheck(rng, fn):
    assert gradcheck(fn, [distinct(rng, (2, 3, 4, 5))])


# ---------------------------------------------------------------------- float32
@pytest.mark.parametrize("fc, ft", [
    (lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2)),
    (lambda t: F.max_pool2d(t, 3, 2, 1), lambda t: TF.max_pool2d(t, 3, 2, 1)),
    (lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2)),
    (lambda t: F.avg_pool2d(t, 3, 2, 1, True), lambda t: TF.avg_pool2d(t, 3, 2, 1, True)),
    (lambda t: F.adaptive_avg_pool2d(t, 3), lambda t: TF.adaptive_avg_pool2d(t, 3)),
    (lambda t: F.max_pool1d(t[:, 0], 2), lambda t: TF.max_pool1d(t[:, 0], 2)),
])
def test_float32_in_float32_out_and_gradient(rng, fc, ft):
    x = rng.standard_normal((4, 3, 14, 14)).astype(np.float32)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = fc(xc), ft(xt)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(cr.tensor(upstream))
    out_t.backward(torch.tensor(upstream))
    assert xc.grad.dtype == np.float32 and xc.grad.shape == x.shape
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------- modules
@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
    lambda nn: nn.MaxPool2d((2, 3), (1, 2), (1, 1)),
    lambda nn: nn.MaxPool1d(3, 2, 1),
    lambda nn: nn.AvgPool2d(2),
    lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda nn: nn.AvgPool2d((3, 2), divisor_override=2),
    lambda nn: nn.AvgPool1d(3),
    lambda nn: nn.AvgPool1d(4, 3, 2, True, False),
    lambda nn: nn.AdaptiveAvgPool2d(1),
    lambda nn: nn.AdaptiveAvgPool2d((None, 3)),
    lambda nn: nn.AdaptiveAvgPool2d((2, 3)),
    lambda nn: nn.AdaptiveAvgPool1d(4),
])
def test_pool_modules_match_torch_and_their_repr(rng, make):
    layer, layer_t = make(nn), make(torch.nn)
    assert repr(layer) == repr(layer_t)
    one_d = "1d" in type(layer).__name__
    x = rng.standard_normal((2, 3, 9) if one_d else (2, 3, 9, 8))
    assert_matches_torch(layer, layer_t, x)
    assert list(layer.parameters()) == []


def test_max_pool_module_return_indices(rng):
    x = ties(rng, (2, 3, 8, 8))
    out, idx = nn.MaxPool2d(2, return_indices=True)(cr.tensor(x))
    out_t, idx_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(out.data, out_t.numpy())
    np.testing.assert_array_equal(idx.data, idx_t.numpy())


def test_pool_reprs_equal_torch_for_default_and_tuple_arguments():
    for args in [(2,), (3, 1), ((2, 2), (2, 1), (1, 0))]:
        for name in ("MaxPool2d", "MaxPool1d", "AvgPool2d", "AvgPool1d"):
            if "1d" in name and isinstance(args[0], tuple):
                continue
            assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    assert repr(nn.MaxPool2d(2)) == (
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
    assert repr(nn.Dropout2d()) == repr(torch.nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"
    assert repr(nn.Dropout2d(0.2, True)) == repr(torch.nn.Dropout2d(0.2, True))


def test_pool_module_in_a_sequential_with_a_linear_head(rng):
    model = nn.Sequential(nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(3, 2))
    x = cr.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32), requires_grad=True)
    model(x).sum().backward()
    assert x.grad.shape == x.shape and np.count_nonzero(x.grad.data) == 4 * 3 * 16


# ------------------------------------------------------------------- dropout2d
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    cr.manual_seed(0)
    x = cr.tensor(np.random.default_rng(0).uniform(1, 2, (64, 32, 5, 4)), dtype=np.float64,
                  requires_grad=True)
    p = 0.3
    out = F.dropout2d(x, p)
    kept = (out.data != 0).reshape(64, 32, -1)
    assert (kept.all(axis=2) | ~kept.any(axis=2)).all(), "a channel is either kept or zeroed"
    channel_kept = kept[..., 0]
    assert abs(1 - channel_kept.mean() - p) < 0.04  # 2048 channels: sd ≈ 0.01
    np.testing.assert_allclose(out.data[channel_kept], x.data[channel_kept] / (1 - p))
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(cr.tensor(upstream))
    scale = channel_kept[..., None, None] / (1 - p)
    np.testing.assert_allclose(x.grad.data, upstream * scale)


def test_dropout2d_expectation_is_unchanged():
    cr.manual_seed(3)
    x = cr.ones(400, 50, 2, 2)
    assert abs(F.dropout2d(x, 0.5).data.mean() - 1.0) < 0.03


def test_dropout2d_eval_identity_and_edge_probabilities():
    x = cr.randn(4, 3, 2, 2)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).data, 0.0)
    layer = nn.Dropout2d(0.5)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x.data)
    layer.train()
    cr.manual_seed(1)
    assert (layer(cr.ones(8, 16, 3, 3)).data == 0).any()


def test_dropout2d_same_seed_same_masks():
    x = cr.randn(8, 16, 3, 3)
    cr.manual_seed(42)
    a = F.dropout2d(x, 0.4).data
    b = nn.Dropout2d(0.4)(x).data
    cr.manual_seed(42)
    np.testing.assert_array_equal(F.dropout2d(x, 0.4).data, a)
    np.testing.assert_array_equal(nn.Dropout2d(0.4)(x).data, b)
    assert not np.array_equal(a, b)
    gen = np.random.default_rng(7)
    c = F.dropout2d(x, 0.4, generator=gen).data
    np.testing.assert_array_equal(c, F.dropout2d(x, 0.4, generator=np.random.default_rng(7)).data)


def test_dropout2d_on_3d_input_drops_rows_as_torch_and_warns():
    """torch 2.x takes a 3-D input as (N, C, L): one draw per (n, c), with a warning."""
    x = cr.ones(6, 40, 5)
    with pytest.warns(UserWarning, match=r"3-D input.*\(N, C, L\)"):
        out = F.dropout2d(x, 0.5)
    rows = out.data
    assert ((rows == 0).all(axis=2) | (rows == 2).all(axis=2)).all()
    assert 0 < (rows[..., 0] == 0).mean() < 1
    with pytest.warns(UserWarning, match=r"3D input.*\(N, C, L\)"):
        torch_rows = TF.dropout2d(torch.ones(6, 40, 5), 0.5).numpy()
    assert ((torch_rows == 0).all(axis=2) | (torch_rows == 2).all(axis=2)).all()
    with pytest.warns(UserWarning, match="2-D input"):
        F.dropout2d(cr.ones(4, 5), 0.5)
    with pytest.raises(ValueError, match=r"dropout2d: expected .* got shape \(5,\)"):
        F.dropout2d(cr.ones(5), 0.5)


def test_dropout2d_rejects_a_bad_probability():
    with pytest.raises(ValueError, match="dropout2d: probability p must be between 0 and 1"):
        F.dropout2d(cr.ones(2, 2, 2, 2), 1.5)
    with pytest.raises(ValueError, match="Dropout2d"):
        nn.Dropout2d(-0.1)


def test_dropout2d_4d_input_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(cr.ones(2, 3, 4, 4), 0.5)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.max_pool2d(cr.zeros(1, 1, 4, 4), 5), ValueError,
     r"max_pool2d: input of shape \(1, 1, 4, 4\) is too small.*\(5, 5\).*\(4, 4\)"),
    (lambda: F.avg_pool2d(cr.zeros(2, 3, 3, 8), (4, 2)), ValueError,
     r"avg_pool2d: input of shape \(2, 3, 3, 8\) is too small"),
    (lambda: F.max_pool2d(cr.zeros(1, 1, 9, 9), 3, dilation=5), ValueError,
     r"max_pool2d: .*dilation \(5, 5\), so \(11, 11\) wide.*\(9, 9\)"),
    (lambda: F.max_pool1d(cr.zeros(1, 1, 3), 4), ValueError,
     r"max_pool1d: input of shape \(1, 1, 3\) is too small"),
    (lambda: F.max_pool2d(cr.zeros(1, 1, 8, 8), 3, padding=2), ValueError,
     r"max_pool2d: padding 2 must be at most half of kernel_size 3"),
    (lambda: F.avg_pool1d(cr.zeros(1, 1, 8), 1, padding=1), ValueError,
     r"avg_pool1d: padding 1 must be at most half of kernel_size 1"),
    (lambda: F.max_pool2d(cr.zeros(4, 4), 2), ValueError,
     r"max_pool2d: expected a 4-D input \(N, C, H, W\) or a 3-D input \(C, H, W\), "
     r"got shape \(4, 4\)"),
    (lambda: F.avg_pool2d(cr.zeros(1, 1, 1, 4, 4), 2), ValueError,
     r"avg_pool2d: expected a 4-D input.*got shape \(1, 1, 1, 4, 4\)"),
    (lambda: F.max_pool1d(cr.zeros(4), 2), ValueError,
     r"max_pool1d: expected a 3-D input \(N, C, L\) or a 2-D input \(C, L\), got shape \(4,\)"),
    (lambda: F.adaptive_avg_pool2d(cr.zeros(4, 4), 2), ValueError,
     r"adaptive_avg_pool2d: expected a 4-D input.*got shape \(4, 4\)"),
    (lambda: F.max_pool2d(cr.zeros(1, 0, 4, 4), 2), ValueError,
     r"max_pool2d: expected an input .* no empty dimension except the batch, got shape"),
    (lambda: F.max_pool2d(cr.zeros(1, 1, 4, 4), 2, stride=0), ValueError,
     r"max_pool2d: stride must be positive, got stride=0"),
    (lambda: F.max_pool2d(cr.zeros(1, 1, 4, 4), (2, 2, 2)), TypeError,
     r"max_pool2d: kernel_size must be an int or a tuple of 2 ints, got \(2, 2, 2\)"),
    (lambda: F.avg_pool2d(cr.zeros(1, 1, 4, 4), 2, padding=-1), ValueError,
     r"avg_pool2d: padding must be non-negative"),
    (lambda: F.max_pool2d(cr.tensor(np.zeros((1, 1, 4, 4), dtype=np.int64)), 2), TypeError,
     r"max_pool2d: input must be a floating-point tensor, got dtype int64"),
    (lambda: F.avg_pool2d(cr.zeros(1, 1, 4, 4), 2, divisor_override=0), ValueError,
     r"avg_pool2d: divisor_override must not be zero"),
    (lambda: F.adaptive_avg_pool2d(cr.zeros(1, 1, 4, 4), (2, 2, 2)), ValueError,
     r"adaptive_avg_pool2d: output_size must be an int or a tuple of 2 ints"),
    (lambda: F.adaptive_avg_pool1d(cr.zeros(1, 1, 4), -1), ValueError,
     r"adaptive_avg_pool1d: output_size must be an int"),
])
def test_bad_input_raises_naming_the_op_and_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_torch_refuses_what_we_refuse():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        TF.max_pool2d(torch.zeros(1, 1, 4, 4), 5)
    with pytest.raises(RuntimeError, match="pad should be"):
        TF.max_pool2d(torch.zeros(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(RuntimeError, match="pad should be"):
        TF.avg_pool1d(torch.zeros(1, 1, 8), 1, padding=1)


def test_module_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"^MaxPool2d\(kernel_size=5.*max_pool2d: input of shape"):
        nn.MaxPool2d(5)(cr.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"^AvgPool1d\(.*avg_pool1d: expected a 3-D input"):
        nn.AvgPool1d(2)(cr.zeros(1, 1, 2, 4))
    with pytest.raises(ValueError, match=r"^AdaptiveAvgPool2d\(output_size=2\): adaptive"):
        nn.AdaptiveAvgPool2d(2)(cr.zeros(4))


def test_empty_batch_and_unbatched_inputs(rng):
    assert F.max_pool2d(cr.zeros(0, 3, 4, 4), 2).shape == (0, 3, 2, 2)
    assert F.avg_pool1d(cr.zeros(0, 3, 4), 2).shape == (0, 3, 2)
    for size in (1, 2):
        x = cr.zeros(0, 3, 4, 4, requires_grad=True)
        F.adaptive_avg_pool2d(x, size).sum().backward()
        assert x.grad.shape == (0, 3, 4, 4)
    x = rng.standard_normal((3, 6, 6))
    assert_matches_torch(lambda t: F.max_pool2d(t, 3, 2, 1), lambda t: TF.max_pool2d(t, 3, 2, 1),
                         x)
    assert_matches_torch(lambda t: F.adaptive_avg_pool2d(t, 4),
                         lambda t: TF.adaptive_avg_pool2d(t, 4), x)
