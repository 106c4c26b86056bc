"""Dropout: zero each element (dropout) or each whole channel (dropout2d) with
probability ``p`` while training.

PyTorch's conventions: ``p`` is the probability to DROP, the kept elements are
scaled by 1/(1 - p) (inverted dropout) so the expectation is unchanged and
evaluation needs no rescaling.
"""

from __future__ import annotations

import warnings

import numpy as np

from chainrule.function import Function
from chainrule.ops._checks import check_probability
from chainrule.random import default_generator
from chainrule.tensor import Tensor

__all__ = ["dropout", "dropout2d"]


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


class FeatureDropout(Function):
    """y[n, c] = x[n, c] · m[n, c] / (1 - p),  m[n, c] ~ Bernoulli(1 - p): one draw per
    sample and channel, shared by the whole feature map x[n, c, …]

    δ_x[n, c] = δ_y[n, c] · m[n, c] / (1 - p)

    Keeps the scaled mask, of shape (N, C, 1, …, 1), drawn in forward.
    """

    @staticmethod
    def forward(ctx, x, p, generator):
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
        keep = generator.random(shape) >= p  # P(keep) = 1 - p
        scaled = np.zeros(shape, dtype=x.dtype)
        if p < 1:
            scaled[keep] = 1.0 / (1.0 - p)
        ctx.mask = scaled
        return x * scaled

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


def dropout2d(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Channel dropout: zero each whole channel ``input[n, c]`` of an (N, C, H, W) input
    with probability ``p`` and scale the kept channels by 1/(1 - p), as ``torch``.

    As torch 2.x, a 3-D input is taken as (N, C, L), not as one unbatched (C, H, W)
    image, and a warning says so (for one image, use ``input.unsqueeze(0)``); other
    ranks ≥ 2 warn too and drop entries of the first two dims. With ``training=False``
    (or p = 0) the input is returned as it is. Masks come from ``generator`` (default:
    :func:`chainrule.random.default_generator`); ``inplace`` is accepted for torch code.
    Derivative: :class:`FeatureDropout`.
    """
    check_probability("dropout2d", p)
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"dropout2d: generator must be a numpy.random.Generator, got "
            f"{type(generator).__name__}"
        )
    shape = input.shape if isinstance(input, Tensor) else np.shape(input)
    if len(shape) < 2:
        raise ValueError(
            f"dropout2d: expected an input (N, C, H, W) of at least 2 dims, got shape "
            f"{tuple(shape)}"
        )
    if len(shape) == 3:
        warnings.warn(
            f"dropout2d: received a 3-D input of shape {tuple(shape)}; as torch, it is taken "
            f"as (N, C, L) and whole rows input[n, c] are dropped (1-D channel dropout). "
            f"For one (C, H, W) image, pass input.unsqueeze(0).",
            UserWarning,
            stacklevel=2,
        )
    elif len(shape) != 4:
        warnings.warn(
            f"dropout2d: received a {len(shape)}-D input of shape {tuple(shape)}; it expects "
            f"(N, C, H, W). As torch, entries input[n, c] are dropped; use dropout instead.",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0:
        return input
    if generator is None:
        generator = default_generator()
    return FeatureDropout.apply(input, p=p, generator=generator)
