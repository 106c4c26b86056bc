"""Indexing primitives: gather, scatter, masked_fill, sort, topk, flip, repeat, roll,
split/chunk, and the comparisons isclose/allclose.

Signatures and semantics are PyTorch's (``torch.gather(input, dim, index)``,
``Tensor.repeat(*sizes)``, ...). Notation as elsewhere: y is the op's output,
δ_y the gradient arriving from above, ⊙ the elementwise product.

Along a dim d, ``index`` names for every one of its own positions p one element
of the input: the element at p with coordinate d replaced by ``index[p]``.
Gather reads those elements, scatter writes them; the two are each other's
backward (repeated indices accumulate when gradients flow back into them).
Integer results (indices, argsort) are int64 tensors without a gradient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops._checks import normalize_dim
from chainrule.ops._checks import sizes as _sizes
from chainrule.ops.shape import getitem, reshape
from chainrule.tensor import Tensor

__all__ = [
    "SortResult",
    "TopKResult",
    "allclose",
    "argsort",
    "chunk",
    "flip",
    "gather",
    "isclose",
    "masked_fill",
    "repeat",
    "roll",
    "scatter",
    "scatter_add",
    "sort",
    "split",
    "topk",
]


class SortResult(NamedTuple):
    """``(values, indices)`` as returned by :func:`sort` (``torch.return_types.sort``)."""

    values: Tensor
    indices: Tensor


class TopKResult(NamedTuple):
    """``(values, indices)`` as returned by :func:`topk` (``torch.return_types.topk``)."""

    values: Tensor
    indices: Tensor


# --------------------------------------------------------------------- helpers
def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _axis(dim: Any, shape: tuple[int, ...], op: str) -> int:
    """``dim`` as a non-negative axis of ``shape`` (the one normaliser, plus the shape)."""
    try:
        return normalize_dim(dim, len(shape), op)
    except IndexError as error:
        raise IndexError(f"{error}; the input has shape {shape}") from None


def _index_tensor(index: Any, op: str) -> Tensor:
    """The index as an integer Tensor (a list or array is wrapped, not copied)."""
    if not isinstance(index, Tensor):
        index = Tensor._make(np.asarray(index), False, None)
    if index.data.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.data.dtype}")
    return index


def _coords(index: np.ndarray, axis: int) -> tuple[np.ndarray, ...]:
    """The full coordinates that ``index`` names along ``axis``: ``index`` itself on
    ``axis``, each element's own position on every other dim (broadcastable arrays)."""
    ndim = index.ndim
    return tuple(
        index if d == axis else np.arange(n).reshape((n,) + (1,) * (ndim - 1 - d))
        for d, n in enumerate(index.shape)
    )


def _add_at(shape: tuple[int, ...], coords: tuple[np.ndarray, ...], values: np.ndarray,
            dtype: Any) -> np.ndarray:
    """zeros(shape) with ``values`` added at ``coords``; repeated coordinates accumulate.

    Floats go through one ``np.bincount`` on flat positions (much faster than
    ``np.add.at``); other dtypes use ``np.add.at``.
    """
    out = np.zeros(shape, dtype=dtype)
    if out.size == 0 or values.size == 0:
        return out
    if np.dtype(dtype).kind == "f":
        flat = np.ravel_multi_index(coords, shape)
        summed = np.bincount(flat.ravel(), weights=values.ravel(), minlength=out.size)
        return summed.astype(dtype, copy=False).reshape(shape)
    np.add.at(out, coords, values)
    return out


def _check_index(op: str, x_shape: tuple[int, ...], index: np.ndarray, axis: int,
                 src_shape: tuple[int, ...] | None = None) -> None:
    """torch's rules: same ndim; index no larger than the input outside ``dim`` (and no
    larger than ``src`` anywhere); every index in [0, size of ``dim``)."""
    if index.ndim != len(x_shape):
        raise ValueError(
            f"{op}: index of shape {index.shape} must have as many dimensions as the "
            f"input of shape {x_shape}"
        )
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, x_shape)) if d != axis):
        raise ValueError(
            f"{op}: index of shape {index.shape} must be no larger than the input of shape "
            f"{x_shape} in every dimension except dim {axis}"
        )
    if src_shape is not None and (
        len(src_shape) != index.ndim or any(i > n for i, n in zip(index.shape, src_shape))
    ):
        raise ValueError(
            f"{op}: index of shape {index.shape} must be no larger than src of shape "
            f"{src_shape} in every dimension"
        )
    if index.size:
        lo, hi, size = index.min(), index.max(), x_shape[axis]
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            raise IndexError(
                f"{op}: index {bad} is out of bounds for dim {axis} of size {size} "
                f"(input of shape {x_shape})"
            )


def _crop(shape: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(0, n) for n in shape)


# ------------------------------------------------------------------ primitives
class Gather(Function):
    """y[p] = x[p with coordinate d replaced by index[p]]

    δ_x = zeros with δ_y[p] added at each gathered position (repeated indices
    accumulate: an element gathered twice receives both gradients).
    """

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.save_for_backward(index)
        ctx.shape, ctx.axis = x.shape, axis
        return x[_coords(index, axis)]

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return _add_at(ctx.shape, _coords(index, ctx.axis), grad, grad.dtype), None


class Scatter(Function):
    """y = x, then y[p with coordinate d replaced by index[p]] = src[p]

    δ_x = δ_y with the written positions zeroed     δ_src[p] = δ_y[written position of p]

    ``src`` may be a number (it then gets no gradient). With a repeated index the
    last write wins (as torch on CPU), yet every src element that was written
    receives the gradient of its position, as in torch (δ_src = gather(δ_y)).
    """

    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.save_for_backward(index)
        ctx.axis = axis
        ctx.src_shape = np.shape(src)
        out = x.copy()
        if isinstance(src, np.ndarray) and src.ndim:
            src = src[_crop(index.shape)]
        out[_coords(index, axis)] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        coords = _coords(index, ctx.axis)
        grad_x = grad_src = None
        if ctx.needs_input_grad[0]:
            grad_x = grad.copy()
            grad_x[coords] = 0
        if ctx.needs_input_grad[2]:
            grad_src = _placed(grad[coords], ctx.src_shape)
        return grad_x, None, grad_src


def _placed(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` in the leading corner of zeros(shape) (src may be larger than index)."""
    if values.shape == shape:
        return values
    out = np.zeros(shape, dtype=values.dtype)
    out[_crop(values.shape)] = values
    return out


class ScatterAdd(Function):
    """y = x, then y[p with coordinate d replaced by index[p]] += src[p]

    δ_x = δ_y     δ_src[p] = δ_y[position p was added to]  (= gather(δ_y, d, index))
    """

    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.save_for_backward(index)
        ctx.axis, ctx.src_shape = axis, src.shape
        coords = _coords(index, axis)
        return x + _add_at(x.shape, coords, src[_crop(index.shape)], x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[2]:
            grad_src = _placed(grad[_coords(index, ctx.axis)], ctx.src_shape)
        return grad, None, grad_src


class MaskedFill(Function):
    """y = value where mask, else x  (mask broadcast)

    δ_x = δ_y ⊙ ¬mask  (summed over broadcast axes)     δ_value = Σ δ_y ⊙ mask
    """

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape, ctx.value_shape = x.shape, np.shape(value)
        return np.where(mask, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = unbroadcast(np.where(mask, 0, grad), ctx.shape)
        if ctx.needs_input_grad[2]:
            grad_value = np.sum(grad, where=np.broadcast_to(mask, grad.shape))
            grad_value = np.asarray(grad_value, dtype=grad.dtype).reshape(ctx.value_shape)
        return grad_x, None, grad_value


class TakePermuted(Function):
    """y = x[π] along dim, π a permutation or its first k entries (sort, topk)

    δ_x[π] = δ_y, 0 at the positions y did not take (π repeats nothing, so
    plain assignment suffices).
    """

    @staticmethod
    def forward(ctx, x, order, axis):
        ctx.order, ctx.axis, ctx.shape = order, axis, x.shape
        return np.take_along_axis(x, order, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if ctx.order.shape == ctx.shape:
            out = np.empty(ctx.shape, dtype=grad.dtype)
        else:
            out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.order, grad, axis=ctx.axis)
        return out


class Flip(Function):
    """y = x reversed along the dims     δ_x = δ_y reversed along the same dims"""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return np.flip(x, axes).copy()  # a copy, as torch.flip

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes)


class Repeat(Function):
    """y = x tiled rᵢ times along each dim i (np.tile; new leading dims for extra rᵢ)

    δ_x = Σ over the r copies: δ_y reshaped to (r₀, n₀, r₁, n₁, …) and summed over
    the r axes.
    """

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape = x.shape
        padded = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.split = tuple(v for pair in zip(reps, padded) for v in pair)
        ctx.copy_axes = tuple(range(0, 2 * len(reps), 2))
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.split).sum(axis=ctx.copy_axes).reshape(ctx.shape)


class Roll(Function):
    """y = x shifted cyclically by s along each dim (y[i + s] = x[i])     δ_x = δ_y shifted by -s

    With no dims, x is rolled as one flat sequence.
    """

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(x, shifts, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad, back, axis=ctx.axes)


# ------------------------------------------------------------------- functions
def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    """``y[p] = input[p with coordinate dim replaced by index[p]]`` (torch.gather).

    ``index`` (integer, same number of dims as ``input``, no larger than it outside
    ``dim``) gives the output's shape. δ_input = δ_y added back at the gathered
    positions (repeats accumulate).
    """
    x, index = _tensor(input), _index_tensor(index, "gather")
    axis = _axis(dim, x.shape, "gather")
    if x.ndim == 0:
        _check_index("gather", (1,), index.data.reshape(-1), 0)
        return reshape(Gather.apply(reshape(x, 1), index.data.reshape(-1), axis=0), ())
    _check_index("gather", x.shape, index.data, axis)
    return Gather.apply(x, index, axis=axis)


def _scatter_src(op: str, x: Tensor, src: Any, index: np.ndarray, axis: int,
                 numbers: bool) -> Any:
    if not isinstance(src, (Tensor, np.ndarray)):
        if numbers and isinstance(src, (int, float, bool, np.number)):
            return src
        raise TypeError(f"{op}: src must be a tensor, got {type(src).__name__}")
    src = _tensor(src)
    if src.dtype != x.dtype:
        raise TypeError(
            f"{op}: src has dtype {src.dtype} but the input has dtype {x.dtype}; they "
            f"must be equal"
        )
    _check_index(op, x.shape, index, axis, src.shape)
    return src


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *,
            value: Any = None) -> Tensor:
    """A new tensor: ``input`` with ``src[p]`` written at ``p`` with coordinate ``dim``
    replaced by ``index[p]`` (torch.scatter, out of place). ``src`` is a tensor (at
    least as large as ``index``) or a number; ``value=`` is torch's keyword spelling
    of the number.

    δ_input = δ_y with the written positions zeroed; δ_src = gather(δ_y, dim, index).
    With repeated indices the last write wins.
    """
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor or number) and value")
    x, index = _tensor(input), _index_tensor(index, "scatter")
    axis = _axis(dim, x.shape, "scatter")
    if x.ndim == 0:
        flat = scatter(reshape(x, 1), 0, index.data.reshape(-1),
                       reshape(src, 1) if isinstance(src, Tensor) else src, value=value)
        return reshape(flat, ())
    _check_index("scatter", x.shape, index.data, axis)
    source = _scatter_src("scatter", x, value if src is None else src, index.data, axis,
                          numbers=True)
    return Scatter.apply(x, index, source, axis=axis)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A new tensor: ``input`` with ``src[p]`` added at ``p`` with coordinate ``dim``
    replaced by ``index[p]``; repeated indices accumulate (torch.scatter_add).

    δ_input = δ_y; δ_src = gather(δ_y, dim, index).
    """
    x, index = _tensor(input), _index_tensor(index, "scatter_add")
    axis = _axis(dim, x.shape, "scatter_add")
    if x.ndim == 0:
        flat = scatter_add(reshape(x, 1), 0, index.data.reshape(-1), reshape(_tensor(src), 1))
        return reshape(flat, ())
    _check_index("scatter_add", x.shape, index.data, axis)
    source = _scatter_src("scatter_add", x, src, index.data, axis, numbers=False)
    return ScatterAdd.apply(x, index, source, axis=axis)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """A new tensor: ``value`` where the bool ``mask`` (broadcast) is True, else ``input``.

    ``value`` is a number or a 0-d tensor (which then gets a gradient).
    δ_input = δ_y ⊙ ¬mask; δ_value = Σ δ_y ⊙ mask.
    """
    x = _tensor(input)
    m = mask if isinstance(mask, Tensor) else Tensor._make(np.asarray(mask), False, None)
    if m.data.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.data.dtype}")
    if isinstance(value, (Tensor, np.ndarray)) and np.ndim(value) != 0:
        raise ValueError(
            f"masked_fill: value must be a number or a 0-dimensional tensor, got shape "
            f"{np.shape(value)}"
        )
    if isinstance(value, np.generic):
        value = value.item()
    try:
        np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {m.shape} cannot be broadcast with the input of "
            f"shape {x.shape}"
        ) from None
    return MaskedFill.apply(x, m, value)


def _argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable order: ties keep their original order, NaN counts as the largest value."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # sort the reversed array ascending and reverse the result: equal values then
    # come out in ascending original order, and NaN (sorted last) comes first
    order = np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return a.shape[axis] - 1 - order


def _int64(a: np.ndarray) -> Tensor:
    return Tensor._make(np.array(a, dtype=np.int64, order="C"), False, None)


def sort(input: Tensor, dim: int = -1, descending: bool = False,
         stable: bool = False) -> SortResult:
    """``(values, indices)`` with ``values = input`` sorted along ``dim`` (torch.sort).

    The sort is always stable (equal values keep their order, which torch only
    promises with ``stable=True``); NaN sorts as the largest value.
    δ_input = δ_values put back at the positions the values came from.
    """
    del stable  # always stable
    x = _tensor(input)
    axis = _axis(dim, x.shape, "sort")
    if x.ndim == 0:
        values, _ = sort(reshape(x, 1), 0, descending)
        return SortResult(reshape(values, ()), _int64(np.zeros((), np.int64)))
    order = _argsort(x.data, axis, descending)
    return SortResult(TakePermuted.apply(x, order=order, axis=axis), _int64(order))


def argsort(input: Tensor, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (torch.argsort); int64, no gradient.

    Always stable, as :func:`sort`.
    """
    del stable
    x = _tensor(input)
    axis = _axis(dim, x.shape, "argsort")
    if x.ndim == 0:
        return _int64(np.zeros((), np.int64))
    return _int64(_argsort(x.data, axis, descending))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> TopKResult:
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim`` and their
    indices (torch.topk).

    Values always come out sorted (``sorted=False`` allows any order, so this is
    one of them); among equal values the earlier index is taken first. NaN counts
    as the largest value. δ_input = δ_values put back where they came from, 0
    elsewhere.
    """
    del sorted  # always sorted
    x = _tensor(input)
    axis = _axis(dim, x.shape, "topk")
    size = x.shape[axis] if x.ndim else 1
    if not isinstance(k, (int, np.integer)) or not 0 <= k <= size:
        raise ValueError(
            f"topk: k={k} is out of range for dim {dim} of size {size} (input of shape "
            f"{x.shape})"
        )
    if x.ndim == 0:
        values, indices = topk(reshape(x, 1), k, 0, largest)
        return TopKResult(reshape(values, ()) if k else values,
                          _int64(indices.data.reshape(()) if k else indices.data))
    order = _topk_order(x.data, k, axis, largest)
    return TopKResult(TakePermuted.apply(x, order=order, axis=axis), _int64(order))


def _topk_order(a: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """The first k entries of the stable sort's order, without sorting everything:
    partition finds the k-th value t; all elements beyond t and the earliest of those
    equal to t are taken, then only those k are sorted (stably)."""
    n = a.shape[axis]
    if k == n or k == 0 or a.dtype.kind not in "fiu" or (a.dtype.kind == "f" and np.isnan(a).any()):
        order = _argsort(a, axis, descending=largest)
        return order[(slice(None),) * axis + (slice(0, k),)]
    m = np.moveaxis(a, axis, -1)
    if largest:
        kth = np.partition(m, n - k, axis=-1)[..., n - k : n - k + 1]
        beyond = m > kth
    else:
        kth = np.partition(m, k - 1, axis=-1)[..., k - 1 : k]
        beyond = m < kth
    tied = m == kth
    wanted = k - np.count_nonzero(beyond, axis=-1, keepdims=True)
    taken = beyond | (tied & (np.cumsum(tied, axis=-1) <= wanted))
    positions = np.nonzero(taken)[-1].reshape(m.shape[:-1] + (k,))  # k per row, ascending
    ranked = _argsort(np.take_along_axis(m, positions, axis=-1), -1, descending=largest)
    return np.moveaxis(np.take_along_axis(positions, ranked, axis=-1), -1, axis)


def flip(input: Tensor, *dims: Any) -> Tensor:
    """Reverse the order of elements along ``dims`` (torch.flip(input, dims), or
    ``x.flip(0, 1)``); a copy, not a view. δ_input = δ_y reversed the same way."""
    x = _tensor(input)
    given = _sizes(dims)
    axes = tuple(_axis(d, x.shape, "flip") for d in given)
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {given} name a dimension more than once")
    if x.ndim == 0:
        axes = ()
    return Flip.apply(x, axes=axes)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along each dim (torch.Tensor.repeat, = np.tile);
    extra leading sizes add new leading dims. δ_input = δ_y summed over the copies."""
    x = _tensor(input)
    reps = tuple(int(r) for r in _sizes(sizes))
    if len(reps) < x.ndim:
        raise ValueError(
            f"repeat: {len(reps)} repeat sizes {reps} are fewer than the {x.ndim} "
            f"dimensions of the input of shape {x.shape}"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: sizes {reps} must be non-negative (input shape {x.shape})")
    return Repeat.apply(x, reps=reps)


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (torch.roll); with
    ``dims=None`` the tensor is rolled as one flat sequence and keeps its shape.
    δ_input = δ_y rolled back by -shifts."""
    x = _tensor(input)
    shift = tuple(int(s) for s in shifts) if isinstance(shifts, (tuple, list)) else int(shifts)
    if dims is None:
        if isinstance(shift, tuple):
            if len(shift) != 1:
                raise ValueError(f"roll: shifts {shift} need as many dims, got dims=None")
            shift = shift[0]
        return Roll.apply(x, shifts=shift, axes=None)
    given = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    shift = shift if isinstance(shift, tuple) else (shift,)
    if len(shift) != len(given):
        raise ValueError(
            f"roll: shifts {shift} and dims {given} must have the same length"
        )
    axes = tuple(_axis(d, x.shape, "roll") for d in given)
    if x.ndim == 0:
        return Roll.apply(x, shifts=0, axes=None)
    return Roll.apply(x, shifts=shift, axes=axes)


def _pieces(x: Tensor, axis: int, sizes: Sequence[int]) -> tuple[Tensor, ...]:
    """Consecutive slices of the given sizes along ``axis``: views via getitem."""
    lead = (slice(None),) * axis
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return tuple(
        getitem(x, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:])
    )


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int],
          dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``tensor`` along ``dim`` into pieces of ``split_size`` (the last may be
    smaller) or of the listed sizes (torch.split); each piece is a view whose
    gradient flows back into its slice."""
    x = _tensor(tensor)
    if x.ndim == 0:
        raise ValueError("split: cannot split a 0-dimensional tensor")
    axis = _axis(dim, x.shape, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise ValueError(
                f"split: split_size {size} must be positive for dim {dim} of size {n} "
                f"(input of shape {x.shape})"
            )
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
        return _pieces(x, axis, sizes or [0])
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes) or sum(sizes) != n:
        raise ValueError(
            f"split: sections {tuple(sizes)} must be non-negative and sum to {n}, the size "
            f"of dim {dim} of the input of shape {x.shape}"
        )
    return _pieces(x, axis, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Cut ``input`` along ``dim`` into ``chunks`` pieces of ⌈n / chunks⌉ (torch.chunk:
    the last is smaller and there may be fewer than ``chunks``); views, as :func:`split`."""
    x = _tensor(input)
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if x.ndim == 0:
        raise ValueError("chunk: cannot chunk a 0-dimensional tensor")
    axis = _axis(dim, x.shape, "chunk")
    n = x.shape[axis]
    if n == 0:
        return _pieces(x, axis, [0] * int(chunks))
    return split(x, math.ceil(n / chunks), axis)


# ----------------------------------------------------------------- comparisons
def _array(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| ≤ atol + rtol·|other|`` as a bool tensor
    (torch.isclose); equal infinities are close, NaN only with ``equal_nan``."""
    a, b = _array(input), _array(other)
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(
            f"isclose: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together"
        ) from None
    close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return Tensor._make(np.asarray(close), False, None)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if every element of :func:`isclose` is (torch.allclose); a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())
