"""Matrix product and the fused linear layer.

For 2-D operands y = A B gives δ_A = δ_y Bᵀ and δ_B = Aᵀ δ_y. Vectors are
promoted to matrices (a 1 is prepended to a vector on the left, appended to one
on the right) and batch dimensions broadcast, exactly as ``numpy.matmul`` and
``torch.matmul`` do; the promotion is undone and the batch dimensions summed
on the way back. As PyTorch, each op saves an operand only when the other one
needs a gradient, and refuses operands of different dtypes (it never promotes
a float32 weight against float64 or integer input).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops._checks import array, check_same_dtype
from chainrule.tensor import Tensor


class MatMul(Function):
    """y = A B     δ_A = δ_y Bᵀ,  δ_B = Aᵀ δ_y   (batched, broadcast)

    Saves B only if A needs a gradient and A only if B does (as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = (a.shape, b.shape)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        a2 = (1,) + sa if len(sa) == 1 else sa  # (k,) -> (1, k)
        b2 = sb + (1,) if len(sb) == 1 else sb  # (k,) -> (k, 1)
        g = grad  # restore the dims the promotion removed: (…, m, n)
        if len(sb) == 1:
            g = np.expand_dims(g, -1)
        if len(sa) == 1:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if b is not None:  # saved because A needs a gradient
            grad_a = np.matmul(g, np.swapaxes(b.reshape(b2), -1, -2))
            grad_a = unbroadcast(grad_a, a2).reshape(sa)
        if a is not None:  # saved because B needs a gradient
            grad_b = np.matmul(np.swapaxes(a.reshape(a2), -1, -2), g)
            grad_b = unbroadcast(grad_b, b2).reshape(sb)
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules; errors name both shapes
    (and both dtypes, which must agree, as in torch). Derivative: :class:`MatMul`."""
    sa, sb = np.shape(array(a)), np.shape(array(b))
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {sa} @ {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {sa} and {sb} are not aligned: {inner_a} (last dim of the "
            f"first) != {inner_b} (the second's {'only' if len(sb) == 1 else 'second-to-last'}"
            f" dim)"
        )
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        check_same_dtype("matmul", ("the first operand", "the second"), (a.data, b.data))
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {sa} and {sb} cannot be broadcast"
        ) from None


class Linear(Function):
    """y = x Wᵀ + b     δ_x = δ_y W,  δ_W = δ_yᵀ x,  δ_b = Σ_batch δ_y

    Fused: one node instead of matmul + transpose + add, as a course writes it.
    Saves W only if x needs a gradient and x only if W does (as PyTorch's addmm).
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_x = np.matmul(grad, weight) if weight is not None else None
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_w = np.matmul(grad_2d.T, x.reshape(-1, x.shape[-1])) if x is not None else None
        if len(ctx.needs_input_grad) == 2:
            return grad_x, grad_w
        grad_b = grad_2d.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b with ``weight`` of shape (out_features, in_features), as F.linear.

    Input, weight and bias must share one dtype (torch: "mat1 and mat2 must have
    the same dtype"); nothing is promoted. Derivatives: :class:`Linear`.
    """
    x, w = array(input), array(weight)
    b = None if bias is None else array(bias)
    if x.shape[-1:] != w.shape[-1:] or w.ndim != 2:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape "
            f"{w.shape} (expected input (..., {w.shape[-1]}))"
        )
    if b is not None and b.shape != w.shape[:1]:
        raise ValueError(
            f"linear: bias of shape {b.shape} does not match weight of shape "
            f"{w.shape} (expected ({w.shape[0]},))"
        )
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        check_same_dtype("linear", ("input", "weight", "bias"), (x, w, b))
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
