"""A value saved for backward and then changed in place: chainrule raises where torch does.

Each op runs on float64 leaves in both frameworks. Before ``backward()`` one
tensor is changed in place (inside ``no_grad()``, as an optimizer step would):

- a *constant*: an input that does not require grad;
- a *parameter*: a leaf that requires grad;
- the op's *output*.

PyTorch raises ("one of the variables needed for gradient computation has been
modified by an inplace operation") exactly when the change hits a value the
op saved for backward: mul saves b only if a needs a gradient, exp, sigmoid,
tanh and relu save their output, getitem saves nothing, ... chainrule must
raise in the same cases and otherwise give torch's gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

CONST, PARAM = "constant", "parameter"

# name: (the op, written once for both frameworks as f(lib, F, *inputs),
#        its inputs: name -> (shape, kind))
OPS = {
    "add": (lambda L, F, c, w: c + w, {"c": ((3, 4), CONST), "w": ((3, 4), PARAM)}),
    "mul": (lambda L, F, c, w: c * w, {"c": ((3, 4), CONST), "w": ((3, 4), PARAM)}),
    "mul, both learn": (lambda L, F, a, w: a * w, {"a": ((3, 4), PARAM), "w": ((4,), PARAM)}),
    "matmul": (lambda L, F, c, w: c @ w, {"c": ((2, 3), CONST), "w": ((3, 4), PARAM)}),
    "matmul, both learn": (lambda L, F, a, w: a @ w, {"a": ((2, 3), PARAM), "w": ((3, 4), PARAM)}),
    "linear": (lambda L, F, x, w, b: F.linear(x, w, b),
               {"x": ((2, 3), CONST), "w": ((4, 3), PARAM), "b": ((4,), PARAM)}),
    "linear, input learns": (lambda L, F, x, w, b: F.linear(x, w, b),
                             {"x": ((2, 3), PARAM), "w": ((4, 3), CONST), "b": ((4,), CONST)}),
    "exp": (lambda L, F, x: x.exp(), {"x": ((3, 4), PARAM)}),
    "sigmoid": (lambda L, F, x: x.sigmoid(), {"x": ((3, 4), PARAM)}),
    "tanh": (lambda L, F, x: x.tanh(), {"x": ((3, 4), PARAM)}),
    "relu": (lambda L, F, x: x.relu(), {"x": ((3, 4), PARAM)}),
    "getitem": (lambda L, F, x: x[1:], {"x": ((3, 4), PARAM)}),
    "getitem, advanced": (lambda L, F, x: x[[0, 2, 0]], {"x": ((3, 4), PARAM)}),
}

# (op, what is changed) for which torch raises: the changed tensor was saved for backward
RAISES = {
    ("mul", "c"),  # δ_w = δ_y ⊙ c
    ("mul, both learn", "a"), ("mul, both learn", "w"),
    ("matmul", "c"),  # δ_W = cᵀ δ_y
    ("matmul, both learn", "a"), ("matmul, both learn", "w"),
    ("linear", "x"),  # δ_W = δ_yᵀ x; W itself is not saved: x needs no gradient
    ("linear, input learns", "w"),  # δ_x = δ_y W
    ("exp", "output"), ("sigmoid", "output"), ("tanh", "output"),  # saved y
    ("relu", "output"),  # δ_x = δ_y ⊙ 1[y > 0]
}

CASES = [(op, what) for op, (_, inputs) in OPS.items() for what in [*inputs, "output"]]


def _case_id(case: tuple[str, str]) -> str:
    op, what = case
    kind = "output" if what == "output" else f"{OPS[op][1][what][1]} {what}"
    return f"{op}: change {kind}"


def _run(lib: str, op: str, what: str) -> tuple[bool, dict[str, np.ndarray]]:
    """Build the op's inputs, run it, change ``what`` in place, backward with a random
    upstream gradient. Returns (raised, the parameters' gradients)."""
    fn, inputs = OPS[op]
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal(shape) for name, (shape, _) in inputs.items()}
    upstream_rng = np.random.default_rng(1)
    if lib == "torch":
        ns, functional, make, no_grad = torch, TF, torch.tensor, torch.no_grad
    else:
        ns, functional, make, no_grad = cr, F, cr.tensor, cr.no_grad
    leaves = {name: make(a, requires_grad=inputs[name][1] == PARAM) for name, a in arrays.items()}
    y = fn(ns, functional, *leaves.values())
    with no_grad():
        (y if what == "output" else leaves[what]).mul_(1.5)
    upstream = make(upstream_rng.standard_normal(tuple(y.shape)))
    try:
        (y * upstream).sum().backward()
    except RuntimeError as error:
        assert "modified by an inplace operation" in str(error)
        return True, {}
    grads = {name: np.asarray(t.grad.numpy() if lib == "torch" else t.grad.data)
             for name, t in leaves.items() if inputs[name][1] == PARAM}
    return False, grads


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_a_changed_saved_value_raises_where_torch_raises(case):
    op, what = case
    torch_raised, torch_grads = _run("torch", op, what)
    assert torch_raised == (case in RAISES), "torch no longer saves what the table says"
    cr_raised, cr_grads = _run("chainrule", op, what)
    assert cr_raised == torch_raised
    for name, expected in torch_grads.items():
        np.testing.assert_allclose(cr_grads[name], expected, rtol=1e-12, atol=1e-12,
                                   err_msg=f"gradient of {name}")


def test_the_error_names_the_op_and_what_changed():
    x = cr.tensor(np.ones(3), requires_grad=True)
    y = x.sigmoid()
    with cr.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match=r"output.* of Sigmoid is at version 1"):
        y.sum().backward()


def test_a_zero_dim_output_is_checked_too():
    x = cr.tensor(np.ones(3), requires_grad=True)
    y = x.sum().exp()  # exp of a 0-d array: NumPy returns a scalar, the op keeps an array
    with cr.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_view_ops_share_memory_and_version_with_their_input():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    views = [x.reshape(3, 2), x.T, x[1], x[:, 1:], x.unsqueeze(0), x[None].expand(2, 2, 3)]
    y = x.exp()  # saves its output, not x: changing x is allowed
    for v in views:
        assert np.shares_memory(v.data, x.data)
    with cr.no_grad():
        x.mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(np.arange(6.0).reshape(2, 3)))
    z = x[0].exp()
    with cr.no_grad():
        z.T.mul_(2)  # a view of z: the same memory and version as z
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
