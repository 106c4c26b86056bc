"""Matrix product against PyTorch: 2-D, vectors, batches and broadcast batches."""

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr

SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_matmul_matches_torch(sa, sb, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    assert_matches_torch(lambda x, y: x @ y, lambda x, y: x @ y, a, b)


def test_matmul_with_ndarray_on_either_side(rng):
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    assert_matches_torch(lambda x: x @ w, lambda x: x @ torch.tensor(w), a)
    assert_matches_torch(lambda y: a @ y, lambda y: torch.tensor(a) @ y, w)
    out = a @ cr.tensor(w)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.data, a @ w)


def test_matmul_only_one_side_requires_grad(rng):
    a = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((4, 2)))
    (a @ b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(a.grad, np.ones((3, 2)) @ b.data.T)


def test_matmul_float32():
    a = cr.randn(3, 4, requires_grad=True)
    b = cr.randn(4, 2, requires_grad=True)
    y = a @ b
    y.sum().backward()
    assert y.dtype == a.grad.dtype == b.grad.dtype == np.float32
