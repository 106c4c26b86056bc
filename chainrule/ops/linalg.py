"""Matrix product.

For 2-D operands y = A B gives δ_A = δ_y Bᵀ and δ_B = Aᵀ δ_y. Vectors are
promoted to matrices (a 1 is prepended to a vector on the left, appended to one
on the right) and batch dimensions broadcast, exactly as ``numpy.matmul`` and
``torch.matmul`` do; the promotion is undone and the batch dimensions summed
on the way back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.tensor import Tensor


class MatMul(Function):
    """y = A B     δ_A = δ_y Bᵀ,  δ_B = Aᵀ δ_y   (batched, broadcast)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.a, ctx.b
        need_a, need_b = ctx.needs_input_grad
        a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1)
        g = grad  # restore the dims the promotion removed: (…, m, n)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        grad_a = grad_b = None
        if need_a:
            grad_a = np.matmul(g, np.swapaxes(b2, -1, -2))
            grad_a = unbroadcast(grad_a, a2.shape).reshape(a.shape)
        if need_b:
            grad_b = np.matmul(np.swapaxes(a2, -1, -2), g)
            grad_b = unbroadcast(grad_b, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules; errors name both shapes.

    y = A B;  δ_A = δ_y Bᵀ,  δ_B = Aᵀ δ_y  (vector promotion undone, batch dims summed).
    """
    sa, sb = np.shape(a.data if isinstance(a, Tensor) else a), np.shape(
        b.data if isinstance(b, Tensor) else b
    )
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
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of shapes {sa} and {sb} cannot be broadcast"
        ) from None


class Linear(Function):
    """y = x Wᵀ + b     δ_x = δ_y W,  δ_W = δ_yᵀ x,  δ_b = Σ_batch δ_y

    Fused: one node instead of matmul + transpose + add, as a course writes it.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.x, ctx.weight = x, weight
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.x, ctx.weight
        need_x, need_w = ctx.needs_input_grad[:2]
        grad_x = np.matmul(grad, weight) if need_x else None
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_w = np.matmul(grad_2d.T, x.reshape(-1, x.shape[-1])) if need_w else None
        if len(ctx.needs_input_grad) == 2:
            return grad_x, grad_w
        grad_b = grad_2d.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b with ``weight`` of shape (out_features, in_features), as F.linear.

    δ_x = δ_y W,  δ_W = δ_yᵀ x,  δ_b = Σ over the batch of δ_y.
    """
    in_features = weight.shape[-1]
    if input.shape[-1:] != (in_features,) or weight.ndim != 2:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match weight of shape "
            f"{weight.shape} (expected input (..., {in_features}))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not match weight of shape "
            f"{weight.shape} (expected ({weight.shape[0]},))"
        )
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
