"""Reductions: sum, mean, var, max/min, logsumexp.

Each reduces over ``dim`` (an int, a tuple, or None for all dimensions) and
keeps the reduced dimensions as size 1 when ``keepdim=True`` (PyTorch's
signatures). Backward spreads δ_y back over the reduced elements.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.ops.elementwise import maximum, minimum
from chainrule.tensor import DEFAULT_FLOAT, MaxResult, Tensor


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; None means every axis."""
    if dim is None or ndim == 0:
        if dim is not None:  # a 0-d tensor accepts dim 0 / -1 (and reduces nothing)
            normalize_dims(dim, 1, op)
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise IndexError(
                f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions"
            )
        out.append(int(d) % builtins.max(ndim, 1))
    return tuple(sorted(set(out)))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = Σ_axes x     δ_x = δ_y broadcast back over the summed axes"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad.reshape(ctx.kept), ctx.shape)


class Mean(Function):
    """y = (1/N) Σ_axes x     δ_x = δ_y / N broadcast back over the axes"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        ctx.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.mean(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad.reshape(ctx.kept) / ctx.count, ctx.shape)


class Var(Function):
    """y = Σ(x - μ)² / (N - c)     δ_x = δ_y ⊙ 2(x - μ) / (N - c)

    c is the ``correction`` (1: the unbiased estimate, 0: the biased one).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        centered = x - np.mean(x, axis=axes, keepdims=True)
        ctx.centered, ctx.kept = centered, _kept_shape(x.shape, axes)
        ctx.denominator = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.denominator

    @staticmethod
    def backward(ctx, grad):
        scale = 2 / ctx.denominator if ctx.denominator else np.inf  # N ≤ c: nan, as torch
        with np.errstate(invalid="ignore"):
            return grad.reshape(ctx.kept) * scale * ctx.centered


class TakeAlongAxis(Function):
    """y = x[..., index, ...] along one axis     δ_x = δ_y scattered back to ``index``

    Used by max/min along a dim: the gradient goes to the one index argmax
    chose, so a tie is routed to a single element, as PyTorch does.
    """

    @staticmethod
    def forward(ctx, x, index, axis, keepdim):
        ctx.index, ctx.axis, ctx.shape = index, axis, x.shape
        values = np.take_along_axis(x, index, axis=axis)
        return values if keepdim else np.squeeze(values, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        kept = grad if grad.ndim == len(ctx.shape) else np.expand_dims(grad, ctx.axis)
        np.put_along_axis(out, ctx.index, kept, axis=ctx.axis)
        return out


class MaxAll(Function):
    """y = max over all x (or min)     δ_x = δ_y / k at each of the k tied maxima"""

    @staticmethod
    def forward(ctx, x, smallest):
        y = np.min(x) if smallest else np.max(x)
        ctx.mask = x == y
        return np.asarray(y)

    @staticmethod
    def backward(ctx, grad):
        return ctx.mask * (grad / np.count_nonzero(ctx.mask))


class LogSumExp(Function):
    """y = m + ln Σ e^(x - m), m = max x     δ_x = δ_y ⊙ softmax(x) = δ_y ⊙ e^(x - y)

    Subtracting m keeps every exponent ≤ 0, so it is finite for any finite x.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = np.max(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        y = m + np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True))
        ctx.x, ctx.y = x, y
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.y.shape) * np.exp(ctx.x - ctx.y)


# ------------------------------------------------------------------- functions
def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Σ over ``dim`` (all if None); δ_x = δ_y broadcast back."""
    return Sum.apply(x, axes=normalize_dims(dim, x.ndim, "sum"), keepdim=keepdim)


def _default_float(out: Tensor) -> Tensor:
    """A statistic of an integer/bool tensor (no gradient) in float32, not NumPy's float64."""
    if out.data.dtype == np.float64:
        out.data = out.data.astype(DEFAULT_FLOAT)
    return out


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all if None); δ_x = δ_y / N broadcast back.

    The mean of an integer or bool tensor (e.g. ``(pred == y).mean()``) is float32.
    """
    out = Mean.apply(x, axes=normalize_dims(dim, x.ndim, "mean"), keepdim=keepdim)
    return out if x.data.dtype.kind == "f" else _default_float(out)


def var(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Σ(x - μ)²/(N - correction) over ``dim``; δ_x = δ_y ⊙ 2(x - μ)/(N - correction)."""
    axes = normalize_dims(dim, x.ndim, "var")
    out = Var.apply(x, axes=axes, correction=correction, keepdim=keepdim)
    return out if x.data.dtype.kind == "f" else _default_float(out)


def _extreme(x: Tensor, dim: Any, keepdim: bool, smallest: bool) -> Any:
    name = "min" if smallest else "max"
    if isinstance(dim, (Tensor, np.ndarray)):  # torch.max(input, other): elementwise
        return minimum(x, dim) if smallest else maximum(x, dim)
    if x.numel() == 0:
        raise ValueError(f"{name}: the tensor is empty (shape {x.shape})")
    if dim is None:
        return MaxAll.apply(x, smallest=smallest)
    (axis,) = normalize_dims(dim, x.ndim, name)
    pick = np.argmin if smallest else np.argmax
    index = pick(x.data, axis=axis, keepdims=True)
    values = TakeAlongAxis.apply(x, index=index, axis=axis, keepdim=keepdim)
    indices = index if keepdim else np.squeeze(index, axis=axis)
    return MaxResult(values, Tensor._make(indices.astype(np.int64), False, None))


def max(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
    """The largest element, or ``(values, indices)`` along ``dim`` (torch.max).

    δ goes to the maximum (split among ties over all of x; along ``dim`` to the one
    index argmax chose). ``max(x, other)`` with a tensor is :func:`maximum`.
    """
    return _extreme(x, dim, keepdim, smallest=False)


def min(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
    """The smallest element, or ``(values, indices)`` along ``dim`` (torch.min).

    δ goes to the minimum, as for :func:`max`; ``min(x, other)`` is :func:`minimum`.
    """
    return _extreme(x, dim, keepdim, smallest=True)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (along ``dim``); an int64 tensor, no gradient."""
    out = np.argmax(x.data, axis=dim, keepdims=keepdim and dim is not None)
    return Tensor._make(np.asarray(out, dtype=np.int64), False, None)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (along ``dim``); an int64 tensor, no gradient."""
    out = np.argmin(x.data, axis=dim, keepdims=keepdim and dim is not None)
    return Tensor._make(np.asarray(out, dtype=np.int64), False, None)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """ln Σ e^x over ``dim``, computed stably; δ_x = δ_y ⊙ softmax(x) along ``dim``."""
    return LogSumExp.apply(x, axes=normalize_dims(dim, x.ndim, "logsumexp"), keepdim=keepdim)
