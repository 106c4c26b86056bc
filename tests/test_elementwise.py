"""Elementwise ops against PyTorch (float64, random upstream gradient), with
broadcasting shapes and NumPy/Python operands on both sides."""

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr

SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
def test_binary_broadcasting_matches_torch(name, shapes, rng):
    a, b = _positive(rng, shapes[0]), _positive(rng, shapes[1])
    op = BINARY[name]
    assert_matches_torch(op, op, a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_python_scalar_on_both_sides(name, rng):
    a = _positive(rng, (3, 4))
    op = BINARY[name]
    assert_matches_torch(lambda x: op(x, 1.7), lambda x: op(x, 1.7), a)
    assert_matches_torch(lambda x: op(1.7, x), lambda x: op(1.7, x), a)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_with_ndarray_operand_on_both_sides(name, rng):
    a, c = _positive(rng, (3, 4)), _positive(rng, (4,))
    op = BINARY[name]
    assert_matches_torch(lambda x: op(x, c), lambda x: op(x, torch.tensor(c)), a)
    assert_matches_torch(lambda x: op(c, x), lambda x: op(torch.tensor(c), x), a)
    out = op(c, cr.tensor(a))  # ndarray on the left still gives a Tensor
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.data, op(c, a))


def test_ndarray_times_tensor_is_a_tensor_with_gradient(rng):
    c = rng.standard_normal(3)
    x = cr.tensor(rng.standard_normal(3), requires_grad=True)
    y = c * x
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad, c)


def test_numpy_scalar_does_not_promote_float32():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * np.float64(2.0), np.float64(2.0) * x, x + np.float32(1), x / np.int64(2)):
        assert y.dtype == np.float32
    np.testing.assert_allclose((np.float64(3.0) - x).data, [2.0, 1.0])
    assert cr.where(x > 1, x, np.float64(0)).dtype == np.float32
    assert x.clip(np.float64(0), np.float64(1.5)).dtype == np.float32
    assert cr.maximum(x, np.float64(1)).dtype == np.float32


def test_pow_with_tensor_exponent_and_scalar_base(rng):
    b = rng.standard_normal((3, 2))
    assert_matches_torch(lambda e: 2.5**e, lambda e: 2.5**e, b)
    assert_matches_torch(lambda x: x**3, lambda x: x**3, rng.standard_normal((4,)))
    assert_matches_torch(lambda x: x**-0.5, lambda x: x**-0.5, _positive(rng, (4,)))


def test_pow_edge_gradients_follow_torch():
    a = np.array([0.0, 2.0, 0.0])
    b = np.array([0.0, 0.0, 2.0])
    assert_matches_torch(lambda x, y: x**y, lambda x, y: x**y, a, b)


def test_neg_and_pos():
    x = np.array([1.5, -2.0, 3.0])
    assert_matches_torch(lambda t: -t, lambda t: -t, x)
    t = cr.tensor(x)
    assert (+t) is t


UNARY = {
    "exp": (lambda t: t.exp(), lambda t: t.exp(), "any"),
    "log": (lambda t: t.log(), lambda t: t.log(), "positive"),
    "sqrt": (lambda t: t.sqrt(), lambda t: t.sqrt(), "positive"),
    "abs": (lambda t: t.abs(), lambda t: t.abs(), "away"),
    "abs_builtin": (abs, abs, "away"),
    "relu": (lambda t: t.relu(), lambda t: t.relu(), "away"),
    "sigmoid": (lambda t: t.sigmoid(), lambda t: t.sigmoid(), "any"),
    "tanh": (lambda t: t.tanh(), lambda t: t.tanh(), "any"),
    "clip_both": (lambda t: t.clip(-0.5, 0.7), lambda t: t.clip(-0.5, 0.7), "away"),
    "clip_min": (lambda t: t.clip(min=-0.5), lambda t: t.clamp(min=-0.5), "away"),
    "clamp_max": (lambda t: t.clamp(max=0.3), lambda t: t.clamp(max=0.3), "away"),
    "sign": (lambda t: t.sign() * t, lambda t: t.sign() * t, "away"),
    "clone": (lambda t: t.clone() * 2, lambda t: t.clone() * 2, "any"),
}


def _unary_input(rng, kind, shape=(3, 5)):
    if kind == "positive":
        return _positive(rng, shape)
    x = rng.standard_normal(shape)
    if kind == "away":  # keep off the kinks at 0, -0.5, 0.3, 0.7
        x = np.where(np.abs(x) < 0.05, 0.5, x)
        for kink in (-0.5, 0.3, 0.7):
            x = np.where(np.abs(x - kink) < 0.05, kink + 0.1, x)
    return x


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, rng):
    f_cr, f_t, kind = UNARY[name]
    assert_matches_torch(f_cr, f_t, _unary_input(rng, kind))


def test_abs_gradient_at_zero_is_zero_like_torch():
    assert_matches_torch(lambda t: t.abs(), lambda t: t.abs(), np.array([0.0, -1.0, 2.0]))


def test_clip_gradient_is_one_at_the_bounds_like_torch():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert_matches_torch(lambda t: t.clip(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), x)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1), (1, 3))])
def test_maximum_minimum_match_torch(name, shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]) + 0.01
    assert_matches_torch(getattr(cr, name), getattr(torch, name), a, b)


def test_maximum_splits_ties_like_torch():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    assert_matches_torch(cr.maximum, torch.maximum, a, b)
    assert_matches_torch(cr.minimum, torch.minimum, a, b)


def test_maximum_with_scalar_operand(rng):
    a = rng.standard_normal((4,)) + 0.01
    out = cr.maximum(cr.tensor(a), 0.0)
    np.testing.assert_allclose(out.data, np.maximum(a, 0))
    assert_matches_torch(lambda t: cr.maximum(0.2 * t, t),
                         lambda t: torch.maximum(0.2 * t, t), a)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1))])
def test_where_matches_torch(shapes, rng):
    cond = rng.standard_normal(shapes[0]) > 0
    a, b = rng.standard_normal(shapes[1]), rng.standard_normal(shapes[2])
    assert_matches_torch(lambda x, y: cr.where(cond, x, y),
                         lambda x, y: torch.where(torch.tensor(cond), x, y), a, b)


def test_where_with_scalar_and_tensor_condition(rng):
    a = rng.standard_normal((3, 4))
    assert_matches_torch(lambda x: cr.where(x > 0, x, 0.0),
                         lambda x: torch.where(x > 0, x, 0.0), a)


def test_comparisons_give_bool_tensors_without_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result, expected in [
        (x > 2, [False, False, True]), (x >= 2, [False, True, True]),
        (x < 2, [True, False, False]), (x <= 2, [True, True, False]),
        (x == 2, [False, True, False]), (x != 2, [True, False, True]),
        (np.array([2.0, 2.0, 2.0]) < x, [False, False, True]),
        (x == cr.tensor([1.0, 0.0, 3.0]), [True, False, True]),
    ]:
        assert isinstance(result, cr.Tensor) and result.dtype == bool
        assert not result.requires_grad
        np.testing.assert_array_equal(result.data, expected)


def test_float32_stays_float32_through_ops():
    x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    y = ((x * 2.5 + 1) / 3 - 0.5) ** 2
    y = cr.maximum(y.exp().log().sqrt(), 0.1).clip(0.0, 10.0)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_astype_to_integer_carries_no_gradient():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad and x.long().dtype == np.int64
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_with_ndarray_on_either_side(name, rng):
    a, c = rng.standard_normal((3, 4)), rng.standard_normal((4,)) + 0.01
    f_cr, f_t = getattr(cr, name), getattr(torch, name)
    assert_matches_torch(lambda x: f_cr(x, c), lambda x: f_t(x, torch.tensor(c)), a)
    assert_matches_torch(lambda x: f_cr(c, x), lambda x: f_t(torch.tensor(c), x), a)


def test_where_with_ndarray_branches(rng):
    a, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    cond = a > 0.2
    assert_matches_torch(lambda x: cr.where(cond, c, x),
                         lambda x: torch.where(torch.tensor(cond), torch.tensor(c), x), a)
    assert_matches_torch(lambda x: cr.where(cond, x, c),
                         lambda x: torch.where(torch.tensor(cond), x, torch.tensor(c)), a)


def test_integer_tensors_with_float_results_give_float32_like_torch():
    count, labels = cr.tensor([3, 4]), cr.tensor([1, 0])
    for result, expected in [(count / 4, [0.75, 1.0]), (labels * 0.5, [0.5, 0.0]),
                             ((count == 3).sum() / 2, 0.5), (count**-1.0, [1 / 3, 0.25]),
                             (1.5 - labels, [0.5, 1.5])]:
        assert result.dtype == np.float32
        np.testing.assert_allclose(result.data, expected, rtol=1e-6)
    assert (count * 2).dtype == np.int64 and (count + 1).dtype == np.int64
    assert (count / np.array([2.0, 2.0])).dtype == np.float64  # a float64 array decides
