"""F.linear (x Wᵀ + b) against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F


@pytest.mark.parametrize("in_shape", [(5, 4), (2, 3, 4), (4,), (1, 4), (2, 2, 3, 4)])
def test_linear_with_bias_matches_torch(rng, in_shape):
    x, w, b = rng.standard_normal(in_shape), rng.standard_normal((3, 4)), rng.standard_normal(3)
    assert_matches_torch(F.linear, TF.linear, x, w, b)


@pytest.mark.parametrize("in_shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_without_bias_matches_torch(rng, in_shape):
    x, w = rng.standard_normal(in_shape), rng.standard_normal((3, 4))
    assert_matches_torch(F.linear, TF.linear, x, w)
    assert_matches_torch(
        lambda a, b: F.linear(a, b, bias=None), lambda a, b: TF.linear(a, b, bias=None), x, w
    )


def test_linear_values_and_gradients():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = cr.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], requires_grad=True)
    b = cr.tensor([0.5, -1.0, 0.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.data, [[1.5, 3.0, 3.0], [3.5, 7.0, 7.0]])
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 3.0], [2.0, 3.0]])  # Σ_out W
    np.testing.assert_array_equal(w.grad, [[4.0, 6.0]] * 3)  # Σ_batch x
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])  # batch size
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


def test_linear_gradient_only_for_inputs_that_need_it(rng):
    x = cr.tensor(rng.standard_normal((3, 4)))
    w = cr.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    F.linear(x, w, cr.zeros(2, dtype=cr.float64)).sum().backward()
    np.testing.assert_allclose(w.grad, np.tile(x.data.sum(0), (2, 1)), rtol=1e-6)
    assert x.grad is None


@pytest.mark.parametrize("input_dtype", [np.float64, np.int64])
def test_linear_refuses_an_input_of_another_dtype_than_its_weight(input_dtype):
    """torch: "mat1 and mat2 must have the same dtype"; never a silent promotion."""
    x = np.ones((2, 3), dtype=input_dtype)
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch.nn.Linear(3, 2)(torch.tensor(x))
    layer = nn.Linear(3, 2)
    message = (rf"Linear\(in_features=3, out_features=2, bias=True\): linear: .*input has "
               rf"dtype {np.dtype(input_dtype)}, weight has dtype float32, bias has dtype float32")
    with pytest.raises(TypeError, match=message):
        layer(cr.tensor(x))
    with pytest.raises(TypeError, match=rf"linear: .*dtype {np.dtype(input_dtype)}"):
        F.linear(cr.tensor(x), layer.weight)
    assert layer(cr.tensor(x, dtype=np.float32)).dtype == np.float32
    assert layer.double()(cr.tensor(np.ones((2, 3)))).dtype == np.float64


def test_matmul_refuses_operands_of_different_dtypes_like_torch():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.tensor(a) @ torch.tensor(b)
    with pytest.raises(TypeError, match="matmul: .*float32.*float64"):
        cr.tensor(a) @ cr.tensor(b)


def test_linear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not match weight"):
        F.linear(cr.ones(2, 5), cr.ones(3, 4))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4,\) does not match weight"):
        F.linear(cr.ones(2, 4), cr.ones(3, 4), cr.ones(4))
