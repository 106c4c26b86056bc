"""Dropout: zero each element with probability ``p`` while training.

PyTorch's conventions: ``p`` is the probability to DROP, the kept elements are
scaled by 1/(1 - p) (inverted dropout) so the expectation is unchanged and
evaluation needs no rescaling.
"""

from __future__ import annotations

import numpy as np

from chainrule.function import Function
from chainrule.ops._checks import check_probability
from chainrule.random import default_generator
from chainrule.tensor import Tensor

__all__ = ["dropout"]


class Dropout(Function):
    """y = x ⊙ m / (1 - p),  m ~ Bernoulli(1 - p)     δ_x = δ_y ⊙ m / (1 - p)

    Keeps the scaled mask m / (1 - p), drawn in forward (nothing of x or y).
    """

    @staticmethod
    def forward(ctx, x, p, generator):
        keep = generator.random(x.shape) >= p  # P(keep) = 1 - p
        scaled = np.zeros(x.shape, dtype=x.dtype)
        if p < 1:
            scaled[keep] = 1.0 / (1.0 - p)
        ctx.mask = scaled
        return x * scaled

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    With ``training=False`` (or p = 0) the input is returned as it is. The mask is
    drawn from ``generator`` (default: :func:`chainrule.random.default_generator`).
    ``inplace`` is accepted for torch code; the result is a new tensor all the same.
    Derivative: :class:`Dropout`.
    """
    check_probability("dropout", p)
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"dropout: generator must be a numpy.random.Generator, got "
            f"{type(generator).__name__}"
        )
    if not training or p == 0:
        return input
    if generator is None:
        generator = default_generator()
    return Dropout.apply(input, p=p, generator=generator)
