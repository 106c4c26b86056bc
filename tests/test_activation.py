"""Activations against PyTorch (float64, all input gradients) plus values and edge cases."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import gradcheck
from chainrule.ops.activation import erfc

SHAPES = [(7,), (4, 5), (2, 3, 4), (2, 3, 2, 3)]


def away_from_kink(rng, shape, scale=2.0):
    """Random values at least 0.05 away from 0, where the piecewise activations bend."""
    x = rng.standard_normal(shape) * scale
    return np.where(np.abs(x) < 0.05, np.sign(x + 1e-12) * 0.05 + x, x)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "name, cr_fn, t_fn",
    [
        ("relu", F.relu, TF.relu),
        ("leaky_relu default", F.leaky_relu, TF.leaky_relu),
        ("leaky_relu 0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
        (
            "leaky_relu -0.5",
            lambda x: F.leaky_relu(x, negative_slope=-0.5),
            lambda x: TF.leaky_relu(x, negative_slope=-0.5),
        ),
        ("elu default", F.elu, TF.elu),
        ("elu 0.5", lambda x: F.elu(x, alpha=0.5), lambda x: TF.elu(x, alpha=0.5)),
        ("elu 2", lambda x: F.elu(x, 2.0), lambda x: TF.elu(x, 2.0)),
        ("gelu", F.gelu, TF.gelu),
        (
            "gelu tanh",
            lambda x: F.gelu(x, approximate="tanh"),
            lambda x: TF.gelu(x, approximate="tanh"),
        ),
        ("sigmoid", F.sigmoid, torch.sigmoid),
        ("tanh", F.tanh, torch.tanh),
        ("softplus default", F.softplus, TF.softplus),
    ],
)
def test_elementwise_activation_matches_torch(rng, shape, name, cr_fn, t_fn):
    assert_matches_torch(cr_fn, t_fn, away_from_kink(rng, shape))


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 20.0), (0.5, 5.0), (3.0, 1.0)])
def test_softplus_options_match_torch_on_both_sides_of_threshold(rng, beta, threshold):
    x = rng.uniform(-30, 30, (6, 7))  # some of β x above the threshold, some below
    assert (x * beta > threshold).any() and (x * beta < threshold).any()
    assert_matches_torch(
        lambda t: F.softplus(t, beta=beta, threshold=threshold),
        lambda t: TF.softplus(t, beta=beta, threshold=threshold),
        x,
    )


def test_softplus_is_linear_above_threshold_and_smooth_below():
    x = cr.tensor([25.0, 10.0, -5.0], dtype=np.float64, requires_grad=True)
    y = F.softplus(x, beta=1.0, threshold=20.0)
    y.sum().backward()
    assert y.data[0] == 25.0 and x.grad[0] == 1.0
    np.testing.assert_allclose(y.data[1:], np.log1p(np.exp([10.0, -5.0])), rtol=1e-15)
    np.testing.assert_allclose(x.grad[1:], 1 / (1 + np.exp([-10.0, 5.0])), rtol=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("shared", [True, False])
def test_prelu_matches_torch_including_weight_gradient(rng, shape, shared):
    channels = shape[1] if len(shape) >= 2 else 1
    weight = rng.uniform(-0.5, 0.8, (1,) if shared else (channels,))
    assert_matches_torch(F.prelu, TF.prelu, away_from_kink(rng, shape), weight)


def test_prelu_scalar_weight_matches_torch(rng):
    assert_matches_torch(F.prelu, TF.prelu, away_from_kink(rng, (3, 4)), np.array(0.3))


def test_prelu_rejects_weight_not_matching_channels():
    x = cr.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"prelu: weight of shape \(2,\).*\(2, 3, 4\)"):
        F.prelu(x, cr.zeros(2))
    with pytest.raises(ValueError, match="prelu: weight must be a scalar or 1-D"):
        F.prelu(x, cr.zeros(1, 3))
    with pytest.raises(ValueError, match="expected 1 or 1"):
        F.prelu(cr.zeros(5), cr.zeros(5))


@pytest.mark.parametrize("shape, dim", [((6,), 0), ((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1),
                                        ((2, 3, 4), 1), ((2, 3, 2, 3), 2)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_family_matches_torch(rng, shape, dim, fn):
    x = rng.standard_normal(shape) * 3
    assert_matches_torch(
        lambda t: getattr(F, fn)(t, dim), lambda t: getattr(TF, fn)(t, dim), x
    )
    assert_matches_torch(
        lambda t: getattr(F, fn)(t, dim=dim), lambda t: getattr(TF, fn)(t, dim=dim), x
    )


def test_softmax_needs_a_valid_dim():
    x = cr.zeros(2, 3)
    with pytest.raises(TypeError, match="softmax: dim must be given"):
        F.softmax(x)
    with pytest.raises(IndexError, match=r"log_softmax: dim 2 is out of range for shape \(2, 3\)"):
        F.log_softmax(x, 2)


INF = float("inf")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("rows", [
    [[0.0, -INF, 1.0]],
    [[-INF, -INF, -INF], [1.0, 2.0, -INF]],
    [[0.0, INF, 1.0], [INF, INF, 1.0]],
    [[0.0, float("nan"), 1.0]],
], ids=["one -inf", "a row of -inf", "+inf", "nan"])
def test_softmax_with_infinities_matches_torch(name, rows):
    """-inf masks an entry (probability 0); a row of -inf or with +inf is NaN, as torch."""
    assert_matches_torch(lambda t: getattr(F, name)(t, 1), lambda t: getattr(TF, name)(t, 1),
                         np.array(rows))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), 1),
                                        ((2, 0, 3), 1)])
def test_softmax_of_empty_tensors_matches_torch(name, shape, dim):
    """An empty input gives an empty output and gradient, as torch; no NumPy error."""
    assert_matches_torch(lambda t: getattr(F, name)(t, dim),
                         lambda t: getattr(TF, name)(t, dim), np.zeros(shape))


def test_derivatives_at_the_kink_follow_torch():
    x = cr.tensor([0.0, 0.0], dtype=np.float64, requires_grad=True)
    expected = {
        "relu": (F.relu(x), 0.0),
        "leaky_relu": (F.leaky_relu(x, 0.2), 0.2),
        "elu": (F.elu(x, alpha=0.5), 0.5),
        "prelu": (F.prelu(x, cr.tensor([0.3], dtype=np.float64)), 0.3),
    }
    for name, (y, slope) in expected.items():
        x.grad = None
        (y * cr.tensor([1.0, 2.0], dtype=np.float64)).sum().backward()
        np.testing.assert_array_equal(x.grad, [slope, 2 * slope], err_msg=name)
        np.testing.assert_array_equal(y.data, [0.0, 0.0], err_msg=name)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(cr.zeros(3), approximate="erf")


def test_erfc_reaches_float64_precision():
    x = np.concatenate([np.linspace(-6, 26, 6401), [0.0, 1e-300, -1e-8, 1.5, -1.5]])
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), expected, rtol=5e-14, atol=0)
    np.testing.assert_array_equal(erfc(np.array([np.inf, -np.inf, 30.0, -30.0])), [0, 2, 0, 2])
    assert np.isnan(erfc(np.array([np.nan]))).all()


def test_gelu_matches_torch_over_a_wide_range():
    x = np.linspace(-9, 9, 1801)
    # torch computes 1 + erf(x/√2), which cancels in the left tail; compare absolutely there.
    assert_matches_torch(F.gelu, TF.gelu, x, rtol=1e-7, atol=1e-14)
    assert_matches_torch(
        lambda t: F.gelu(t, approximate="tanh"), lambda t: TF.gelu(t, approximate="tanh"), x
    )


@pytest.mark.parametrize(
    "fn",
    [
        F.relu,
        F.leaky_relu,
        F.elu,
        F.gelu,
        lambda x: F.gelu(x, approximate="tanh"),
        F.sigmoid,
        F.tanh,
        F.softplus,
        lambda x: F.softmax(x, 1),
        lambda x: F.log_softmax(x, 1),
        lambda x: F.prelu(x, cr.tensor([0.25, 0.5, 0.75], requires_grad=True)),
    ],
)
def test_float32_stays_float32(rng, fn):
    x = cr.tensor(away_from_kink(rng, (4, 3)).astype(np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    (y * cr.tensor(rng.standard_normal((4, 3)).astype(np.float32))).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_give_finite_values_and_gradients(dtype):
    values = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    upstream = cr.tensor(np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]], dtype=dtype))
    expected = {
        "sigmoid": (F.sigmoid, [[1, 0, 0.5], [0, 0, 1]]),
        "softplus": (F.softplus, [[1e4, 0, math.log(2)], [0, 0, 1e4]]),
        "softmax": (lambda t: F.softmax(t, 1), [[1, 0, 0], [0, 0, 1]]),
        "log_softmax": (lambda t: F.log_softmax(t, 1), [[0, -2e4, -1e4], [-2e4, -2e4, 0]]),
    }
    for name, (fn, value) in expected.items():
        x = cr.tensor(values, requires_grad=True)
        y = fn(x)
        (y * upstream).sum().backward()
        assert y.dtype == dtype and x.grad.dtype == dtype, name
        assert np.isfinite(y.data).all() and np.isfinite(x.grad).all(), name
        np.testing.assert_allclose(y.data, value, rtol=1e-6, atol=1e-30, err_msg=name)
        # the same gradients as torch, extreme inputs included
        tx = torch.tensor(values, requires_grad=True)
        t_fn = {"sigmoid": torch.sigmoid, "softplus": TF.softplus,
                "softmax": lambda t: TF.softmax(t, 1),
                "log_softmax": lambda t: TF.log_softmax(t, 1)}[name]
        (t_fn(tx) * torch.tensor(upstream.data)).sum().backward()
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-30, err_msg=name)


def test_sigmoid_keeps_relative_precision_in_the_left_tail():
    x = np.array([-30.0, -100.0, -700.0])
    y = F.sigmoid(cr.tensor(x, dtype=np.float64)).data
    np.testing.assert_allclose(y, np.exp(x) / (1 + np.exp(x)), rtol=1e-14)


def test_activation_values():
    x = cr.tensor([-2.0, -0.5, 0.5, 3.0], dtype=np.float64)
    np.testing.assert_array_equal(F.relu(x).data, [0, 0, 0.5, 3])
    np.testing.assert_allclose(F.leaky_relu(x).data, [-0.02, -0.005, 0.5, 3], rtol=1e-15)
    np.testing.assert_allclose(F.elu(x).data, [math.expm1(-2), math.expm1(-0.5), 0.5, 3])
    gelu = [v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.data]
    np.testing.assert_allclose(F.gelu(x).data, gelu, rtol=1e-14)
    np.testing.assert_allclose(F.tanh(x).data, np.tanh(x.data), rtol=1e-15)



@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: F.elu(x, alpha=0.7),
        F.gelu,
        lambda x: F.gelu(x, approximate="tanh"),
        F.sigmoid,
        F.tanh,
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: F.softmax(x, 1),
        lambda x: F.log_softmax(x, 0),
    ],
)
def test_activations_pass_finite_difference_check(rng, fn):
    assert gradcheck(fn, [cr.tensor(away_from_kink(rng, (3, 4)), requires_grad=True)])


def test_prelu_passes_finite_difference_check(rng):
    x = cr.tensor(away_from_kink(rng, (2, 3, 4)), requires_grad=True)
    assert gradcheck(F.prelu, [x, cr.tensor(rng.uniform(-0.5, 0.5, 3), requires_grad=True)])


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
                                          ("elu", {"alpha": 0.7})])
def test_inplace_flag_accepted_with_torchs_values(name, kwargs, rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    out = getattr(F, name)(cr.tensor(x), inplace=True, **kwargs)
    expected = getattr(torch.nn.functional, name)(torch.tensor(x), inplace=True, **kwargs)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(x, before)  # chainrule returns a new tensor
