"""Shape primitives: reshape, permute, indexing, concatenation, padding, expand.

These move numbers without changing them, so each backward moves δ_y back:
reshape reshapes it, permute applies the inverse permutation, indexing
scatters it into zeros, concatenation splits it. None of them saves a value
for backward. Reshape, permute, expand and basic indexing return views (as
PyTorch): the result shares its input's memory and version counter, so an
in-place change of one is seen by the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops._checks import normalize_dim as _axis
from chainrule.ops._checks import sizes as _sizes
from chainrule.tensor import Tensor


class Reshape(Function):
    """y = reshape(x)     δ_x = reshape(δ_y, shape of x)   (a view when NumPy can make one)"""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with axes permuted by p     δ_x = δ_y permuted by p⁻¹   (a view)"""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)


class GetItem(Function):
    """y = x[index]     δ_x = zeros with δ_y added at ``index``

    Repeated integer indices accumulate: an element picked twice gets both
    gradients. Basic indexing (ints, slices) gives a view; advanced indexing
    (integer arrays, masks) a copy.
    """

    is_view = True  # the engine checks that memory is shared before making it a view

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _has_integer_array(ctx.index):
            np.add.at(out, ctx.index, grad)
        else:
            out[ctx.index] = grad
        return out


def _has_integer_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(p, (np.ndarray, list)) and np.asarray(p).dtype != bool for p in parts
    )


class Concatenate(Function):
    """y = [x₁, x₂, …] joined along an axis     δ_xᵢ = the slice of δ_y that xᵢ filled"""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    """y = [x₁, x₂, …] stacked along a new axis     δ_xᵢ = δ_y[…, i, …]"""

    @staticmethod
    def forward(ctx, *xs, axis):
        ctx.axis = axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


class Pad(Function):
    """y = x surrounded by a constant     δ_x = δ_y with the border cut off"""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner]


class Expand(Function):
    """y = x broadcast to a larger shape     δ_x = δ_y summed over the broadcast axes

    A read-only view: its elements alias one another.
    """

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape)


# ------------------------------------------------------------------- functions
def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x.reshape(2, -1)`` or ``x.reshape((2, -1))``; one size may be -1.
    Derivative: :class:`Reshape`."""
    target = _sizes(shape)
    try:
        return Reshape.apply(x, shape=target)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.numel()} elements) "
            f"into {target}"
        ) from None


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions (a view). Derivative: :class:`Permute`."""
    order = _sizes(dims)
    axes = tuple(_axis(int(d), x.shape, "permute") for d in order) if x.ndim else order
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(
            f"permute: {order} is not a permutation of the {x.ndim} dimensions of shape "
            f"{x.shape}"
        )
    return Permute.apply(x, dims=axes)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view). Derivative: :class:`Permute`."""
    order = list(range(x.ndim))
    a, b = _axis(dim0, x.shape, "transpose"), _axis(dim1, x.shape, "transpose")
    if order:  # a 0-d tensor accepts dims 0 and -1 and stays as it is
        order[a], order[b] = order[b], order[a]
    return Permute.apply(x, dims=tuple(order))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one. Derivative: :class:`Reshape`."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axis(start_dim, x.shape, "flatten"), _axis(end_dim, x.shape, "flatten")
    shape = x.shape[:start] + (int(np.prod(x.shape[start : end + 1])),) + x.shape[end + 1 :]
    return Reshape.apply(x, shape=shape)


def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop dimensions of size 1: all, or those of ``dim`` (an int or a tuple, as torch)
    that have size 1. Derivative: :class:`Reshape`."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {_axis(d, x.shape, "squeeze") for d in dims} if x.ndim else set()
        shape = tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in axes)
    return Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``. Derivative: :class:`Reshape`."""
    axis = _axis(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:axis] + (1,) + x.shape[axis:])


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes`` without copying; -1 keeps a dimension's size.
    Derivative: :class:`Expand`."""
    target = _sizes(sizes)
    lead = len(target) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dimensions {target}")
    shape = tuple(
        x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(target)
    )
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"expand: shape {x.shape} cannot be expanded to {target}") from None
    return Expand.apply(x, shape=shape)


def plain_index(index: Any) -> Any:
    """Unwrap Tensors inside an index and turn lists into arrays."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` (ints, slices, None, masks, integer arrays); basic indexing gives a
    view. Derivative: :class:`GetItem`."""
    index = plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(f"indexing a tensor of shape {x.shape}: {error}") from None


def _joined(tensors: Sequence[Any], op: str) -> list[Any]:
    if len(tensors) == 0:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (torch.cat). Derivative: :class:`Concatenate`."""
    xs = _joined(tensors, "cat")
    if xs[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = _axis(dim, xs[0].shape, "cat")
    for i, t in enumerate(xs):
        if t.ndim != xs[0].ndim or any(
            a != b for k, (a, b) in enumerate(zip(t.shape, xs[0].shape)) if k != axis
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, incompatible with shape "
                f"{xs[0].shape} of tensor 0 outside dim {dim}"
            )
    return Concatenate.apply(*xs, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension (torch.stack). Derivative: :class:`Stack`."""
    xs = _joined(tensors, "stack")
    for i, t in enumerate(xs):
        if t.shape != xs[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape} but tensor 0 has {xs[0].shape}"
            )
    return Stack.apply(*xs, axis=_axis(dim, xs[0].ndim + 1, "stack"))


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Constant padding with ``value`` (None: 0), as ``torch.nn.functional.pad``.

    ``pad = (left, right, top, bottom, …)`` pads the last dimension first. Only
    ``mode='constant'`` is implemented. Derivative: :class:`Pad`.
    """
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is implemented, got mode={mode!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: {tuple(pad)} must hold two widths per padded dimension of a tensor of "
            f"shape {input.shape}"
        )
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    return Pad.apply(input, widths=tuple(widths), value=0.0 if value is None else value)
