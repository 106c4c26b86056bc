"""In-place operations with PyTorch's rules, compared with torch.

Each case is written once as a function of a namespace (``cr`` or ``torch``), so
the same code runs in both frameworks; the test asserts that chainrule raises
exactly where torch raises and otherwise gives torch's values and gradients.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn, optim


def _tensor(ns, values, requires_grad=False):
    if ns is torch:
        return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)
    return cr.tensor(values, dtype=np.float64, requires_grad=requires_grad)


# Each case returns the tensors whose .grad to compare (after its own backward).
def iadd_nograd_sgd_step(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    (w * w).sum().backward()
    with ns.no_grad():
        w -= 0.1 * w.grad
        w.grad.zero_()
    return [w]


def add_then_modify_input(ns):
    w, x = _tensor(ns, [1.0, 2.0], True), _tensor(ns, [3.0, 4.0])
    y = (w + x).sum()
    x[0] = 100.0
    y.backward()
    return [w]


def mul_then_modify_input(ns):
    w, x = _tensor(ns, [1.0, 7.0], True), _tensor(ns, [3.0, 4.0])
    y = (w * x).sum()
    x[0] = 100.0
    y.backward()
    return [w]


def mul_then_modify_param_in_no_grad(ns):
    w, x = _tensor(ns, [1.0, 7.0], True), _tensor(ns, [3.0, 4.0])
    y = (w * x).sum()  # saves x only: w may change
    with ns.no_grad():
        w.mul_(2)
    y.backward()
    return [w]


def square_then_modify_param_in_no_grad(ns):
    w = _tensor(ns, [1.0, 7.0], True)
    y = (w * w).sum()
    with ns.no_grad():
        w.add_(1)
    y.backward()
    return [w]


def exp_then_modify_output(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    y = (w * 2).exp()
    y.add_(1)
    y.sum().backward()
    return [w]


def mul_then_modify_output(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    y = w * 3
    y.add_(1)
    (y * y).sum().backward()
    return [w]


def inplace_mul_by_a_tensor_that_requires_grad(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    a = w * 2
    a.mul_(w)
    (a * _tensor(ns, [1.0, -2.0, 0.5])).sum().backward()
    return [w]


def modify_a_view_then_use_the_base(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    a = w * 2
    v = a[0:2]
    v.mul_(3)
    (a * _tensor(ns, [1.0, -2.0, 0.5])).sum().backward()
    return [w]


def modify_the_base_then_use_an_older_view(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    a = w * 2
    v = a[1:]
    a.mul_(5)
    (v * _tensor(ns, [1.0, -2.0])).sum().backward()
    return [w]


def augmented_setitem(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    a = w * 2
    a[0:2] += 1
    (a * a).sum().backward()
    return [w]


def setitem_from_a_tensor_that_requires_grad(ns):
    w = _tensor(ns, [1.0, 2.0, 3.0], True)
    a = w * 2
    a[0] = w[1] * 5
    (a * _tensor(ns, [1.0, -2.0, 0.5])).sum().backward()
    return [w]


def setitem_into_a_constant_with_a_mask(ns):
    w = _tensor(ns, [1.0, -2.0, 3.0], True)
    z = _tensor(ns, [0.0, 0.0, 0.0])
    z[w > 0] = w[w > 0] ** 2
    z.sum().backward()
    return [w]


def add_into_a_constant(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    z = _tensor(ns, [5.0, 5.0])
    z.add_(w * w)
    z.sum().backward()
    return [w]


def saved_input_changed_through_a_view(ns):
    w, x = _tensor(ns, [1.0, 2.0], True), _tensor(ns, [3.0, 4.0])
    y = (w * x).sum()
    x[0:1].mul_(2)
    y.backward()
    return [w]


def saved_input_changed_through_detach(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    y = (w * w).sum()
    with ns.no_grad():
        w.detach().add_(1)
    y.backward()
    return [w]


def relu_output_changed(ns):
    w = _tensor(ns, [1.0, -2.0], True)
    y = (w * 1).relu()
    y.mul_(2)
    y.sum().backward()
    return [w]


def fill_and_zero_on_a_graph_tensor(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    a, b = w * 2, w * 3
    a.fill_(4.0)
    b.zero_()
    (a + b + w).sum().backward()
    return [w]


def copy_from_a_tensor_that_requires_grad(ns):
    w = _tensor(ns, [1.0, 2.0], True)
    z = _tensor(ns, [[0.0, 0.0], [0.0, 0.0]])
    z.copy_(w * w)  # broadcast over rows
    (z * _tensor(ns, [[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return [w]


def clamp_and_masked_fill_in_place(ns):
    w = _tensor(ns, [-1.0, 0.5, 3.0], True)
    a = w * 2
    a.clamp_(-1.0, 2.0)
    a.masked_fill_(a < 0, 0.0)
    (a * _tensor(ns, [1.0, 2.0, 3.0])).sum().backward()
    return [w]


CASES = [
    iadd_nograd_sgd_step, add_then_modify_input, mul_then_modify_input,
    mul_then_modify_param_in_no_grad, square_then_modify_param_in_no_grad,
    exp_then_modify_output, mul_then_modify_output, inplace_mul_by_a_tensor_that_requires_grad,
    modify_a_view_then_use_the_base, modify_the_base_then_use_an_older_view, augmented_setitem,
    setitem_from_a_tensor_that_requires_grad, setitem_into_a_constant_with_a_mask,
    add_into_a_constant, saved_input_changed_through_a_view, saved_input_changed_through_detach,
    relu_output_changed, fill_and_zero_on_a_graph_tensor, copy_from_a_tensor_that_requires_grad,
    clamp_and_masked_fill_in_place,
]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_inplace_case_matches_torch(case):
    try:
        expected = [t.grad.numpy() if t.grad is not None else None for t in case(torch)]
    except RuntimeError:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            case(cr)
        return
    got = case(cr)
    for g, e in zip(got, expected):
        if e is None:
            assert g.grad is None
        else:
            assert isinstance(g.grad, cr.Tensor)
            np.testing.assert_allclose(g.grad.numpy(), e, rtol=1e-12, atol=1e-12)


def test_the_saved_tensor_error_names_the_op_and_the_versions():
    w, x = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0, 4.0])
    y = (w * x).sum()
    x += 1
    expected = r"input 1 \(shape \(2,\), float32\) of Mul is at version 1; Mul saved it at"
    with pytest.raises(RuntimeError, match=expected):
        y.backward()


def test_a_parameter_changed_in_place_outside_no_grad_is_refused_with_nothing_changed():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.__iadd__(1), lambda: w.zero_(),
                   lambda: w.__setitem__(0, 5.0), lambda: w[0:1].mul_(2)):
        with pytest.raises(RuntimeError, match="requires grad"):
            change()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    with torch.no_grad():  # torch refuses the same
        pass
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw.add_(1)


def test_version_counter_is_shared_by_views_and_bumped_by_every_change():
    x = cr.zeros(4)
    v = x[1:3]
    r = x.reshape(2, 2)
    x.add_(1)
    v.mul_(2)
    r[0, 0] = 7.0
    x.data[3] = 9.0  # .data: the unchecked escape hatch, no bump
    assert cr.function.version_counter(x) is cr.function.version_counter(v)
    assert cr.function.version_counter(x).n == 3
    np.testing.assert_array_equal(x.data, [7.0, 2.0, 2.0, 9.0])


def test_optimizer_step_between_forward_and_backward_raises_as_in_torch():
    def run(ns, nn_, optim_):
        ns.manual_seed(0)
        model = nn_.Sequential(nn_.Linear(3, 4), nn_.Tanh(), nn_.Linear(4, 2))
        opt = optim_.SGD(model.parameters(), lr=0.1)
        x = ns.ones(4, 3)
        loss_a = model(x).sum()
        loss_b = (model(x) ** 2).sum()  # the second Linear saved its weight
        loss_a.backward()
        opt.step()
        loss_b.backward()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch, torch.nn, torch.optim)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(cr, nn, optim)


def test_inplace_dtype_and_shape_rules_follow_torch():
    ints = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="int64"):
        ints += 1.5
    np.testing.assert_array_equal(ints.data, [1, 2])
    floats = cr.tensor([1.0, 2.0])
    floats += cr.tensor([1.0, 2.0], dtype=np.float64)
    assert floats.dtype == np.float32
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        floats += cr.ones(2, 2)
    np.testing.assert_array_equal(floats.data, [2.0, 4.0])


def test_inplace_methods_return_self_and_change_the_values():
    x = cr.tensor([1.0, -2.0, 3.0])
    assert x.add_(1) is x and x.sub_(2, alpha=0.5) is x and x.mul_(2) is x and x.div_(4) is x
    np.testing.assert_allclose(x.data, [0.5, -1.0, 1.5])
    x.clamp_(min=0.0)
    np.testing.assert_allclose(x.data, [0.5, 0.0, 1.5])
    x.masked_fill_(x > 1, -1.0)
    np.testing.assert_allclose(x.data, [0.5, 0.0, -1.0])
    x.fill_(2.0).copy_(cr.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.data, [1.0, 2.0, 3.0])
    cr.manual_seed(0)
    x.normal_(0.0, 1.0)
    y = cr.zeros(10000).uniform_(-1.0, 1.0)
    assert -1.0 <= y.data.min() and y.data.max() < 1.0 and abs(y.data.mean()) < 0.05


def test_the_tutorial_loop_with_manual_weights_trains_like_torch():
    """'What is torch.nn really?': weights by hand, no_grad updates, grad.zero_()."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((64, 5))
    y_np = np.argmax(x_np @ rng.standard_normal((5, 3)), axis=1)  # learnable labels
    w_np = rng.standard_normal((5, 3)) / np.sqrt(5)

    def train(ns, cross_entropy):
        x, y = _tensor(ns, x_np), ns.tensor(y_np)
        weights = _tensor(ns, w_np, True)
        bias = _tensor(ns, np.zeros(3), True)
        for _ in range(30):
            loss = cross_entropy(x @ weights + bias, y)
            loss.backward()
            with ns.no_grad():
                weights -= weights.grad * 0.5
                bias -= bias.grad * 0.5
                weights.grad.zero_()
                bias.grad.zero_()
        return loss.item(), weights.detach().numpy()

    loss_c, w_c = train(cr, nn.functional.cross_entropy)
    loss_t, w_t = train(torch, torch.nn.functional.cross_entropy)
    assert loss_c < 0.5 * float(np.log(3))
    np.testing.assert_allclose(loss_c, loss_t, rtol=1e-10)
    np.testing.assert_allclose(w_c, w_t, rtol=1e-9, atol=1e-12)
