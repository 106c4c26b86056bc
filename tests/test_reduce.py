"""Reductions against PyTorch: every dim/keepdim variant, ties avoided for max/min."""

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr

DIM_KEEPDIM = [(None, False)] + [
    (dim, keepdim) for dim in (0, 1, -1, (0, 2), (-1, 0)) for keepdim in (False, True)
]


@pytest.mark.parametrize("name", ["sum", "mean"])
@pytest.mark.parametrize("dim, keepdim", DIM_KEEPDIM)
def test_sum_mean(name, dim, keepdim, rng):
    x = rng.standard_normal((2, 3, 4))

    def f(t):
        if dim is None:
            return getattr(t, name)()
        return getattr(t, name)(dim=dim, keepdim=keepdim)

    assert_matches_torch(f, f, x)


def test_sum_positional_dim_and_list_dim(rng):
    x = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda t: t.sum(1), lambda t: t.sum(1), x)
    assert_matches_torch(lambda t: t.mean([0, 1], True), lambda t: t.mean([0, 1], True), x)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (0, True), (-1, True),
                                           ((0, 1), False), ((0, 1), True)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var(dim, keepdim, correction, rng):
    x = rng.standard_normal((3, 4, 3))

    def f(t):
        return t.var(dim=dim, correction=correction, keepdim=keepdim)

    assert_matches_torch(f, f, x)


def test_var_std_unbiased_spellings(rng):
    x = rng.standard_normal((4, 3))
    for f in (lambda t: t.var(0, unbiased=False), lambda t: t.var(0, True, True),
              lambda t: t.var(), lambda t: t.std(1), lambda t: t.std(0, unbiased=False),
              lambda t: t.var(1, keepdim=True, correction=0)):
        assert_matches_torch(f, f, x)


def test_var_of_one_element_is_nan_like_torch():
    x = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    with np.errstate(all="ignore"):
        v = x.var()
        v.backward()
    assert np.isnan(v.item()) and np.isnan(x.grad[0])


CONSTANT_ROWS = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0], [5.0, 5.0, 5.0]])


@pytest.mark.parametrize("call", [
    lambda t: t.std(),
    lambda t: t.std(dim=1),
    lambda t: t.std(dim=0, keepdim=True),
    lambda t: t.std(dim=1, unbiased=False),
    lambda t: t.std(dim=(0, 1), correction=0),
], ids=["all", "dim 1", "dim 0 keepdim", "biased", "dims (0, 1)"])
def test_std_of_constant_values_has_zero_gradient_like_torch(call):
    """d std/dx is (x - μ)/((N - c) std): 0/0 at a constant, where torch gives 0, not NaN."""
    assert_matches_torch(call, call, CONSTANT_ROWS)
    assert_matches_torch(call, call, np.ones((3, 3)))


def test_std_of_ones_backward_gives_zeros():
    x = cr.ones(4, requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4, dtype=np.float32))
    assert x.grad.dtype == np.float32


def test_std_with_no_degrees_of_freedom_is_nan_like_torch():
    x = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    with np.errstate(all="ignore"):
        s = x.std()
        s.backward()
    assert np.isnan(s.item()) and np.isnan(x.grad.data[0])
    y = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    y.std(unbiased=False).backward()  # N - c = 1: std 0, gradient 0
    assert y.grad.data[0] == 0.0


INF = float("inf")


@pytest.mark.parametrize("rows", [
    [[0.0, -INF, 1.0]],
    [[-INF, -INF, -INF], [1.0, 2.0, -INF]],
    [[0.0, INF, 1.0], [INF, INF, 1.0]],
], ids=["one -inf", "a row of -inf", "+inf"])
@pytest.mark.parametrize("dim", [1, (0, 1)])
def test_logsumexp_with_infinities_matches_torch(rows, dim):
    """-inf entries count as e⁻ᶦⁿᶠ = 0; all -inf gives -inf; +inf gives +inf (torch's)."""
    with np.errstate(invalid="ignore"):
        assert_matches_torch(lambda t: cr.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim),
                             np.array(rows))


@pytest.mark.parametrize("shape, dim", [((0,), 0), ((0, 3), 0), ((0, 3), 1), ((3, 0), 1),
                                        ((2, 0, 3), (0, 1, 2))])
def test_logsumexp_of_empty_tensors_matches_torch(shape, dim):
    """Over no elements the sum is 0 and the log -inf (torch); never a NumPy error."""
    with np.errstate(invalid="ignore"):  # the harness's Σ R ⊙ (-inf) is NaN
        assert_matches_torch(lambda t: cr.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim),
                             np.zeros(shape))


def _distinct(rng, shape):
    """Values with no ties: max/min have one argmax."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.1 + rng.uniform(0, 0.05, shape)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_return_values_and_indices(name, dim, keepdim, rng):
    x = _distinct(rng, (3, 4, 5))
    assert_matches_torch(lambda t: getattr(t, name)(dim, keepdim=keepdim).values,
                         lambda t: getattr(t, name)(dim, keepdim=keepdim).values, x)
    values, indices = getattr(cr.tensor(x), name)(dim, keepdim)
    expected = getattr(torch.tensor(x), name)(dim, keepdim)
    np.testing.assert_array_equal(indices.data, expected.indices.numpy())
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(values.data, expected.values.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_everything(name, rng):
    x = _distinct(rng, (3, 4))
    assert_matches_torch(lambda t: getattr(t, name)(), lambda t: getattr(t, name)(), x)


def test_max_of_everything_splits_ties_evenly_like_torch():
    x = np.array([[1.0, 3.0], [3.0, 0.5]])
    assert_matches_torch(lambda t: t.max(), lambda t: t.max(), x)


def test_argmax_argmin(rng):
    x = _distinct(rng, (3, 4))
    t, tt = cr.tensor(x), torch.tensor(x)
    np.testing.assert_array_equal(t.argmax(1).data, tt.argmax(1).numpy())
    np.testing.assert_array_equal(t.argmin(0, keepdim=True).data, tt.argmin(0, True).numpy())
    assert t.argmax().item() == tt.argmax().item()


@pytest.mark.parametrize("dim", [0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_logsumexp(dim, keepdim, rng):
    x = rng.standard_normal((3, 4)) * 3
    assert_matches_torch(lambda t: t.logsumexp(dim, keepdim),
                         lambda t: t.logsumexp(dim, keepdim), x)
    assert_matches_torch(lambda t: cr.logsumexp(t, dim, keepdim=keepdim),
                         lambda t: torch.logsumexp(t, dim, keepdim=keepdim), x)


def test_logsumexp_is_stable_for_huge_logits():
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4 + 2.0]])
    assert_matches_torch(lambda t: t.logsumexp(1), lambda t: t.logsumexp(1), x)
    y = cr.tensor(x, dtype=np.float32).logsumexp(1)
    assert np.all(np.isfinite(y.data))
    np.testing.assert_allclose(y.data, [1e4 + np.log1p(np.exp(-1.0)), -1e4 + 2.0 + np.log(
        1 + 2 * np.exp(-2.0))], rtol=1e-6)


def test_zero_dim_tensor_reductions():
    x = cr.tensor(3.0, requires_grad=True, dtype=np.float64)
    y = x.sum(0) * 2 + x.mean(-1)
    y.backward()
    assert y.item() == 9.0 and x.grad == 3.0


def test_reductions_keep_float32(rng):
    x = cr.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    out = x.sum(0).mean() + x.var(1).sum() + x.max(1).values.sum() + x.logsumexp(1).sum()
    out = out + x.max() + x.min(0)[0].sum()
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32


def test_max_min_with_a_tensor_are_elementwise(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert_matches_torch(lambda s, t: s.max(t), lambda s, t: s.max(t), a, b)
    assert_matches_torch(lambda s, t: s.min(t) * 2, lambda s, t: torch.min(s, t) * 2, a, b)


def test_mean_and_var_of_integer_tensors_are_float32():
    labels = cr.tensor([1, 0, 1, 1])
    assert (labels == 1).mean().dtype == np.float32
    assert (labels == 1).mean().item() == 0.75
    assert labels.var().dtype == np.float32
    assert labels.var().item() == pytest.approx(0.25)
    assert labels.mean(0, keepdim=True).shape == (1,)
