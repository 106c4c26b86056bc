"""Hooks on tensors and modules, and the engine's observer seam — against torch."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.function import Observer, observe


def _run_tensor_hooks(ns):
    a = ns.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.retain_grad()
    h.register_hook(lambda g: g * 2)  # doubles what flows back through h
    seen = []
    a.register_hook(lambda g: seen.append(g.tolist()))  # a leaf: its total, once
    y = (h * h).sum() + h.sum() + a.sum()
    y.backward()
    return a.grad.tolist(), h.grad.tolist(), seen


def test_tensor_hooks_match_torch():
    assert _run_tensor_hooks(cr) == _run_tensor_hooks(torch)


def test_a_removed_hook_no_longer_runs_and_a_constant_refuses_hooks():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    handle = a.register_hook(lambda g: g * 0)
    handle.remove()
    (a * a).sum().backward()
    assert a.grad.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        cr.tensor([1.0]).register_hook(lambda g: g)


def _module_hook_run(ns, nn_, input_requires_grad, replace):
    ns.manual_seed(0)
    layer = nn_.Linear(3, 2).double()
    with ns.no_grad():
        layer.weight.copy_(ns.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], dtype=ns.float64))
        layer.bias.copy_(ns.tensor([0.01, -0.02], dtype=ns.float64))
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append(([None if g is None else g.tolist() for g in grad_input],
                     [g.tolist() for g in grad_output]))
        if replace and grad_input[0] is not None:
            return (grad_input[0] * 10,)
        return None

    layer.register_full_backward_hook(hook)
    x = ns.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype=ns.float64,
                  requires_grad=input_requires_grad)
    (layer(x) ** 2).sum().backward()
    return seen, (x.grad.tolist() if input_requires_grad else None), layer.weight.grad.tolist()


@pytest.mark.parametrize("input_requires_grad, replace", [(True, False), (False, False),
                                                          (True, True)])
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # torch's note, case 2
def test_module_backward_hooks_match_torch(input_requires_grad, replace):
    ours = _module_hook_run(cr, nn, input_requires_grad, replace)
    theirs = _module_hook_run(torch, torch.nn, input_requires_grad, replace)
    assert len(ours[0]) == 1
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(_flat(got), _flat(want), rtol=1e-12)  # None as NaN


def _flat(value):
    if value is None:
        return [np.nan]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    return [value]


class _Recorder(Observer):
    def __init__(self):
        self.forwards, self.backwards, self.edges = [], [], []

    def forward(self, op, run):
        self.forwards.append(op.__name__)
        return run()

    def backward(self, node, run):
        self.backwards.append(type(node).__name__)
        return run()

    def gradient(self, node, index, grad):
        self.edges.append((type(node).__name__, index, grad.shape))


def test_an_observer_sees_every_op_node_and_gradient_edge():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    with observe(_Recorder()) as seen:
        c = (a * a * (a + b)).sum()
        c.backward()
    assert seen.forwards == ["Mul", "Add", "Mul", "Sum"]
    assert sorted(seen.backwards) == sorted(["Sum", "Mul", "Mul", "Add"])
    assert sorted(seen.edges) == sorted([("Sum", 0, (2,)), ("Mul", 0, (2,)), ("Mul", 1, (2,)),
                                         ("Mul", 0, (2,)), ("Mul", 1, (2,)), ("Add", 0, (2,)),
                                         ("Add", 1, (2,))])
    (a * b).sum().backward()  # after the block: nothing recorded
    assert len(seen.forwards) == 4
