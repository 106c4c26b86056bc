"""Shape ops and indexing against PyTorch (float64, random upstream gradient)."""

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr

SAME = [
    ("reshape_args", lambda t: t.reshape(4, 6)),
    ("reshape_tuple", lambda t: t.reshape((6, -1))),
    ("view", lambda t: t.view(2, 12)),
    ("transpose", lambda t: t.transpose(0, 2)),
    ("transpose_neg", lambda t: t.transpose(-1, -2)),
    ("permute", lambda t: t.permute(2, 0, 1)),
    ("permute_tuple", lambda t: t.permute((1, 2, 0))),
    ("flatten", lambda t: t.flatten()),
    ("flatten_start", lambda t: t.flatten(1)),
    ("flatten_range", lambda t: t.flatten(0, 1)),
    ("T_2d", lambda t: t.reshape(6, 4).T),
    ("unsqueeze", lambda t: t.unsqueeze(1)),
    ("unsqueeze_end", lambda t: t.unsqueeze(-1)),
    ("squeeze_all", lambda t: t.reshape(1, 2, 1, 12).squeeze()),
    ("squeeze_dim", lambda t: t.reshape(2, 1, 12).squeeze(1)),
    ("squeeze_noop", lambda t: t.squeeze(0)),
    ("squeeze_dims", lambda t: t.reshape(1, 2, 1, 12).squeeze((0, 1, -2))),
    ("expand", lambda t: t[:, :1, :].expand(2, 3, 4)),
    ("expand_new_dims", lambda t: t[0, 0].expand(5, -1)),
    ("expand_tuple", lambda t: t[:1].expand((3, -1, -1))),
]


def test_T_reverses_all_dims(rng):
    x = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda t: t.T, lambda t: t.permute(2, 1, 0), x)


@pytest.mark.parametrize("name, f", SAME, ids=[n for n, _ in SAME])
def test_shape_op_matches_torch(name, f, rng):
    assert_matches_torch(f, f, rng.standard_normal((2, 3, 4)))


INDICES = [
    ("int", lambda: 1),
    ("negative_int", lambda: -1),
    ("slice", lambda: slice(0, 2)),
    ("step_slice", lambda: (slice(None), slice(None, None, 2))),
    ("none", lambda: (None, 1)),
    ("ellipsis", lambda: (Ellipsis, 2)),
    ("int_and_slice", lambda: (1, slice(1, 3), 0)),
    ("bool_mask", lambda: np.array([True, False, True, True])),
    ("int_array", lambda: np.array([0, 2, 3])),
    ("repeated_int_array", lambda: np.array([0, 0, 3, 0])),
    ("int_list", lambda: [1, 1, 2]),
    ("two_int_arrays", lambda: (np.array([0, 1, 1]), np.array([2, 2, 0]))),
    ("array_and_slice", lambda: (slice(None), np.array([4, 4, 1]))),
]


@pytest.mark.parametrize("name, index", INDICES, ids=[n for n, _ in INDICES])
def test_indexing_matches_torch(name, index, rng):
    x = rng.standard_normal((4, 5, 3))
    idx = index()
    t_idx = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in idx) \
        if isinstance(idx, tuple) else (torch.tensor(idx) if isinstance(idx, np.ndarray) else idx)
    assert_matches_torch(lambda t: t[idx], lambda t: t[t_idx], x)


def test_boolean_mask_from_a_tensor_comparison(rng):
    x = rng.standard_normal((3, 4))
    assert_matches_torch(lambda t: t[t > 0], lambda t: t[t > 0], x)


def test_repeated_indices_accumulate_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_index_with_integer_tensor(rng):
    x = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    rows, cols = cr.arange(3), cr.tensor([1, 3, 1])
    picked = x[rows, cols]
    np.testing.assert_array_equal(picked.data, x.data[[0, 1, 2], [1, 3, 1]])
    picked.sum().backward()
    assert x.grad.sum() == 3.0 and x.grad[1, 3] == 1.0


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim, rng):
    a, b, c = (rng.standard_normal((2, 3)), rng.standard_normal((2, 3)),
               rng.standard_normal((2, 3)))
    assert_matches_torch(lambda x, y, z: cr.cat([x, y, z], dim),
                         lambda x, y, z: torch.cat([x, y, z], dim), a, b, c)


def test_cat_unequal_sizes_along_dim(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((5, 3))
    assert_matches_torch(lambda x, y: cr.cat((x, y)), lambda x, y: torch.cat((x, y)), a, b)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert_matches_torch(lambda x, y: cr.stack([x, y], dim=dim),
                         lambda x, y: torch.stack([x, y], dim=dim), a, b)


def test_cat_with_a_constant_tensor_gives_gradient_to_the_other_only(rng):
    x = cr.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    c = cr.zeros(1, 2, dtype=np.float64)
    out = cr.cat([c, x])
    (out * 2).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 2.0))


def test_pad_matches_torch(rng):
    from chainrule.ops.shape import pad

    x = rng.standard_normal((2, 3, 4))
    assert_matches_torch(lambda t: pad(t, (1, 2)), lambda t: torch.nn.functional.pad(t, (1, 2)), x)
    assert_matches_torch(lambda t: pad(t, (1, 0, 0, 2), value=0.5),
                         lambda t: torch.nn.functional.pad(t, (1, 0, 0, 2), value=0.5), x)
    # torch's positional order (input, pad, mode, value); value=None pads with 0
    assert_matches_torch(lambda t: pad(t, (2, 1), "constant", -1.0),
                         lambda t: torch.nn.functional.pad(t, (2, 1), "constant", -1.0), x)
    assert_matches_torch(lambda t: pad(t, (1, 1), value=None),
                         lambda t: torch.nn.functional.pad(t, (1, 1), value=None), x)
    with pytest.raises(ValueError, match="mode='reflect'"):
        pad(cr.tensor(x), (1, 1), mode="reflect")


def test_chained_views_share_no_gradient_memory(rng):
    x = cr.tensor(rng.standard_normal((2, 6)), requires_grad=True)
    y = x.reshape(3, 4).T.flatten().unsqueeze(0)
    assert y.shape == (1, 12)
    (y * cr.tensor(np.arange(12.0))).sum().backward()
    expected = np.arange(12.0).reshape(4, 3).T.reshape(2, 6)
    np.testing.assert_array_equal(x.grad, expected)
