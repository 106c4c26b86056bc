"""Pooling over one or two spatial dims: max, average and adaptive average.

Layouts and semantics are torch's: (N, C, L) or (C, L) for the 1-d ops, (N, C, H, W)
or (C, H, W) for the 2-d ones; ``stride`` defaults to ``kernel_size``; max-pooling
pads with -inf, average-pooling with zeros (counted in the divisor unless
``count_include_pad=False``); padding may be at most half the kernel; with
``ceil_mode`` the last window may run past the input but must start inside the
input or the left padding. A tie in max-pooling sends the gradient to one element:
the first maximum of the window in row-major order (a NaN wins, the last NaN of
the window, as torch's CPU kernel).

How it is computed: a window has kH·kW offsets (i, j); for each offset, the
elements it picks from every window form one strided view of the (padded) input,
``x[..., i·dH :: sH, j·dW :: sW]``. When the windows tile the input (stride =
kernel, no padding, no dilation) that view is ``x.reshape(N, C, H/kH, kH, W/kW,
kW)[..., :, i, :, j]`` and nothing is copied at all. Forward reduces over the kH·kW
views (running maximum and first argmax, or running sum); backward writes or
accumulates δ_y into the same views of a zero gradient, one offset at a time. The
Python loop is over kernel offsets only, never over pixels, channels or samples,
and nothing uses ``np.add.at``. A 1-d op is the 2-d one with a dummy height of 1.

Adaptive average pooling averages over the windows [⌊o·I/O⌋, ⌈(o+1)·I/O⌉) of
each axis; that is a matrix A (O × I) applied on each side, y = A_H x A_Wᵀ, two
matrix products (BLAS) whatever the sizes; an output of 1 (global average pooling)
is the plain mean, and its gradient a broadcast.

Backward reads nothing of x or y (only the argmax offsets it made, and the
geometry), so nothing is saved with ``save_for_backward``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from chainrule.function import Function, is_grad_enabled
from chainrule.ops._checks import check_float, int_tuple, to_array
from chainrule.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]


# ------------------------------------------------------------------ geometry
class _Axis(NamedTuple):
    """One spatial axis of a pooling: input length, kernel, stride, padding, dilation,
    output length and how far the windows reach past the input on the right."""

    size: int
    k: int
    s: int
    p: int
    d: int
    out: int
    right: int

    @property
    def span(self) -> int:
        """A window's extent, (k - 1)·d + 1."""
        return (self.k - 1) * self.d + 1

    def offset(self, i: int) -> slice:
        """Where kernel offset ``i`` of every window lies on the padded axis."""
        start = i * self.d
        return slice(start, start + (self.out - 1) * self.s + 1, self.s)

    def starts(self) -> np.ndarray:
        """The first input position of each window (negative inside the left padding)."""
        return np.arange(self.out) * self.s - self.p


_NO_AXIS = _Axis(size=1, k=1, s=1, p=0, d=1, out=1, right=0)  # the dummy height of 1-d pooling


class _Grid(NamedTuple):
    """The geometry of one pooling call: the height and width axes (``spatial`` = 1:
    the height is a dummy of size 1)."""

    h: _Axis
    w: _Axis
    spatial: int

    @property
    def tiled(self) -> bool:
        """Windows are the blocks of a reshape: stride = kernel, no padding, no dilation."""
        return all(a.s == a.k and a.p == 0 and a.d == 1 and a.right == 0 for a in self)

    @property
    def covers(self) -> bool:
        """The tiled windows cover the whole input (no leftover rows or columns)."""
        return self.tiled and all(a.out * a.k == a.size for a in (self.h, self.w))

    @property
    def disjoint(self) -> bool:
        """No input element is in two windows (stride ≥ window extent)."""
        return self.h.s >= self.h.span and self.w.s >= self.w.span

    @property
    def padded(self) -> bool:
        return any(a.p or a.right for a in (self.h, self.w))

    def padded_shape(self, lead: tuple[int, ...]) -> tuple[int, ...]:
        return lead + tuple(a.p + a.size + a.right for a in (self.h, self.w))

    def __iter__(self):  # the two axes
        return iter((self.h, self.w))


def _output_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """torch's rule: ⌊(L + 2p - d(k-1) - 1 [+ s - 1 with ceil]) / s⌋ + 1, minus one if
    the last window would start in the right padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_input(op: str, x: np.ndarray, spatial: int) -> None:
    """(C, *spatial) or (N, C, *spatial), float, nothing empty but the batch."""
    names = "L" if spatial == 1 else "H, W"
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 2}-D input (N, C, {names}) or a {spatial + 1}-D "
            f"input (C, {names}), got shape {x.shape}"
        )
    if 0 in x.shape[-spatial - 1:]:
        raise ValueError(
            f"{op}: expected an input (N, C, {names}) with no empty dimension except the "
            f"batch, got shape {x.shape}"
        )
    check_float(op, "input", x)


def _grid(
    op: str, x: np.ndarray, spatial: int, kernel_size: Any, stride: Any, padding: Any,
    dilation: Any, ceil_mode: bool,
) -> _Grid:
    """Check the input and the arguments of a pooling; its geometry."""
    _check_input(op, x, spatial)
    kernel = int_tuple(op, "kernel_size", kernel_size, spatial, 1)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        strides = kernel
    else:
        strides = int_tuple(op, "stride", stride, spatial, 1)
    pads = int_tuple(op, "padding", padding, spatial, 0)
    dilations = int_tuple(op, "dilation", dilation, spatial, 1)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{op}: padding {padding!r} must be at most half of kernel_size {kernel_size!r} "
            f"(padding ≤ kernel_size // 2 on each side, as torch), got padding {pads} for "
            f"kernel {kernel}"
        )
    sizes = x.shape[-spatial:]
    outs = tuple(
        _output_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(sizes, kernel, strides, pads, dilations)
    )
    if any(o < 1 for o in outs):
        spans = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilations))
        padded = tuple(n + 2 * p for n, p in zip(sizes, pads))
        raise ValueError(
            f"{op}: input of shape {x.shape} is too small: the window (kernel_size "
            f"{kernel}, dilation {dilations}, so {spans} wide) does not fit in the padded "
            f"input {padded}, so the output size would be {outs}; expected a kernel no "
            f"larger than the padded input"
        )
    axes = [
        _Axis(n, k, s, p, d, o, max(0, (o - 1) * s + (k - 1) * d + 1 - p - n))
        for n, k, s, p, d, o in zip(sizes, kernel, strides, pads, dilations, outs)
    ]
    if spatial == 1:
        return _Grid(_NO_AXIS, axes[0], 1)
    return _Grid(axes[0], axes[1], 2)


def _as_2d(a: np.ndarray, grid: _Grid) -> np.ndarray:
    """(…, H, W) as it is; (…, L) as (…, 1, L) (a view)."""
    return a if grid.spatial == 2 else a[..., None, :]


def _padded(a: np.ndarray, grid: _Grid, fill: float) -> np.ndarray:
    """``a`` (…, H, W) with ``p`` cells of ``fill`` on the left and top and as many on
    the right and bottom as the windows reach (no copy when there are none)."""
    if not grid.padded:
        return a
    out = np.full(grid.padded_shape(a.shape[:-2]), fill, dtype=a.dtype)
    h, w = grid
    out[..., h.p:h.p + h.size, w.p:w.p + w.size] = a
    return out


def _offset_views(a: np.ndarray, grid: _Grid) -> list[np.ndarray]:
    """For each kernel offset (i, j) in row-major order, the (…, H_out, W_out) view of
    the padded array ``a`` holding element (i, j) of every window."""
    h, w = grid
    if grid.tiled:
        blocks = a[..., :h.out * h.k, :w.out * w.k].reshape(
            a.shape[:-2] + (h.out, h.k, w.out, w.k)
        )
        return [blocks[..., :, i, :, j] for i in range(h.k) for j in range(w.k)]
    return [a[..., h.offset(i), w.offset(j)] for i in range(h.k) for j in range(w.k)]


def _gradient_buffer(grid: _Grid, lead: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The (padded) input gradient to scatter into: zeros unless the windows write
    every element exactly once."""
    shape = grid.padded_shape(lead)
    return np.empty(shape, dtype=dtype) if grid.covers else np.zeros(shape, dtype=dtype)


def _unpadded(a: np.ndarray, grid: _Grid, shape: tuple[int, ...]) -> np.ndarray:
    """The input-sized part of a padded gradient, in the input's ``shape``."""
    if grid.padded:
        h, w = grid
        a = np.ascontiguousarray(a[..., h.p:h.p + h.size, w.p:w.p + w.size])
    return a.reshape(shape)


# ------------------------------------------------------------------ max-pool
def _max_and_argmax(views: list[np.ndarray], want_argmax: bool) -> tuple[Any, Any]:
    """The elementwise maximum of the views and, if wanted, the offset of the first
    maximum (torch's rule: a NaN beats everything, a later NaN beats an earlier one)."""
    y = views[0].copy()
    if not want_argmax:
        for v in views[1:]:
            np.maximum(y, v, out=y)
        return y, None
    kind = np.uint8 if len(views) <= 256 else np.int32
    arg = np.zeros(y.shape, dtype=kind)
    for k, v in enumerate(views[1:], 1):
        above = v > y  # strictly: a tie keeps the earlier offset
        np.maximum(y, v, out=y)
        np.maximum(arg, above * kind(k), out=arg)  # k exceeds every earlier offset
    if np.isnan(y).any():  # comparisons with NaN are False: redo the argmax NaN-aware
        running = views[0].copy()
        arg[...] = 0
        for k, v in enumerate(views[1:], 1):
            take = (v > running) | np.isnan(v)
            np.copyto(running, v, where=take)
            arg[take] = k
    return y, arg


def _first_real_offset(grid: _Grid) -> np.ndarray:
    """Per window (H_out, W_out), the offset of its first element inside the input:
    where torch's kernel starts its search (and what it keeps if all are -inf)."""
    first = [np.maximum(0, -(a.starts() // a.d)) for a in grid]
    return first[0][:, None] * grid.w.k + first[1][None, :]


def _flat_indices(arg: np.ndarray, grid: _Grid) -> np.ndarray:
    """The argmax as torch's ``return_indices``: the flat index into each input plane
    (row · W + column; the position along L for 1-d), int64."""
    h, w = grid
    i, j = np.divmod(arg.astype(np.int64), w.k)
    rows = h.starts()[:, None] + i * h.d
    cols = w.starts()[None, :] + j * w.d
    return rows * w.size + cols


class MaxPool(Function):
    """y[o] = max over the window W(o) of x   (padding is -inf)

    δ_x[i] = Σ_o δ_y[o] · 1[i = a(o)],  a(o) = the first argmax of W(o) in row-major
    order: a tie sends all of δ_y[o] to one element, as torch. Keeps a(o) as the
    kernel offset (i, j) of every window, made in forward (nothing of x or y).
    """

    @staticmethod
    def forward(ctx, x, grid, indices=None):
        x2 = _as_2d(x, grid)
        views = _offset_views(_padded(x2, grid, -np.inf), grid)
        want = indices is not None or (ctx.needs_input_grad[0] and is_grad_enabled())
        y, arg = _max_and_argmax(views, want)
        if arg is not None:
            if grid.h.p or grid.w.p:  # a window of -inf keeps its first element in the input
                dead = y == -np.inf
                if dead.any():
                    arg = np.where(dead, _first_real_offset(grid).astype(arg.dtype), arg)
            ctx.arg, ctx.grid, ctx.shape = arg, grid, x.shape
            if indices is not None:
                indices.append(_flat_indices(arg, grid))
        return y if grid.spatial == 2 else y[..., 0, :]

    @staticmethod
    def backward(ctx, grad):
        grid, arg = ctx.grid, ctx.arg
        # read once per kernel offset: a strided δ_y (a conv's δ_x view) is copied first
        g = np.ascontiguousarray(_as_2d(grad, grid))
        dx = _gradient_buffer(grid, g.shape[:-2], grad.dtype)
        for k, view in enumerate(_offset_views(dx, grid)):
            hit = arg == k
            if grid.disjoint:  # each element gets at most one window's gradient
                np.multiply(g, hit, out=view)
            else:
                view += g * hit
        return _unpadded(dx, grid, ctx.shape)


def _max_pool(op, input, spatial, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    grid = _grid(op, to_array(input), spatial, kernel_size, stride, padding, dilation,
                 ceil_mode)
    if not return_indices:
        return MaxPool.apply(input, grid=grid)
    found: list[np.ndarray] = []
    out = MaxPool.apply(input, grid=grid, indices=found)
    indices = found[0] if spatial == 2 else found[0][..., 0, :]
    return out, Tensor._make(np.ascontiguousarray(indices), False, None)


def max_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-d max pooling of an (N, C, H, W) or (C, H, W) input, as ``torch``.

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the kernel) is
    -inf; ``dilation`` spaces the kernel's elements; ``ceil_mode`` rounds the output
    size up (the last window still starts inside the input or the left padding).
    ``return_indices=True`` also returns the flat index (row · W + column) of each
    maximum in its input plane, int64. Derivative: :class:`MaxPool`.
    """
    return _max_pool("max_pool2d", input, 2, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool1d(
    input: Tensor,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """1-d max pooling of an (N, C, L) or (C, L) input; arguments as :func:`max_pool2d`
    (the indices are positions along L). Derivative: :class:`MaxPool`."""
    return _max_pool("max_pool1d", input, 1, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


# ------------------------------------------------------------------ avg-pool
def _window_counts(axis: _Axis, count_include_pad: bool) -> np.ndarray:
    """Per window, how many positions it divides by along one axis (torch's rule: the
    padding counts if asked, what lies past the right padding never does)."""
    start = axis.starts()
    end = np.minimum(start + axis.k, axis.size + axis.p)
    if count_include_pad:
        return end - start
    return np.minimum(end, axis.size) - np.maximum(start, 0)


def _divisor(grid: _Grid, count_include_pad: bool, divisor_override: Any,
             dtype: np.dtype) -> Any:
    """c_o for every window: a number when it is the same everywhere, else (H_out, W_out)."""
    if divisor_override is not None:
        return divisor_override
    counts = np.outer(*(_window_counts(a, count_include_pad) for a in grid))
    full = grid.h.k * grid.w.k
    return full if (counts == full).all() else counts.astype(dtype)


class AvgPool(Function):
    """y[o] = (1/c_o) Σ_{i ∈ W(o)} x[i]   (padding is 0; c_o the window's divisor)

    δ_x[i] = Σ_{o : i ∈ W(o)} δ_y[o] / c_o
    """

    @staticmethod
    def forward(ctx, x, grid, divisor):
        views = _offset_views(_padded(_as_2d(x, grid), grid, 0), grid)
        y = views[0] + views[1] if len(views) > 1 else views[0].copy()
        for v in views[2:]:
            y += v
        y /= divisor
        ctx.grid, ctx.divisor, ctx.shape = grid, divisor, x.shape
        return y if grid.spatial == 2 else y[..., 0, :]

    @staticmethod
    def backward(ctx, grad):
        grid = ctx.grid
        g = _as_2d(grad, grid) / ctx.divisor
        dx = _gradient_buffer(grid, g.shape[:-2], grad.dtype)
        for view in _offset_views(dx, grid):
            if grid.disjoint:
                view[...] = g
            else:
                view += g
        return _unpadded(dx, grid, ctx.shape)


def _avg_pool(op, input, spatial, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x = to_array(input)
    grid = _grid(op, x, spatial, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
            divisor_override, (int, np.integer)
        ):
            raise TypeError(f"{op}: divisor_override must be an int, got {divisor_override!r}")
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
    divisor = _divisor(grid, count_include_pad, divisor_override, x.dtype)
    return AvgPool.apply(input, grid=grid, divisor=divisor)


def avg_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-d average pooling of an (N, C, H, W) or (C, H, W) input, as ``torch``.

    ``padding`` (at most half the kernel) is zeros, counted in the divisor when
    ``count_include_pad`` (default) — except the part of a ``ceil_mode`` window past
    the right padding, which never counts; ``divisor_override`` replaces the divisor.
    Derivative: :class:`AvgPool`.
    """
    return _avg_pool("avg_pool2d", input, 2, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(
    input: Tensor,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-d average pooling of an (N, C, L) or (C, L) input; arguments as
    :func:`avg_pool2d`. Derivative: :class:`AvgPool`."""
    return _avg_pool("avg_pool1d", input, 1, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


# --------------------------------------------------------- adaptive avg-pool
@functools.lru_cache(maxsize=128)
def _averaging_matrix(size: int, out: int, dtype: str) -> np.ndarray:
    """A (out × size): row o averages [⌊o·size/out⌋, ⌈(o+1)·size/out⌉) (torch's windows)."""
    o = np.arange(out)
    start = (o * size) // out
    end = -((-(o + 1) * size) // out)
    j = np.arange(size)
    inside = (j >= start[:, None]) & (j < end[:, None])
    a = (inside / (end - start)[:, None]).astype(dtype)
    a.flags.writeable = False
    return a


def _both_sides(a: np.ndarray, left: np.ndarray | None, right: np.ndarray) -> np.ndarray:
    """left · a · rightᵀ over the last two axes of ``a`` (only a · rightᵀ over the last
    axis when ``left`` is None): the last axis first, straight from ``a``'s memory,
    then the height, on the smaller intermediate (two plain matrix products)."""
    lead, width = a.shape[:-1], a.shape[-1]
    q = right.shape[0]
    if q == 1 and (left is None or left.shape[0] == 1):  # global average: the plain mean
        keep = a.shape[:-1] if left is None else a.shape[:-2]
        cells = int(np.prod(a.shape[len(keep):]))
        mean = a.reshape(int(np.prod(keep)), cells).mean(axis=1, dtype=a.dtype)
        return mean.reshape(keep + (1,) * (a.ndim - len(keep)))
    t = a.reshape(int(np.prod(lead)), width) @ right.T  # contract the width
    if left is None:
        return t.reshape(lead + (q,))
    lead, height, p = lead[:-1], lead[-1], left.shape[0]
    b = int(np.prod(lead))
    t = np.ascontiguousarray(t.reshape(b, height, q).transpose(0, 2, 1))
    u = t.reshape(b * q, height) @ left.T  # contract the height
    return np.ascontiguousarray(u.reshape(b, q, p).transpose(0, 2, 1)).reshape(lead + (p, q))


def _spread(g: np.ndarray, left: np.ndarray | None, right: np.ndarray) -> np.ndarray:
    """leftᵀ · g · right over the last two axes (gᵀ's counterpart of :func:`_both_sides`):
    the height first, on the small gradient, so that the last product writes the large
    result in place; an output size of 1 spreads by broadcasting (a rank-1 product)."""
    lead, q = g.shape[:-1], g.shape[-1]
    width = right.shape[1]
    if left is not None:
        lead, p, height = lead[:-1], lead[-1], left.shape[1]
        b = int(np.prod(lead))
        if p == 1:  # one window over all rows: A_H = (1/H, …, 1/H)
            g = np.repeat(g.reshape(b, 1, q) * left[0, 0], height, axis=1)
        else:
            u = np.ascontiguousarray(g.reshape(b, p, q).transpose(0, 2, 1)).reshape(b * q, p)
            g = (u @ left).reshape(b, q, height).transpose(0, 2, 1)
        lead = lead + (height,)
    rows = int(np.prod(lead))
    if q == 1:  # one window over all columns: A_W = (1/W, …, 1/W)
        out = np.repeat(g.reshape(rows, 1) * right[0, 0], width, axis=1)
    else:
        out = np.ascontiguousarray(g).reshape(rows, q) @ right
    return out.reshape(lead + (width,))


class AdaptiveAvgPool(Function):
    """y = A_H x A_Wᵀ  (1-d: y = x A_Wᵀ), A (O × I) averaging [⌊o·I/O⌋, ⌈(o+1)·I/O⌉)

    δ_x = A_Hᵀ δ_y A_W   (each δ_y[o] spread evenly over its window)
    """

    @staticmethod
    def forward(ctx, x, left, right):
        ctx.left, ctx.right = left, right
        return _both_sides(x, left, right)

    @staticmethod
    def backward(ctx, grad):
        return _spread(grad, ctx.left, ctx.right)


def _adaptive(op: str, input: Tensor, output_size: Any, spatial: int) -> Tensor:
    x = to_array(input)
    _check_input(op, x, spatial)
    given = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
    if len(given) == 1:
        given *= spatial
    sizes = x.shape[-spatial:]
    if len(given) != spatial or not all(
        o is None or (isinstance(o, (int, np.integer)) and not isinstance(o, bool) and o >= 0)
        for o in given
    ):
        what = "an int" if spatial == 1 else "an int or a tuple of 2 ints (or None)"
        raise ValueError(f"{op}: output_size must be {what}, each ≥ 0, got {output_size!r}")
    outs = tuple(n if o is None else int(o) for o, n in zip(given, sizes))
    mats = [_averaging_matrix(n, o, x.dtype.str) for n, o in zip(sizes, outs)]
    left = mats[0] if spatial == 2 else None
    return AdaptiveAvgPool.apply(input, left=left, right=mats[-1])


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average-pool an (N, C, H, W) or (C, H, W) input to ``output_size`` (an int, or
    (H_out, W_out) where None keeps that size), with torch's windows
    [⌊o·I/O⌋, ⌈(o+1)·I/O⌉). ``output_size=1`` is global average pooling.
    Derivative: :class:`AdaptiveAvgPool`."""
    return _adaptive("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:
    """Average-pool an (N, C, L) or (C, L) input to length ``output_size``, with torch's
    windows. Derivative: :class:`AdaptiveAvgPool`."""
    return _adaptive("adaptive_avg_pool1d", input, output_size, 1)
