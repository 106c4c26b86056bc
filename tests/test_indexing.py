"""Indexing ops (gather, scatter, masked_fill, sort, topk, flip, repeat, roll, split,
chunk, isclose) and cumsum/norm/prod against PyTorch in float64 (forward values,
indices, every input gradient under a random upstream gradient) and gradcheck."""

import math

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr
from chainrule.check import gradcheck
from chainrule.ops import indexing as ix
from chainrule.ops import reduce as red


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def backward_both(out_cr, out_t, seed=0):
    """Back-propagate the same random upstream gradient through both outputs."""
    upstream = np.random.default_rng(seed).standard_normal(out_cr.shape)
    (out_cr * upstream).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()


def ties(rng, shape, levels=3):
    """Floats with many exact ties."""
    return rng.integers(0, levels, size=shape).astype(np.float64)


# ---------------------------------------------------------------------- gather
GATHER_CASES = [
    ((3, 4), 0, (2, 4)),
    ((3, 4), 1, (3, 6)),
    ((3, 4), -1, (2, 2)),    # index smaller than the input outside dim
    ((2, 3, 4), 0, (3, 3, 4)),
    ((2, 3, 4), 1, (2, 5, 3)),
    ((2, 3, 4), -1, (1, 2, 7)),
    ((2, 3, 4), -2, (2, 0, 4)),  # empty index
]


@pytest.mark.parametrize("shape, dim, index_shape", GATHER_CASES)
def test_gather_matches_torch(shape, dim, index_shape, rng):
    x = rng.standard_normal(shape)
    index = rng.integers(0, shape[dim], size=index_shape)  # repeats: gradients accumulate
    assert_matches_torch(lambda t, i: ix.gather(t, dim, i),
                         lambda t, i: torch.gather(t, dim, i), x, index)


def test_gather_repeated_index_accumulates():
    x = leaf([[1.0, 2.0, 3.0]])
    out = ix.gather(x, 1, np.array([[2, 2, 0, 2]]))
    np.testing.assert_array_equal(out.data, [[3.0, 3.0, 1.0, 3.0]])
    (out * cr.tensor(np.array([[1.0, 10.0, 100.0, 1000.0]]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[100.0, 0.0, 1011.0]])


def test_gather_index_may_be_tensor_list_or_int32(rng):
    x = rng.standard_normal((3, 4))
    for index in ([[0, 3], [1, 1]], cr.tensor([[0, 3], [1, 1]]),
                  np.array([[0, 3], [1, 1]], dtype=np.int32)):
        out = ix.gather(cr.tensor(x), 1, index)
        np.testing.assert_array_equal(out.data, np.take_along_axis(x[:2], np.array(index), 1))
    assert ix.gather(cr.tensor(5.0), 0, np.array(0)).shape == ()


def test_gather_of_integers_has_no_gradient():
    out = ix.gather(cr.tensor([[1, 2, 3]]), 1, [[2, 0]])
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data, [[3, 1]])


def test_gather_gradcheck(rng):
    x = leaf(rng.standard_normal((3, 4)))
    index = cr.tensor(rng.integers(0, 4, size=(2, 5)))
    assert gradcheck(lambda t: ix.gather(t, -1, index), [x])


# --------------------------------------------------------------------- scatter
SCATTER_CASES = [((3, 5), 0, (2, 5)), ((3, 5), 1, (3, 2)), ((2, 3, 4), -1, (2, 2, 3)),
                 ((2, 3, 4), 1, (1, 3, 4))]


def _distinct_index(rng, shape, dim, index_shape):
    """An index with no repeats along ``dim`` (each slice a partial permutation)."""
    keys = rng.random(shape)
    order = np.argsort(keys, axis=dim)
    return order[tuple(slice(0, n) for n in index_shape)]


@pytest.mark.parametrize("shape, dim, index_shape", SCATTER_CASES)
def test_scatter_matches_torch(shape, dim, index_shape, rng):
    x, src = rng.standard_normal(shape), rng.standard_normal(index_shape)
    index = _distinct_index(rng, shape, dim, index_shape)
    assert_matches_torch(lambda t, i, s: ix.scatter(t, dim, i, s),
                         lambda t, i, s: torch.scatter(t, dim, i, s), x, index, src)


def test_scatter_repeated_index_last_write_wins_and_gradients_match_torch(rng):
    x, src = rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    index = np.array([[0, 1, 2, 0, 2], [2, 2, 2, 1, 2], [0, 0, 1, 1, 2], [1, 0, 2, 1, 2]])
    assert_matches_torch(lambda t, i, s: ix.scatter(t, 0, i, s),
                         lambda t, i, s: torch.scatter(t, 0, i, s), x, index, src)
    out = ix.scatter(cr.tensor(x), 0, index, cr.tensor(src))
    assert out.data[2, 4] == src[3, 4]  # the last of the four writes to (2, 4)


def test_scatter_number_value(rng):
    x = rng.standard_normal((3, 5))
    index = _distinct_index(rng, (3, 5), 1, (3, 2))
    assert_matches_torch(lambda t, i: ix.scatter(t, 1, i, 2.5),
                         lambda t, i: torch.scatter(t, 1, i, 2.5), x, index)
    assert_matches_torch(lambda t, i: ix.scatter(t, 1, i, value=-1.0),
                         lambda t, i: torch.scatter(t, 1, i, value=-1.0), x, index)


def test_scatter_src_larger_than_index(rng):
    """torch's own backward fails here (it returns δ_src of the index's shape); the
    part of src that was not read gets gradient 0."""
    x, src = leaf(rng.standard_normal((3, 5))), leaf(rng.standard_normal((4, 6)))
    index = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])
    out = ix.scatter(x, 0, index, src)
    xt = torch.tensor(x.data, requires_grad=True)
    expected = torch.scatter(xt, 0, torch.tensor(index), torch.tensor(src.data))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    upstream = rng.standard_normal(out.shape)
    (out * upstream).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy())
    grad_src = np.zeros((4, 6))
    grad_src[:2, :4] = np.take_along_axis(upstream[:, :4], index, 0)
    np.testing.assert_array_equal(src.grad.data, grad_src)


def test_scatter_leaves_the_input_unchanged(rng):
    x = cr.tensor(rng.standard_normal((2, 3)))
    before = x.data.copy()
    ix.scatter(x, 1, [[0], [2]], 0.0)
    np.testing.assert_array_equal(x.data, before)


def test_scatter_gradcheck(rng):
    x, src = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((2, 4)))
    index = cr.tensor(_distinct_index(rng, (3, 4), 0, (2, 4)))
    assert gradcheck(lambda t, s: ix.scatter(t, 0, index, s), [x, src])


@pytest.mark.parametrize("shape, dim, index_shape", SCATTER_CASES)
def test_scatter_add_matches_torch(shape, dim, index_shape, rng):
    x, src = rng.standard_normal(shape), rng.standard_normal(index_shape)
    index = rng.integers(0, shape[dim], size=index_shape)  # with repeats: they add up
    assert_matches_torch(lambda t, i, s: ix.scatter_add(t, dim, i, s),
                         lambda t, i, s: torch.scatter_add(t, dim, i, s), x, index, src)


def test_scatter_add_repeats_accumulate_and_integers_work():
    out = ix.scatter_add(cr.zeros(4, dtype=np.int64), 0, [1, 1, 3, 1], cr.tensor([1, 2, 3, 4]))
    np.testing.assert_array_equal(out.data, [0, 7, 0, 3])
    assert out.dtype == np.int64


def test_scatter_add_gradcheck(rng):
    x, src = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((3, 5)))
    index = cr.tensor(rng.integers(0, 4, size=(3, 5)))
    assert gradcheck(lambda t, s: ix.scatter_add(t, 1, index, s), [x, src])


# ----------------------------------------------------------------- masked_fill
@pytest.mark.parametrize("x_shape, mask_shape", [
    ((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), (2, 1, 4)), ((2, 3, 4), ()),
])
def test_masked_fill_matches_torch(x_shape, mask_shape, rng):
    x, mask = rng.standard_normal(x_shape), np.asarray(rng.random(mask_shape) > 0.5)
    assert_matches_torch(lambda t, m: ix.masked_fill(t, m, -2.5),
                         lambda t, m: torch.masked_fill(t, m, -2.5), x, mask)


def test_masked_fill_with_a_0d_tensor_value_gets_its_gradient(rng):
    x, mask = rng.standard_normal((3, 4)), rng.random((3, 4)) > 0.5
    value = np.array(0.7)
    assert_matches_torch(lambda t, m, v: ix.masked_fill(t, m, v),
                         lambda t, m, v: torch.masked_fill(t, m, v), x, mask, value)


def test_masked_fill_keeps_the_dtype_and_the_input():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    out = ix.masked_fill(x, x > 2, 0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[1.0, 2.0], [0.0, 0.0]])
    np.testing.assert_array_equal(x.data, [[1.0, 2.0], [3.0, 4.0]])


def test_masked_fill_gradcheck(rng):
    x, value = leaf(rng.standard_normal((3, 4))), leaf(0.3)
    mask = cr.tensor(rng.random((1, 4)) > 0.5)
    assert gradcheck(lambda t, v: ix.masked_fill(t, mask, v), [x, value])


# ------------------------------------------------------------------------ sort
SORT_CASES = [((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 40), -1), ((2, 6, 3), -2),
              ((2, 6, 3), 0)]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape, dim", SORT_CASES)
@pytest.mark.parametrize("data", ["random", "ties"])
def test_sort_matches_torch_stable(shape, dim, descending, data, rng):
    x = rng.standard_normal(shape) if data == "random" else ties(rng, shape)
    assert_matches_torch(lambda t: ix.sort(t, dim, descending).values,
                         lambda t: torch.sort(t, dim=dim, descending=descending,
                                              stable=True).values, x)
    got = ix.sort(cr.tensor(x), dim=dim, descending=descending)
    expected = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
    assert got.indices.dtype == np.int64 and not got.indices.requires_grad
    np.testing.assert_array_equal(got.indices.data, expected.indices.numpy())
    np.testing.assert_array_equal(
        ix.argsort(cr.tensor(x), dim, descending).data,
        torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=True).numpy())


def test_sort_ties_keep_their_order_and_gradient_follows_the_index():
    x = leaf([1.0, 3.0, 3.0, 2.0, 3.0, 1.0])
    values, indices = ix.sort(x, descending=True)
    np.testing.assert_array_equal(indices.data, [1, 2, 4, 3, 0, 5])
    (values * cr.tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 0.0, 1.0, 3.0, 2.0, 5.0])


def test_sort_nan_is_largest():
    x = np.array([1.0, np.nan, 0.0, np.nan, 2.0])
    for descending in (False, True):
        got = ix.sort(cr.tensor(x), descending=descending)
        expected = torch.sort(torch.tensor(x), descending=descending, stable=True)
        np.testing.assert_array_equal(got.values.data, expected.values.numpy())
        np.testing.assert_array_equal(got.indices.data, expected.indices.numpy())


def test_sort_result_is_a_named_tuple_and_0d_works():
    got = ix.sort(cr.tensor(3.0))
    assert got.values.shape == () and got.indices.shape == () and got.values.item() == 3.0
    values, indices = ix.sort(cr.tensor([2.0, 1.0]))
    assert values is not None and indices.tolist() == [1, 0]


def test_sort_of_integers(rng):
    x = rng.integers(-5, 5, size=(4, 6))
    for descending in (False, True):
        got = ix.sort(cr.tensor(x), dim=0, descending=descending)
        expected = torch.sort(torch.tensor(x), dim=0, descending=descending, stable=True)
        np.testing.assert_array_equal(got.values.data, expected.values.numpy())
        np.testing.assert_array_equal(got.indices.data, expected.indices.numpy())


def test_sort_gradcheck(rng):
    x = leaf(rng.standard_normal((3, 4)))
    assert gradcheck(lambda t: ix.sort(t, 0, descending=True).values, [x])


# ------------------------------------------------------------------------ topk
TOPK_CASES = [((7,), 3, -1), ((4, 6), 2, 1), ((4, 6), 4, 0), ((2, 3, 9), 5, -1),
              ((2, 3, 9), 1, -2), ((4, 6), 6, -1), ((4, 6), 0, 1)]


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape, k, dim", TOPK_CASES)
def test_topk_matches_torch(shape, k, dim, largest, rng):
    x = rng.standard_normal(shape)  # distinct values: torch's indices are determined
    assert_matches_torch(lambda t: ix.topk(t, k, dim, largest).values,
                         lambda t: torch.topk(t, k, dim=dim, largest=largest).values, x)
    got = ix.topk(cr.tensor(x), k, dim=dim, largest=largest)
    expected = torch.topk(torch.tensor(x), k, dim=dim, largest=largest)
    assert got.indices.dtype == np.int64 and not got.indices.requires_grad
    np.testing.assert_array_equal(got.indices.data, expected.indices.numpy())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_ties_take_the_earliest_index(largest, rng):
    """torch leaves the order of ties to its selection algorithm (it differs from its own
    stable sort); ours is the stable sort's first k. Values agree with torch.topk."""
    x = ties(rng, (5, 30))
    got = ix.topk(leaf(x), 4, dim=1, largest=largest)
    np.testing.assert_array_equal(
        got.values.data, torch.topk(torch.tensor(x), 4, dim=1, largest=largest).values.numpy())
    assert_matches_torch(
        lambda t: ix.topk(t, 4, 1, largest).values,
        lambda t: torch.sort(t, dim=1, descending=largest, stable=True).values[:, :4], x)
    stable = torch.sort(torch.tensor(x), dim=1, descending=largest, stable=True).indices
    np.testing.assert_array_equal(got.indices.data, stable[:, :4].numpy())


def test_topk_sorted_false_and_0d():
    x = cr.tensor([1.0, 5.0, 2.0, 4.0])
    values, indices = ix.topk(x, 2, sorted=False)
    assert values.tolist() == [5.0, 4.0] and indices.tolist() == [1, 3]
    got = ix.topk(cr.tensor(3.0), 1)
    assert got.values.shape == () and got.indices.item() == 0


def test_topk_gradcheck(rng):
    x = leaf(rng.standard_normal((3, 5)))
    assert gradcheck(lambda t: ix.topk(t, 2, dim=1, largest=False).values, [x])


# ------------------------------------------------------------------------ flip
@pytest.mark.parametrize("dims", [(0,), (1,), (-1,), (0, 2), (2, 0, 1), ()])
def test_flip_matches_torch(dims, rng):
    x = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda t: ix.flip(t, dims), lambda t: torch.flip(t, dims), x)
    if dims:  # Tensor.flip(*dims), as x.flip(0, 2)
        assert_matches_torch(lambda t: ix.flip(t, *dims), lambda t: t.flip(*dims), x)


def test_flip_is_a_copy(rng):
    x = cr.tensor(rng.standard_normal((2, 3)))
    assert not np.shares_memory(ix.flip(x, 0).data, x.data)
    assert ix.flip(x, [1]).data.flags.c_contiguous


def test_flip_gradcheck(rng):
    assert gradcheck(lambda t: ix.flip(t, (0, -1)), [leaf(rng.standard_normal((3, 4)))])


# ---------------------------------------------------------------------- repeat
@pytest.mark.parametrize("shape, sizes", [
    ((2, 3), (2, 1)), ((2, 3), (1, 3)), ((2, 3), (2, 2)), ((2, 3), (3, 1, 2)),
    ((3,), (2, 2, 2)), ((2, 3), (0, 2)), ((), (4,)), ((2, 1, 3), (1, 4, 1)),
])
def test_repeat_matches_torch(shape, sizes, rng):
    x = rng.standard_normal(shape)
    assert_matches_torch(lambda t: ix.repeat(t, *sizes), lambda t: t.repeat(*sizes), x)
    assert_matches_torch(lambda t: ix.repeat(t, sizes), lambda t: t.repeat(sizes), x)


def test_repeat_gradcheck(rng):
    assert gradcheck(lambda t: ix.repeat(t, 2, 1, 3), [leaf(rng.standard_normal((2, 2)))])


# ------------------------------------------------------------------------ roll
@pytest.mark.parametrize("shifts, dims", [
    (1, None), (-7, None), (2, 0), (-1, -1), ((1, 2), (0, 2)), ((5, -3), (-1, 1)), ((1,), (1,)),
])
def test_roll_matches_torch(shifts, dims, rng):
    x = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda t: ix.roll(t, shifts, dims),
                         lambda t: torch.roll(t, shifts, dims), x)


def test_roll_gradcheck(rng):
    assert gradcheck(lambda t: ix.roll(t, (1, -2), (0, 1)), [leaf(rng.standard_normal((3, 4)))])


# ---------------------------------------------------------------- split, chunk
def _weighted_cat(pieces, dim, cat):
    """Join the pieces back, each scaled differently, so each carries its own gradient."""
    return cat([p * (i + 1.0) for i, p in enumerate(pieces)], dim)


@pytest.mark.parametrize("shape, size, dim", [
    ((5, 3), 2, 0), ((5, 3), 5, 0), ((5, 3), 7, 0), ((2, 7), 3, -1), ((2, 7), [2, 0, 5], 1),
    ((2, 3, 4), [1, 3], -1), ((2, 3, 4), 1, 1),
])
def test_split_matches_torch(shape, size, dim, rng):
    x = rng.standard_normal(shape)
    got = ix.split(cr.tensor(x), size, dim)
    expected = torch.split(torch.tensor(x), size, dim)
    assert isinstance(got, tuple) and len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a.data, b.numpy())
    assert_matches_torch(lambda t: _weighted_cat(ix.split(t, size, dim), dim, cr.cat),
                         lambda t: _weighted_cat(torch.split(t, size, dim), dim, torch.cat), x)


@pytest.mark.parametrize("shape, chunks, dim", [
    ((5, 3), 3, 0), ((6, 3), 4, 0), ((6, 3), 1, 0), ((2, 7), 7, -1), ((2, 3), 5, 1),
    ((2, 3, 4), 2, -1), ((0, 3), 2, 0),
])
def test_chunk_matches_torch(shape, chunks, dim, rng):
    x = rng.standard_normal(shape)
    got = ix.chunk(cr.tensor(x), chunks, dim)
    expected = torch.chunk(torch.tensor(x), chunks, dim)
    assert isinstance(got, tuple) and [a.shape for a in got] == [tuple(b.shape) for b in expected]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a.data, b.numpy())
    if x.size:
        assert_matches_torch(lambda t: _weighted_cat(ix.chunk(t, chunks, dim), dim, cr.cat),
                             lambda t: _weighted_cat(torch.chunk(t, chunks, dim), dim, torch.cat),
                             x)


def test_split_pieces_are_views_and_gradients_reach_the_slices(rng):
    x = leaf(rng.standard_normal((5, 2)))
    a, b, c = ix.split(x, 2)
    assert all(np.shares_memory(p.data, x.data) for p in (a, b, c))
    (b * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0], [0, 0], [3, 3], [3, 3], [0, 0]])


def test_split_empty_dim_matches_torch():
    for size in (2, 0):
        got = ix.split(cr.zeros(0, 3), size)
        assert [p.shape for p in got] == [tuple(p.shape) for p in torch.split(torch.zeros(0, 3),
                                                                                size)]


# ---------------------------------------------------------------------- cumsum
@pytest.mark.parametrize("shape, dim", [((6,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1),
                                        ((2, 3, 4), -2), ((), 0)])
def test_cumsum_matches_torch(shape, dim, rng):
    assert_matches_torch(lambda t: red.cumsum(t, dim), lambda t: torch.cumsum(t, dim),
                         rng.standard_normal(shape))


def test_cumsum_of_integers_and_bools_is_int64():
    for data in ([1, 2, 3], np.array([1, 2, 3], dtype=np.int32), [True, False, True]):
        out = red.cumsum(cr.tensor(data), 0)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.data, torch.cumsum(torch.tensor(data), 0).numpy())


def test_cumsum_gradcheck(rng):
    assert gradcheck(lambda t: red.cumsum(t, dim=-1), [leaf(rng.standard_normal((2, 5)))])


# ------------------------------------------------------------------------ norm
NORM_PS = [2, "fro", 1, math.inf, -math.inf, 3, 1.5, 0.5, -1, 0]
NORM_DIMS = [None, 0, 1, -1, (0, 2), (-1, -2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", NORM_DIMS)
@pytest.mark.parametrize("p", NORM_PS)
def test_norm_matches_torch(p, dim, keepdim, rng):
    x = rng.standard_normal((2, 3, 4))
    if p == 0:
        x[0, 1, 2] = x[1, 0, 0] = 0.0
    assert_matches_torch(lambda t: red.norm(t, p, dim, keepdim),
                         lambda t: torch.norm(t, p, dim, keepdim), x, rtol=1e-6)


def test_norm_default_is_frobenius_over_everything(rng):
    x = rng.standard_normal((3, 4))
    assert_matches_torch(lambda t: red.norm(t), lambda t: torch.norm(t), x)
    assert_matches_torch(lambda t: red.norm(t, dim=1), lambda t: t.norm(dim=1), x)
    assert_matches_torch(lambda t: red.norm(t, None), lambda t: torch.norm(t, None), x)


@pytest.mark.parametrize("p", NORM_PS)
def test_norm_gradient_at_zero_rows_and_ties_match_torch(p):
    """All-zero rows (‖x‖ = 0: gradient 0), zero entries, and ties of |x| (for ±inf the
    tied extremes share the gradient equally, as torch)."""
    x = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, -3.0, 3.0, 0.0], [2.0, -2.0, 2.0, 1.0],
                  [-1.0, 1.0, 4.0, -1.0]])
    for dim in (1, None):
        xc, xt = leaf(x), torch.tensor(x, requires_grad=True)
        out_cr, out_t = red.norm(xc, p, dim), torch.norm(xt, p, dim)
        np.testing.assert_allclose(out_cr.data, out_t.detach().numpy(), rtol=1e-12)
        backward_both(out_cr, out_t)
        expected = xt.grad.numpy() if xt.grad is not None else np.zeros_like(x)  # p=0: None
        np.testing.assert_allclose(xc.grad.data, expected, rtol=1e-12, atol=1e-15)


def test_norm_inf_ties_share_the_gradient():
    x = leaf([1.0, -3.0, 3.0, 2.0])
    red.norm(x, math.inf).backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, -0.5, 0.5, 0.0])


@pytest.mark.parametrize("p", [2, 1, 3, 1.5, math.inf, -math.inf])
def test_norm_gradcheck(p, rng):
    x = rng.standard_normal((3, 4))
    x += np.sign(x) * 0.1  # keep |x| away from 0 (the kink of |x|)
    assert gradcheck(lambda t: red.norm(t, p, dim=1, keepdim=True), [leaf(x)])
    assert gradcheck(lambda t: red.norm(t, p), [leaf(x)])


# ------------------------------------------------------------------------ prod
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                          (-2, True)])
@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_prod_matches_torch(dim, keepdim, zeros, rng):
    x = rng.standard_normal((3, 4))
    x.flat[[5, 7][:zeros]] = 0.0
    if dim is None:
        assert_matches_torch(lambda t: red.prod(t), lambda t: torch.prod(t), x)
    else:
        assert_matches_torch(lambda t: red.prod(t, dim, keepdim),
                             lambda t: torch.prod(t, dim, keepdim), x)


def test_prod_of_integers_is_int64_and_0d_works():
    out = red.prod(cr.tensor(np.array([2, 3, 4], dtype=np.int32)))
    assert out.dtype == np.int64 and out.item() == 24
    assert_matches_torch(lambda t: red.prod(t, 0), lambda t: torch.prod(t, 0), np.array(1.5))


def test_prod_gradcheck(rng):
    x = rng.standard_normal((3, 4))
    x[1, 2] = 0.0
    assert gradcheck(lambda t: red.prod(t, 1), [leaf(x)])
    assert gradcheck(lambda t: red.prod(t), [leaf(x)])


# ----------------------------------------------------------- isclose, allclose
@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 1e-3}, {"equal_nan": True}])
def test_isclose_and_allclose_match_torch(kwargs):
    a = np.array([1.0, 1.0, 1.0, np.inf, -np.inf, np.nan, 0.0, 100.0])
    b = np.array([1.0, 1.0 + 1e-6, 1.05, np.inf, np.inf, np.nan, 1e-4, 101.0])
    got = ix.isclose(cr.tensor(a), cr.tensor(b), **kwargs)
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got.data,
                                  torch.isclose(torch.tensor(a), torch.tensor(b), **kwargs))
    for i in range(len(a)):
        result = ix.allclose(cr.tensor(a[: i + 1]), cr.tensor(b[: i + 1]), **kwargs)
        assert type(result) is bool
        assert result == torch.allclose(torch.tensor(a[: i + 1]), torch.tensor(b[: i + 1]),
                                        **kwargs)


def test_isclose_broadcasts():
    got = ix.isclose(cr.tensor([[1.0], [2.0]]), cr.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(got.data, [[True, False, False], [False, True, False]])


# ---------------------------------------------------------------------- errors
@pytest.fixture
def x():
    return cr.tensor(np.ones((3, 5)), requires_grad=True)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: ix.gather(x, 2, np.zeros((3, 5), int)), IndexError,
     r"gather: dim 2 is out of range.*the input has shape \(3, 5\)"),
    (lambda x: ix.gather(x, 0, np.zeros(5, int)), ValueError,
     r"gather: index of shape \(5,\) must have as many dimensions as the input of shape "
     r"\(3, 5\)"),
    (lambda x: ix.gather(x, 0, np.zeros((4, 6), int)), ValueError,
     r"gather: index of shape \(4, 6\) must be no larger than the input of shape \(3, 5\)"),
    (lambda x: ix.gather(x, 0, [[3]]), IndexError,
     r"gather: index 3 is out of bounds for dim 0 of size 3 \(input of shape \(3, 5\)\)"),
    (lambda x: ix.gather(x, 1, [[-1]]), IndexError, r"gather: index -1 is out of bounds"),
    (lambda x: ix.gather(x, 0, np.zeros((1, 1))), TypeError,
     r"gather: index must be an integer tensor, got dtype float64"),
    (lambda x: ix.scatter(x, 0, np.zeros((2, 4), int), cr.ones(2, 2, dtype=np.float64)),
     ValueError, r"scatter: index of shape \(2, 4\) must be no larger than src of shape \(2, 2\)"),
    (lambda x: ix.scatter(x, -3, np.zeros((2, 4), int), 1.0), IndexError,
     r"scatter: dim -3 is out of range"),
    (lambda x: ix.scatter(x, 0, np.zeros((2, 4), int), cr.ones(2, 4)), TypeError,
     r"scatter: src has dtype float32 but the input has dtype float64"),
    (lambda x: ix.scatter_add(x, 0, np.zeros((2, 4), int), 1.0), TypeError,
     r"scatter_add: src must be a tensor"),
    (lambda x: ix.masked_fill(x, np.ones((2, 5), bool), 0.0), ValueError,
     r"masked_fill: mask of shape \(2, 5\) cannot be broadcast with the input of shape "
     r"\(3, 5\)"),
    (lambda x: ix.masked_fill(x, np.ones(5), 0.0), TypeError,
     r"masked_fill: mask must be a bool tensor, got dtype float64"),
    (lambda x: ix.masked_fill(x, np.ones(5, bool), cr.ones(5)), ValueError,
     r"masked_fill: value must be a number or a 0-dimensional tensor, got shape \(5,\)"),
    (lambda x: ix.sort(x, 2), IndexError, r"sort: dim 2 is out of range.*shape \(3, 5\)"),
    (lambda x: ix.argsort(x, -3), IndexError, r"argsort: dim -3 is out of range"),
    (lambda x: ix.topk(x, 6), ValueError,
     r"topk: k=6 is out of range for dim -1 of size 5 \(input of shape \(3, 5\)\)"),
    (lambda x: ix.topk(x, -1, 0), ValueError, r"topk: k=-1 is out of range for dim 0 of size 3"),
    (lambda x: ix.topk(x, 1, 2), IndexError, r"topk: dim 2 is out of range"),
    (lambda x: ix.flip(x, (0, -2)), ValueError, r"flip: dims \(0, -2\) name a dimension more"),
    (lambda x: ix.flip(x, 2), IndexError, r"flip: dim 2 is out of range"),
    (lambda x: ix.repeat(x, 2), ValueError,
     r"repeat: 1 repeat sizes \(2,\) are fewer than the 2 dimensions of the input of shape "
     r"\(3, 5\)"),
    (lambda x: ix.repeat(x, 2, -1), ValueError, r"repeat: sizes \(2, -1\) must be non-negative"),
    (lambda x: ix.roll(x, (1, 2), 0), ValueError,
     r"roll: shifts \(1, 2\) and dims \(0,\) must have the same length"),
    (lambda x: ix.split(x, [1, 1]), ValueError,
     r"split: sections \(1, 1\) must be non-negative and sum to 3, the size of dim 0 of the "
     r"input of shape \(3, 5\)"),
    (lambda x: ix.split(x, 0, 1), ValueError, r"split: split_size 0 must be positive"),
    (lambda x: ix.split(x, 1, 3), IndexError, r"split: dim 3 is out of range"),
    (lambda x: ix.chunk(x, 0), ValueError, r"chunk: chunks must be a positive int, got 0"),
    (lambda x: red.cumsum(x, 2), IndexError, r"cumsum: dim 2 is out of range"),
    (lambda x: red.norm(x, 2, 3), IndexError, r"norm: dim 3 is out of range"),
    (lambda x: red.norm(x, "nuc"), NotImplementedError, r"norm: p='nuc'"),
    (lambda x: red.norm(x, "max"), ValueError, r"norm: p must be 'fro', 'nuc' or a number"),
    (lambda x: red.norm(cr.ones(2, 2, 2), "fro", (0, 1, 2)), ValueError,
     r"norm: p='fro' takes at most two dims, got dim=\(0, 1, 2\)"),
    (lambda x: red.norm(cr.tensor([1, 2])), TypeError,
     r"norm: expected a floating point tensor, got dtype int64"),
    (lambda x: red.prod(x, -3), IndexError, r"prod: dim -3 is out of range"),
    (lambda x: ix.isclose(x, cr.ones(4)), ValueError,
     r"isclose: shapes \(3, 5\) and \(4,\) cannot be broadcast"),
])
def test_bad_input_names_the_op_and_shapes(x, call, error, message):
    with pytest.raises(error, match=message):
        call(x)


# ------------------------------------------- values saved for backward, in place
def _changed_later(op, changed):
    """(the op's output, a function that changes ``changed`` in place)."""
    return op, lambda: changed.mul_(2)


SAVED = {  # each builds (output, change) from a leaf x and an index tensor i
    "gather_index": lambda x, i: _changed_later(ix.gather(x, 1, i), i),
    "scatter_index": lambda x, i: _changed_later(ix.scatter(x, 1, i, 0.0), i),
    "scatter_add_index": lambda x, i: _changed_later(ix.scatter_add(x, 1, i, x[:, :2] * 1.0), i),
    "norm_output": lambda x, i: (lambda y: _changed_later(y, y))(red.norm(x, dim=1)),
    "norm_input": lambda x, i: (lambda h: _changed_later(red.norm(h, 3, dim=1), h))(x * 1.0),
    "prod_input": lambda x, i: (lambda h: _changed_later(red.prod(h, 1), h))(x * 1.0),
}


@pytest.mark.parametrize("name", list(SAVED))
def test_saved_values_changed_in_place_are_caught(name):
    x = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    out, change = SAVED[name](x, cr.tensor([[0, 2], [1, 1]]))
    change()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_masked_fill_mask_changed_in_place_is_caught():
    x, mask = leaf(np.ones((2, 3))), cr.tensor(np.eye(2, 3, dtype=bool))
    out = ix.masked_fill(x, mask, 0.0)
    mask.fill_(True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
