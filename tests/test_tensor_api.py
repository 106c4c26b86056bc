"""The tensor API users port from PyTorch: constructors, devices, torch.* functions,
NumPy spellings, gradients as Tensors, custom Functions, nn.utils — against torch."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def test_tensor_constructor_follows_torch():
    assert cr.Tensor(2, 3).shape == (2, 3) and cr.Tensor(2, 3).dtype == np.float32
    assert cr.Tensor([1, 2]).dtype == np.float32 == torch.Tensor([1, 2]).numpy().dtype
    assert cr.Tensor(np.arange(3.0)).dtype == np.float32
    assert cr.Tensor().shape == (0,)


@pytest.mark.parametrize("bad", [["a"], [{"x": 1}], "text", [None]])
def test_non_numeric_data_is_refused_when_the_tensor_is_made(bad):
    with pytest.raises(TypeError, match="cannot make a tensor"):
        cr.tensor(bad)


def test_device_is_cpu_and_other_devices_are_a_clear_error():
    x = cr.ones(3)
    assert str(x.device) == "cpu" and x.device == "cpu"
    assert x.to("cpu") is x and x.cpu() is x
    assert x.to(cr.float64).dtype == np.float64 and x.to("cpu", cr.float64).dtype == np.float64
    assert x.to(cr.zeros(1, dtype=np.float64)).dtype == np.float64
    for call in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: x.to(device="mps")):
        with pytest.raises(RuntimeError, match="runs on the CPU"):
            call()


def test_numpy_spellings_axis_and_keepdims_are_accepted():
    data = np.arange(6.0).reshape(2, 3)
    x, t = cr.tensor(data), torch.tensor(data)
    np.testing.assert_allclose(x.sum(axis=1, keepdims=True).data,
                               t.sum(axis=1, keepdims=True).numpy())
    np.testing.assert_allclose(x.mean(axis=0).data, t.mean(axis=0).numpy())
    np.testing.assert_allclose(x.max(axis=1).values.data, t.max(axis=1).values.numpy())
    np.testing.assert_allclose(x.std(axis=1).data, t.std(axis=1).numpy())
    assert x.argmax(axis=1).tolist() == t.argmax(axis=1).tolist()
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=0, axis=1)
    assert float(np.sum(x)) == 15.0 and float(np.mean(x)) == 2.5 and bool(np.all(x >= 0))


TOP_LEVEL = [
    ("argmax", lambda ns, x: ns.argmax(x, dim=1)),
    ("argmin", lambda ns, x: ns.argmin(x)),
    ("exp", lambda ns, x: ns.exp(x)),
    ("log", lambda ns, x: ns.log(ns.abs(x) + 1)),
    ("sum", lambda ns, x: ns.sum(x, 0)),
    ("mean", lambda ns, x: ns.mean(x, dim=1, keepdim=True)),
    ("max_all", lambda ns, x: ns.max(x)),
    ("max_dim", lambda ns, x: ns.max(x, 1)[0]),
    ("max_pair", lambda ns, x: ns.max(x, x * 0.5)),
    ("min_dim", lambda ns, x: ns.min(x, dim=0).values),
    ("matmul", lambda ns, x: ns.matmul(x, x.T)),
    ("clamp", lambda ns, x: ns.clamp(x, -0.5, 0.5)),
    ("where", lambda ns, x: ns.where(x > 0, x, x * 2)),
    ("cat", lambda ns, x: ns.cat([x, x * 2], dim=1)),
    ("stack", lambda ns, x: ns.stack([x, x * 2], dim=0)),
    ("cumsum", lambda ns, x: ns.cumsum(x, dim=1)),
    ("norm", lambda ns, x: ns.norm(x)),
    ("sort", lambda ns, x: ns.sort(x, dim=1).values),
    ("topk", lambda ns, x: ns.topk(x, 2).values),
    ("gather", lambda ns, x: ns.gather(x, 1, ns.tensor([[0, 0], [2, 1], [1, 1]]))),
    ("floordiv", lambda ns, x: (x * 3) // 1),
    ("mod", lambda ns, x: ns.remainder(x * 3, 1.5) if ns is torch else (x * 3) % 1.5),
]


@pytest.mark.parametrize("name, fn", TOP_LEVEL, ids=[name for name, _ in TOP_LEVEL])
def test_top_level_functions_match_torch(name, fn):
    data = np.random.default_rng(1).standard_normal((3, 4))
    x = cr.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    got, want = fn(cr, x), fn(torch, t)
    np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-12)
    if want.requires_grad and name != "floordiv":
        upstream = np.random.default_rng(2).standard_normal(want.shape)
        (got * cr.tensor(upstream)).sum().backward()
        (want * torch.tensor(upstream)).sum().backward()
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_factories_follow_torch():
    assert cr.eye(3).data.tolist() == torch.eye(3).tolist()
    assert cr.empty(2, 3).shape == (2, 3) and cr.empty(2, 3).dtype == np.float32
    cr.manual_seed(0)
    r = cr.randint(0, 10, (1000,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() < 10
    assert cr.randint(5, (4,)).shape == (4,)
    p = cr.randperm(10)
    assert sorted(p.tolist()) == list(range(10)) and p.dtype == np.int64
    assert cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-9]))
    assert cr.isclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 3.0])).tolist() == [True, False]


def test_tensor_methods_users_port():
    x = cr.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert x.eq(x).all().item() and not x.ne(x).any().item()
    assert [t.shape for t in x.split(1, dim=1)] == [(2, 1)] * 3
    assert [t.shape for t in x.chunk(2, dim=0)] == [(1, 3)] * 2
    assert x.repeat(2, 1).shape == (4, 3) and x.flip(0).tolist()[0] == [0.0, 5.0, 4.0]
    assert x.argsort(dim=1).tolist() == [[1, 2, 0], [0, 2, 1]]
    assert x.masked_fill(x > 2, 0.0).tolist() == [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]
    assert x.unsqueeze(0).squeeze(0).shape == (2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.scatter(1, cr.tensor([[0], [1]]), 9.0).tolist() == [[9.0, 1.0, 2.0],
                                                                  [0.0, 9.0, 4.0]]
    assert x.view_as(cr.zeros(3, 2)).shape == (3, 2) and x.expand_as(cr.zeros(4, 2, 3)).ndim == 3


def test_gradients_are_tensors_without_a_graph():
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()
    assert isinstance(w.grad, cr.Tensor) and not w.grad.requires_grad and w.grad.is_leaf
    assert w.grad.norm().item() == pytest.approx(10.0)
    assert isinstance(w.grad.numpy(), np.ndarray) and w.grad.data is w.grad.numpy()
    grad = w.grad
    (w * w).sum().backward()  # accumulates into the same tensor
    assert w.grad is grad and w.grad.tolist() == [12.0, 16.0]
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


def test_custom_function_with_save_for_backward():
    class Cube(cr.Function):
        """y = x³        δ_x = 3x² δ_y"""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    a = x * 1
    y = Cube.apply(a).sum()
    a.add_(1)
    with pytest.raises(RuntimeError, match=r"input 0 \(shape \(2,\), float32\) of Cube is at"):
        y.backward()


def test_clip_grad_utilities_match_torch():
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    for norm_type in (2.0, 1.0, float("inf")):
        ours = [cr.tensor(d, requires_grad=True) for d in data]
        theirs = [torch.tensor(d, requires_grad=True) for d in data]
        for p, q in zip(ours, theirs):
            (p * p * p).sum().backward()
            (q * q * q).sum().backward()
        total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
        np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)
    ours = [cr.tensor(d, requires_grad=True) for d in data]
    theirs = [torch.tensor(d, requires_grad=True) for d in data]
    for p, q in zip(ours, theirs):
        (p * p * p).sum().backward()
        (q * q * q).sum().backward()
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)


def test_parameters_to_vector_and_back():
    layer = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(layer.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.data[:6], layer.weight.data.ravel())
    nn.utils.vector_to_parameters(cr.arange(8.0), layer.parameters())
    assert layer.bias.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="expected a vector of 8 elements"):
        nn.utils.vector_to_parameters(cr.arange(7.0), layer.parameters())


def test_set_printoptions():
    try:
        cr.set_printoptions(precision=2)
        assert repr(cr.tensor([1.23456])) == "tensor([1.23])"
        cr.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(cr.arange(100))
    finally:
        cr.set_printoptions(profile="default")
    assert repr(cr.tensor([1.23456])) == "tensor([1.2346])"
