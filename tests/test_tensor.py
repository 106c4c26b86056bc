"""The Tensor API: construction, attributes, conversions, factories, seeding."""

import numpy as np
import pytest
import torch

import chainrule as cr


def test_tensor_defaults_to_float32_and_copies():
    data = [[1.0, 2.0], [3.0, 4.0]]
    t = cr.tensor(data)
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2
    assert not t.requires_grad and t.grad is None
    array = np.array([1.0, 2.0])
    t = cr.tensor(array)
    assert t.dtype == np.float64  # an ndarray keeps its dtype, as torch.tensor
    array[0] = 9.0
    assert t.data[0] == 1.0  # copied
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.tensor([True]).dtype == bool
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == np.float64
    assert cr.tensor(np.arange(3), dtype="float32").dtype == np.float32


def test_attributes_and_conversions():
    t = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.numel() == 6 and t.dim() == 2 and len(t) == 2
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.data, np.arange(6.0).reshape(2, 3).T)
    assert t.numpy() is t.data
    assert t[1, 2].item() == 5.0 and isinstance(t[1, 2].item(), float)
    assert float(t.sum()) == 15.0 and int(t[0, 1]) == 1
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    np.testing.assert_array_equal(np.asarray(t), t.data)
    assert f"{t.sum():.2f}" == "15.00" and f"{t}" == repr(t)
    with pytest.raises(ValueError, match="one element"):
        t.item()


def test_requires_grad_and_detach():
    x = cr.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d.data, y.data)
    with pytest.raises(RuntimeError, match="floating"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="int64"):
        cr.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_repr():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(cr.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(cr.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(cr.tensor(np.ones(1)))


def test_factories():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(cr.ones(2).data, [1.0, 1.0])
    f = cr.full((2, 2), 1.5)
    assert f.dtype == np.float32 and f.data[1, 1] == 1.5
    assert cr.full((2,), 7).dtype == np.int64
    a = cr.arange(5)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert cr.arange(1, 2, 0.5).dtype == np.float32
    np.testing.assert_array_equal(cr.arange(1, 7, 2).data, [1, 3, 5])
    z = cr.zeros_like(cr.tensor(np.ones((2, 2))))
    assert z.dtype == np.float64 and z.data.sum() == 0
    o = cr.ones_like(cr.tensor([1.0, 2.0]), requires_grad=True)
    assert o.requires_grad and o.data.tolist() == [1.0, 1.0]
    array = np.arange(3.0)
    shared = cr.from_numpy(array)
    array[0] = 5.0
    assert shared.data[0] == 5.0 and shared.dtype == np.float64
    with pytest.raises(TypeError, match="numpy.ndarray"):
        cr.from_numpy([1.0])
    x = cr.zeros(2, requires_grad=True)
    assert x.requires_grad


def test_random_factories_are_seeded():
    cr.manual_seed(7)
    a, u = cr.randn(3, 4), cr.rand(5)
    cr.manual_seed(7)
    b, v = cr.randn(3, 4), cr.rand(5)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(u.data, v.data)
    assert a.dtype == np.float32 and u.dtype == np.float32
    assert np.all((u.data >= 0) & (u.data < 1))
    cr.manual_seed(8)
    assert not np.array_equal(cr.randn(3, 4).data, a.data)
    g = np.random.default_rng(3)
    c = cr.randn(2, 2, generator=g, dtype=np.float64)
    np.testing.assert_array_equal(c.data, np.random.default_rng(3).standard_normal((2, 2)))
    with pytest.raises(TypeError, match="int"):
        cr.manual_seed(1.5)


def test_rng_state_roundtrip():
    from chainrule.random import get_rng_state, set_rng_state

    cr.manual_seed(0)
    state = get_rng_state()
    a = cr.randn(4)
    set_rng_state(state)
    np.testing.assert_array_equal(cr.randn(4).data, a.data)


def test_no_grad_records_nothing():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2 + 1
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()

    @cr.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x + 1).requires_grad


def test_methods_follow_torch_signatures(rng):
    """A snippet of torch code runs unchanged on chainrule and gives the same numbers."""
    data = rng.standard_normal((4, 3, 2))

    def snippet(lib, x):
        h = x.reshape(4, -1).transpose(0, 1).permute(1, 0).flatten(1)
        h = h.unsqueeze(0).squeeze(0).sum(dim=1, keepdim=True) + h.mean(0)
        v = x.var(0, correction=0) + x.max(1)[0].sum() - x.min(dim=-1).values.mean()
        s = h.softmax(1) + h.log_softmax(dim=1) + h.logsumexp(1, keepdim=True)
        e = (h.abs() + 1).sqrt().log() + h.exp().clip(0, 5) + h.relu() + h.sigmoid() + h.tanh()
        w = lib.where(h > 0, h, -h) + lib.maximum(h, 0.5 * h) - lib.minimum(h, h * 0.3)
        c = lib.cat([h, h], 0).sum() + lib.stack([h, h], 1).mean()
        return (s + e + w).sum() + v.sum() + c + (2 ** h).sum() + (h / 3 - 1).pow(2).sum()

    got = snippet(cr, cr.tensor(data)).item()
    expected = snippet(torch, torch.tensor(data)).item()
    assert got == pytest.approx(expected, rel=1e-10)


def test_setitem_writes_in_place_and_is_refused_on_grad_tensors():
    x = cr.tensor([1.0, 2.0, 3.0])
    x[x > 1.5] = 0.0
    x[cr.tensor([0])] = cr.tensor([9.0])
    np.testing.assert_array_equal(x.data, [9.0, 0.0, 0.0])
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad \(shape \(2,\)\)"):
        w[0] = 5.0
    with cr.no_grad():
        w[1] = 7.0  # initialisation-style writes are allowed, as in torch
    np.testing.assert_array_equal(w.data, [1.0, 7.0])


def test_tensor_of_tensors_and_iteration():
    t = cr.tensor([cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.dtype == np.float32
    rows = list(t)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]


def test_numpy_array_protocol_copies_only_when_asked():
    t = cr.tensor([1.0, 2.0])
    snapshot = np.array(t)  # np.array copies by default
    snapshot[0] = 99.0
    assert t.data.tolist() == [1.0, 2.0]
    assert np.asarray(t) is t.data  # asarray shares, as for an ndarray
    assert np.array(t, dtype=np.float64).dtype == np.float64
