"""Reductions: sum, mean, var, std, max/min, logsumexp.

Each reduces over ``dim`` (an int, a tuple, or None for all dimensions; NumPy's
``axis`` is accepted too) and keeps the reduced dimensions as size 1 when
``keepdim=True`` (PyTorch's signatures; NumPy's ``keepdims`` too). Backward
spreads δ_y back over the reduced elements. What backward reads is saved as
PyTorch saves it (var: x; std and logsumexp: x and y; sum and mean: nothing).
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.ops import _numerics
from chainrule.ops._checks import dim_arg, keepdim_arg, normalize_dims
from chainrule.ops.elementwise import maximum, minimum
from chainrule.tensor import DEFAULT_FLOAT, MaxResult, Tensor


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` (kept dims of size 1) repeated over ``shape``, in a new array."""
    out = np.empty(shape, dtype=values.dtype)
    out[...] = values
    return out


class Sum(Function):
    """y = Σ_axes x     δ_x = δ_y broadcast back over the summed axes"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad.reshape(ctx.kept), ctx.shape)


class Mean(Function):
    """y = (1/N) Σ_axes x     δ_x = δ_y / N broadcast back over the axes"""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.kept = x.shape, _kept_shape(x.shape, axes)
        ctx.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad.reshape(ctx.kept) / ctx.count, ctx.shape)


def _variance(ctx: Function, x: np.ndarray, axes: tuple[int, ...], correction: int,
              keepdim: bool) -> np.ndarray:
    """Σ(x - μ)² / max(N - c, 0) over ``axes``; keeps the axes and divisor on ``ctx``."""
    n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    centered = x - np.mean(x, axis=axes, keepdims=True)
    ctx.axes, ctx.kept = axes, _kept_shape(x.shape, axes)
    ctx.denominator = builtins.max(n - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.denominator


def _centered_over(ctx: Function, x: np.ndarray) -> np.ndarray:
    """(x - μ) / (N - c) over the reduced axes, ∞ for N ≤ c (a NaN gradient, as torch)."""
    scale = 1 / ctx.denominator if ctx.denominator else np.inf
    with np.errstate(invalid="ignore"):
        return (x - np.mean(x, axis=ctx.axes, keepdims=True)) * scale


class Var(Function):
    """y = Σ(x - μ)² / (N - c)     δ_x = δ_y ⊙ 2(x - μ) / (N - c)

    c is the ``correction`` (1: the unbiased estimate, 0: the biased one). Saves x.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        return _variance(ctx, x, axes, correction, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return grad.reshape(ctx.kept) * 2 * _centered_over(ctx, x)


class Std(Function):
    """y = √(Σ(x - μ)² / (N - c))     δ_x = δ_y ⊙ (x - μ) / ((N - c) y),  0 where y = 0

    At y = 0 (a constant input) the gradient is 0, not 0/0, as PyTorch (which
    masks it): |x - μ| has no slope to prefer. Saves x and y.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        y = np.asarray(np.sqrt(_variance(ctx, x, axes, correction, keepdim)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y = y.reshape(ctx.kept)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_y = np.where(y == 0, 0, grad.reshape(ctx.kept) / y)
            return per_y * _centered_over(ctx, x)


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
    """y = max over all x (or min)     δ_x = δ_y / k at each of the k tied maxima

    Saves x and y (as PyTorch) and finds the maxima x = y in backward.
    """

    @staticmethod
    def forward(ctx, x, smallest):
        y = np.asarray(np.min(x) if smallest else np.max(x))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        mask = x == y
        return mask * (grad / np.count_nonzero(mask))


class LogSumExp(Function):
    """y = m + ln Σ e^(x - m), m = max x     δ_x = δ_y ⊙ softmax(x) = δ_y ⊙ e^(x - y)

    Subtracting m keeps every exponent ≤ 0, so it is finite for any finite x;
    -inf entries get δ 0, a reduction over nothing gives -inf (as torch). Saves x, y.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = np.asarray(_numerics.logsumexp(x, axes, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        ctx.kept = _kept_shape(x.shape, axes)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return grad.reshape(ctx.kept) * np.exp(x - y.reshape(ctx.kept))


# ------------------------------------------------------------------- functions
# Each derivative is stated once, on the Function that implements it. ``dim`` may
# also be spelled ``axis`` and ``keepdim`` ``keepdims`` (NumPy's names).
def _axes(x: Tensor, dim: Any, axis: Any, op: str) -> tuple[int, ...]:
    return normalize_dims(dim_arg(dim, axis), x.shape, op)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """Σ over ``dim`` (all if None). Derivative: :class:`Sum`."""
    return Sum.apply(x, axes=_axes(x, dim, axis, "sum"), keepdim=keepdim_arg(keepdim, keepdims))


def _default_float(out: Tensor) -> Tensor:
    """A statistic of an integer/bool tensor (no gradient) in float32, not NumPy's float64."""
    if out.data.dtype == np.float64:
        out.data = out.data.astype(DEFAULT_FLOAT)
    return out


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Mean over ``dim`` (all if None). Derivative: :class:`Mean`.

    The mean of an integer or bool tensor (e.g. ``(pred == y).mean()``) is float32.
    """
    out = Mean.apply(x, axes=_axes(x, dim, axis, "mean"),
                     keepdim=keepdim_arg(keepdim, keepdims))
    return out if x.data.dtype.kind == "f" else _default_float(out)


def var(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False, *,
        axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """Σ(x - μ)²/(N - correction) over ``dim`` (all if None): correction=1 is the
    unbiased estimate (torch's default), 0 the biased one. Derivative: :class:`Var`."""
    out = Var.apply(x, axes=_axes(x, dim, axis, "var"), correction=correction,
                    keepdim=keepdim_arg(keepdim, keepdims))
    return out if x.data.dtype.kind == "f" else _default_float(out)


def std(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False, *,
        axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """√var over ``dim`` (see :func:`var`); its gradient is 0 (not NaN) where the
    standard deviation is 0, as torch. Derivative: :class:`Std`."""
    out = Std.apply(x, axes=_axes(x, dim, axis, "std"), correction=correction,
                    keepdim=keepdim_arg(keepdim, keepdims))
    return out if x.data.dtype.kind == "f" else _default_float(out)


def _extreme(x: Tensor, dim: Any, keepdim: bool, smallest: bool) -> Any:
    name = "min" if smallest else "max"
    if isinstance(dim, (Tensor, np.ndarray)):  # torch.max(input, other): elementwise
        return minimum(x, dim) if smallest else maximum(x, dim)
    if x.numel() == 0:
        raise ValueError(f"{name}: the tensor is empty (shape {x.shape})")
    if dim is None:
        return MaxAll.apply(x, smallest=smallest)
    (axis,) = normalize_dims(dim, x.shape, name) or (None,)
    if axis is None:  # a 0-d tensor along dim 0: itself, at index 0
        return MaxResult(Sum.apply(x, axes=(), keepdim=False),
                         Tensor._make(np.zeros((), dtype=np.int64), False, None))
    pick = np.argmin if smallest else np.argmax
    index = pick(x.data, axis=axis, keepdims=True)
    values = TakeAlongAxis.apply(x, index=index, axis=axis, keepdim=keepdim)
    indices = index if keepdim else np.squeeze(index, axis=axis)
    return MaxResult(values, Tensor._make(indices.astype(np.int64), False, None))


def max(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: Any = None, keepdims: bool | None = None) -> Any:
    """The largest element, or ``(values, indices)`` along ``dim`` (torch.max);
    ``max(x, other)`` with a tensor is :func:`maximum`. Derivatives: :class:`MaxAll`
    (ties share δ), :class:`TakeAlongAxis` (along ``dim``: the one index argmax chose)."""
    return _extreme(x, dim_arg(dim, axis), keepdim_arg(keepdim, keepdims), smallest=False)


def min(x: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: Any = None, keepdims: bool | None = None) -> Any:
    """The smallest element, or ``(values, indices)`` along ``dim`` (torch.min), as
    :func:`max`; ``min(x, other)`` is :func:`minimum`."""
    return _extreme(x, dim_arg(dim, axis), keepdim_arg(keepdim, keepdims), smallest=True)


def _arg_extreme(pick: Any, x: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    if x.numel() == 0:
        raise ValueError(f"{op}: the tensor is empty (shape {x.shape})")
    axis = None if dim is None or x.ndim == 0 else normalize_dims(dim, x.shape, op)[0]
    out = pick(x.data, axis=axis, keepdims=keepdim and axis is not None)
    return Tensor._make(np.asarray(out, dtype=np.int64), False, None)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: bool | None = None) -> Tensor:
    """Index of the largest element (along ``dim``); an int64 tensor, no gradient."""
    return _arg_extreme(np.argmax, x, dim_arg(dim, axis), keepdim_arg(keepdim, keepdims),
                        "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: bool | None = None) -> Tensor:
    """Index of the smallest element (along ``dim``); an int64 tensor, no gradient."""
    return _arg_extreme(np.argmin, x, dim_arg(dim, axis), keepdim_arg(keepdim, keepdims),
                        "argmin")


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
              keepdims: bool | None = None) -> Tensor:
    """ln Σ e^x over ``dim`` (all if None), computed stably (-inf entries count as 0;
    over no elements it is -inf, as torch). Derivative: :class:`LogSumExp`."""
    return LogSumExp.apply(x, axes=_axes(x, dim, axis, "logsumexp"),
                           keepdim=keepdim_arg(keepdim, keepdims))


# ----------------------------------------------------- cumsum, norm, prod
def _one_axis(dim: Any, ndim: int, op: str) -> int | None:
    """``dim`` as one non-negative axis; None for a 0-d tensor (which accepts 0 and -1)."""
    if dim is None or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    axes = normalize_dims(dim, ndim, op)
    return axes[0] if ndim else None


class CumSum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along dim     δ_xⱼ = Σ_{i≥j} δ_yᵢ  (reversed cumsum of the reversed δ_y)"""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        if axis is None:  # a 0-d tensor: its own cumulative sum
            return x.astype(dtype, copy=True)
        return np.cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is None:
            return grad
        axis = ctx.axis
        return np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis)


def cumsum(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """Cumulative sums along ``dim`` (torch.cumsum); integer and bool tensors give int64.

    δ_xⱼ = Σ_{i≥j} δ_yᵢ: the gradient reversed, cumulatively summed, reversed back.
    """
    axis = _one_axis(dim, input.ndim, "cumsum")
    if dtype is None:
        dtype = input.dtype if input.dtype.kind in "fc" else np.int64
    return CumSum.apply(input, axis=axis, dtype=np.dtype(dtype))


class Norm(Function):
    """y = ‖x‖_p = (Σ |x|^p)^(1/p) over the dims  (p = ∞: max |x|, -∞: min |x|, 0: #{x ≠ 0})

    δ_x = δ_y ⊙ x / y                                 p = 2 (0 where y = 0)
    δ_x = δ_y ⊙ sign(x)                               p = 1
    δ_x = δ_y ⊙ sign(x) ⊙ [|x| = y] / #{|x| = y}      p = ±∞ (tied extremes share δ_y)
    δ_x = δ_y ⊙ sign(x) |x|^(p-1) / y^(p-1)           other p (0 where y = 0, and at x = 0
                                                      when p < 1)
    δ_x = 0                                           p = 0
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = np.abs(x)
        with np.errstate(divide="ignore", over="ignore"):
            if p == 2:
                y = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
            elif p == 1:
                y = np.sum(a, axis=axes, keepdims=True)
            elif p == np.inf:
                y = np.max(a, axis=axes, keepdims=True)
            elif p == -np.inf:
                y = np.min(a, axis=axes, keepdims=True)
            elif p == 0:
                y = np.sum(x != 0, axis=axes, keepdims=True).astype(x.dtype)
            else:
                y = np.sum(a**p, axis=axes, keepdims=True) ** (1 / p)
        ctx.p, ctx.axes, ctx.kept = p, axes, y.shape
        if not keepdim:
            y = y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        y, grad, p = y.reshape(ctx.kept), grad.reshape(ctx.kept), ctx.p
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 0:
                return np.zeros_like(x)
            if p == 1:
                return grad * np.sign(x)
            if p == 2:
                return np.where(y == 0, 0, grad / y) * x
            if np.isinf(p):  # torch: the tied extremes (and NaNs) share δ_y
                a = np.abs(x)
                mask = (a == y) | np.isnan(a)
                count = np.sum(mask, axis=ctx.axes, keepdims=True)
                return np.sign(x) * mask * (grad / count)
            if p < 1:
                scaled = np.where(x == 0, 0, np.sign(x) * np.abs(x) ** (p - 1))
                return scaled * grad * y ** (1 - p)
            scale = np.where(y == 0, 0, grad / y ** (p - 1))
            return np.sign(x) * np.abs(x) ** (p - 1) * scale


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm over ``dim`` (all elements if None), as torch.norm / Tensor.norm.

    ``p`` is ``'fro'`` (= 2 over the dims, at most two of them), a number, ``inf``
    or ``-inf``. δ_x = δ_y ⊙ x/‖x‖ for p = 2 (0 at ‖x‖ = 0), δ_y ⊙ sign(x) for
    p = 1, and for p = ±inf δ_y shared equally by the elements tied at the extreme.
    """
    if input.dtype.kind != "f":
        raise TypeError(f"norm: expected a floating point tensor, got dtype {input.dtype}")
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("norm: p='nuc' (the nuclear norm) is not implemented")
        if p != "fro":
            raise ValueError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ValueError(
                f"norm: p='fro' takes at most two dims, got dim={tuple(dim)} for a tensor "
                f"of shape {input.shape}"
            )
        order = 2.0
    else:
        order = 2.0 if p is None else float(p)
    axes = normalize_dims(dim, input.ndim, "norm")
    return Norm.apply(input, p=order, axes=axes, keepdim=keepdim)


class Prod(Function):
    """y = Π xᵢ over dim (all if None)     δ_xᵢ = δ_y ⊙ Π_{j≠i} xⱼ

    Π_{j≠i} xⱼ is the exclusive cumulative product from the left times the one
    from the right: exact when some xⱼ are 0 (it never divides by xᵢ).
    """

    @staticmethod
    def forward(ctx, x, axis, keepdim, dtype):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.axis is None:
            return grad * _products_of_others(x.reshape(-1), 0).reshape(x.shape)
        kept = grad if ctx.keepdim else np.expand_dims(grad, ctx.axis)
        return kept * _products_of_others(x, ctx.axis)


def _products_of_others(x: np.ndarray, axis: int) -> np.ndarray:
    """Π_{j≠i} xⱼ along ``axis`` for every i, without division."""
    n = x.shape[axis]
    if n == 0:
        return np.zeros_like(x)
    first = (slice(None),) * axis + (slice(0, 1),)
    but_last = (slice(None),) * axis + (slice(0, n - 1),)
    ones = np.ones_like(x[first])
    left = np.cumprod(np.concatenate([ones, x[but_last]], axis=axis), axis=axis)
    flipped = np.flip(x, axis)
    right = np.cumprod(np.concatenate([ones, flipped[but_last]], axis=axis), axis=axis)
    return left * np.flip(right, axis)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """Π over ``dim`` (all if None), as torch.prod; integer and bool tensors give int64.

    δ_xᵢ = δ_y ⊙ Π_{j≠i} xⱼ, computed without dividing, so zeros are handled exactly.
    """
    axis = None if dim is None else _one_axis(dim, input.ndim, "prod")
    if dtype is None:
        dtype = input.dtype if input.dtype.kind in "fc" else np.int64
    return Prod.apply(input, axis=axis, keepdim=keepdim and axis is not None,
                      dtype=np.dtype(dtype))
