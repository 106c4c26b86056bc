"""Finite-difference gradient check: does an op's backward match its forward?

Method (the full Jacobian, as ``torch.autograd.gradcheck``). For ``y = fn(*inputs)``
and each input x that requires a gradient:

- numerical column j:  J_num[:, j] = (fn(x + ε e_j) - fn(x - ε e_j)) / 2ε
  (central differences, error O(ε²), perturbing one element of x at a time);
- analytic row i:      J_ana[i, :] = ∂y_i/∂x, from ``backward`` with the one-hot
  upstream gradient e_i (the graph is kept with ``retain_graph=True``).

Every entry must satisfy |J_num - J_ana| ≤ atol + rtol·|J_num|. Comparing whole
Jacobians (not only the gradient of ``y.sum()``) catches backwards that are
right only for a uniform upstream gradient, e.g. softmax, whose gradient of a
sum is zero. Checks run in float64: in float32 the rounding error of a
difference quotient (~1e-7/ε) swamps any tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.factory import tensor
from chainrule.function import no_grad
from chainrule.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """The analytic gradient of an input disagrees with its finite-difference estimate."""


def _outputs(result: Any) -> list[Tensor]:
    """The differentiable outputs of ``fn``: a Tensor or a tuple/list of them."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    outs = [t for t in items if isinstance(t, Tensor) and np.issubdtype(t.dtype, np.floating)]
    if not outs:
        raise TypeError(f"gradcheck: fn must return a floating Tensor, got {type(result)}")
    return outs


def _flat_values(result: Any) -> np.ndarray:
    return np.concatenate([np.ravel(t.data).astype(np.float64) for t in _outputs(result)])


def _analytic_jacobians(
    fn: Callable[..., Any], inputs: Sequence[Any], checked: list[int]
) -> list[np.ndarray]:
    """J_ana for every checked input, one backward per output element."""
    outs = _outputs(fn(*inputs))
    sizes = [t.data.size for t in outs]
    jacobians = [np.zeros((sum(sizes), inputs[k].data.size)) for k in checked]
    row = 0
    for out, size in zip(outs, sizes):
        for i in range(size):
            for k in checked:
                inputs[k].grad = None
            if out.requires_grad:
                upstream = np.zeros(out.shape, dtype=out.dtype)
                upstream.flat[i] = 1
                out.backward(upstream, retain_graph=True)
            for jac, k in zip(jacobians, checked):
                if inputs[k].grad is not None:
                    jac[row] = np.ravel(inputs[k].grad.data)
            row += 1
    return jacobians


def _numerical_jacobian(
    fn: Callable[..., Any], inputs: Sequence[Any], k: int, eps: float
) -> np.ndarray:
    """J_num for input ``k`` by central differences, one element at a time."""
    x = inputs[k].data
    columns = []
    with no_grad():
        for j in range(x.size):
            index = np.unravel_index(j, x.shape)
            original = x[index]
            x[index] = original + eps
            plus = _flat_values(fn(*inputs))
            x[index] = original - eps
            minus = _flat_values(fn(*inputs))
            x[index] = original
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the analytic and finite-difference Jacobians of ``fn`` at ``inputs``.

    ``inputs`` holds the positional arguments of ``fn``; every Tensor among them
    with ``requires_grad=True`` is checked and must be float64. Returns True, or
    raises :class:`GradcheckError` naming the input, the worst element (output
    index, input index), both values and their relative error. ``fn`` runs on
    private leaf copies of the checked inputs (a non-leaf input is treated as a
    leaf), so the caller's tensors, their ``.grad`` and their graphs are untouched.
    """
    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    for k in checked:
        if inputs[k].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {k} has dtype {inputs[k].dtype}; finite differences "
                f"need float64 inputs (use .double())"
            )
        # a private leaf copy: the caller's tensors (data, grad, graph) stay untouched
        inputs[k] = tensor(inputs[k].data, requires_grad=True)
    analytic = _analytic_jacobians(fn, inputs, checked)
    for k, j_ana in zip(checked, analytic):
        j_num = _numerical_jacobian(fn, inputs, k, eps)
        error, tol = np.abs(j_num - j_ana), atol + rtol * np.abs(j_num)
        bad = ~(error <= tol)  # a nan anywhere counts as a failure
        if bad.any():
            score = np.where(np.isnan(error), np.inf, error - tol)
            row, col = np.unravel_index(np.argmax(score), score.shape)
            num, ana = j_num[row, col], j_ana[row, col]
            rel = abs(num - ana) / max(abs(num), np.finfo(np.float64).tiny)
            in_index = tuple(int(i) for i in np.unravel_index(col, inputs[k].shape))
            raise GradcheckError(
                f"gradcheck failed for input {k} (shape {inputs[k].shape}): at output "
                f"element {row} (flat index) and input element {in_index}, "
                f"numerical {num:.10g} vs analytic {ana:.10g} (relative error {rel:.3g}, "
                f"atol={atol}, rtol={rtol})"
            )
    return True
