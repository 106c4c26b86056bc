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
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        grad_a = grad_b = None
        if need_a:
            grad_a = np.matmul(g, np.swapaxes(b2, -1, -2))
            grad_a = unbroadcast(grad_a, a2.shape).reshape(a.shape)
        if need_b:
            grad_b = np.matmul(np.swapaxes(a2, -1, -2), g)
            grad_b = unbroadcast(grad_b, b2.shape).reshape(b.shape)
        return grad_a, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch broadcasting rules; errors name both shapes."""
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
