"""The backward engine: ordering, multi-path sums, aliasing, shape checks, graph
lifetime and PyTorch's accumulation semantics."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.function import Function


def test_multi_path_gradients_are_summed():
    x = cr.tensor(3.0, requires_grad=True)
    y = x * x + x * 2 + x  # dy/dx = 2x + 3
    y.backward()
    assert x.grad == 9.0


def test_leaf_grads_of_a_sum_are_distinct_arrays():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    (x + y).backward(np.array([1.0, 1.0]))
    assert x.grad is not y.grad and not np.shares_memory(x.grad, y.grad)
    x.grad += 10  # an optimizer writing into one grad in place ...
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])  # ... leaves the other alone


def test_upstream_returned_by_add_and_reshape_is_never_written_into():
    """Add and reshape hand the upstream array on unchanged; a later accumulation
    into it would corrupt the gradient of every tensor sharing it."""
    x = cr.tensor(np.zeros((2, 2)), requires_grad=True)
    y = cr.tensor(np.zeros((2, 2)), requires_grad=True)
    h = x.reshape(4)  # its gradient arrives three times, first as the upstream itself
    out = (h + h) + h + y.reshape(4)
    upstream = np.array([1.0, 2.0, 3.0, 4.0])
    out.backward(upstream)
    np.testing.assert_array_equal(upstream, [1.0, 2.0, 3.0, 4.0])  # the caller's array
    np.testing.assert_array_equal(y.grad, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x.grad, [[3.0, 6.0], [9.0, 12.0]])
    assert not np.shares_memory(x.grad, y.grad)


def test_custom_backward_returning_its_upstream_is_alias_safe():
    class Identity(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad  # the very same array twice

    x = cr.tensor([1.0], requires_grad=True, dtype=np.float64)
    y = cr.tensor([1.0], requires_grad=True, dtype=np.float64)
    z = Identity.apply(x, y)
    (Identity.apply(z, x) + z).backward(np.array([1.0]))
    assert x.grad[0] == 3.0 and y.grad[0] == 2.0
    x.grad *= 0
    assert y.grad[0] == 2.0


def _random_program(rng, n_ops):
    """A random DAG over two inputs with reused intermediates (many shared paths)."""
    program = []
    for i in range(n_ops):
        kind = rng.choice(["add", "mul", "sub", "reshape", "T", "getitem", "sum", "neg"])
        program.append((kind, int(rng.integers(0, i + 2)), int(rng.integers(0, i + 2))))
    return program


def _run(program, a, b):
    values = [a, b]
    for kind, i, j in program:
        u, v = values[i], values[j]
        if kind == "add":
            r = u + v
        elif kind == "mul":
            r = u * v * 0.5
        elif kind == "sub":
            r = u - v
        elif kind == "reshape":
            r = u.reshape(12).reshape(3, 4)
        elif kind == "T":
            r = u.T.T
        elif kind == "getitem":
            r = u[:, [0, 0, 3, 1]] + 0
        elif kind == "sum":
            r = u.sum(0, keepdim=True) + v
        else:
            r = -u
        values.append(r)
    return sum(values[2:], values[0] * 0)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_with_shared_subexpressions_match_torch(seed):
    rng = np.random.default_rng(seed)
    program = _random_program(rng, 12)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    upstream = rng.standard_normal((3, 4))
    ca, cb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out_c, out_t = _run(program, ca, cb), _run(program, ta, tb)
    out_c.backward(upstream)
    out_t.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(ca.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cb.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_wrong_gradient_shape_names_the_op_and_both_shapes():
    class BadSum(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum(axis=0)

        @staticmethod
        def backward(ctx, grad):
            return grad  # forgot to broadcast back to (3, 4)

    x = cr.tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadSum.*\(4,\).*\(3, 4\)"):
        BadSum.apply(x).sum().backward()


def test_wrong_number_of_gradients_is_reported():
    class TwoInOneOut(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="TwoInOneOut.backward returned 1 gradients for 2"):
        TwoInOneOut.apply(a, a).sum().backward()


def test_inputs_without_grad_are_skipped():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            need_a, need_b = ctx.needs_input_grad
            return (grad * 2 if need_a else None), (grad * 3 if need_b else None)

    x = cr.tensor([1.0], requires_grad=True)
    c = cr.tensor([5.0])
    Probe.apply(x, c).sum().backward()
    assert seen == [(True, False)] and c.grad is None and x.grad[0] == 2.0
    constant_branch = c * 2  # a subgraph without grad is never visited
    (x * constant_branch).sum().backward()
    assert not constant_branch.requires_grad and x.grad[0] == 12.0


def test_leaves_accumulate_until_zeroed():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_second_backward_needs_retain_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    x.grad = None
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])  # 2 × 2x


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar output, got shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"grad has shape \(3,\)"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_on_a_leaf_and_grad_dtype():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([0.5, 0.25]))  # a float64 gradient into a float32 leaf
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [0.5, 0.25])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating-point"):
        cr.tensor([1, 2, 3], requires_grad=True)


def test_deep_graph_backpropagates_without_recursion():
    x = cr.tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000, rel=1e-9)


def test_deep_graph_can_be_freed_without_backward():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 1.0
    del y  # deallocating the chain must not overflow the C stack


def test_no_grad_records_nothing_even_from_grad_inputs():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = (x * 2).exp().sum()
    assert y.grad_fn is None and not y.requires_grad
    z = x * 2
    assert z.grad_fn is not None


def test_gradient_of_unused_input_stays_none():
    x = cr.tensor([1.0], requires_grad=True)
    u = cr.tensor([1.0], requires_grad=True)
    _ = u * 2
    (x * 3).sum().backward()
    assert u.grad is None


def test_float64_backward_with_a_list_gradient_keeps_float64_precision():
    x = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (x * 1).backward([0.1, 0.2])
    assert x.grad.dtype == np.float64
    assert x.grad.tolist() == [0.1, 0.2]  # not 0.10000000149 (rounded through float32)
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    (y * 1).backward(cr.tensor([0.5, 0.25], dtype=np.float64))
    assert y.grad.dtype == np.float32 and y.grad.tolist() == [0.5, 0.25]
