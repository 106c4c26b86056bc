"""In-place operations with PyTorch's rules: ``x += y``, ``x.mul_(2)``, ``x[i] = v``.

- Outside ``no_grad()``, a leaf that requires grad (a parameter), or a view of
  one, may not be changed in place: its ``.grad`` would no longer describe the
  value it belongs to. Inside ``no_grad()`` it may (an optimizer step).
- Every in-place change bumps the tensor's version counter, which it shares
  with its views; a node that saved the tensor for backward refuses to run
  when the version moved on (see ``Function.saved_tensors``).
- When a graph must be recorded (the tensor or an operand requires grad), the
  new value is computed out of place from a copy of the old one, which becomes
  an input of the new node, and is then written into the tensor's memory; the
  tensor takes the new node as its own. A view's new value is written into
  its base through :class:`CopySlices`, so the base's graph learns of it.
- Otherwise (no graph), NumPy changes the array directly, with NumPy's
  ``same_kind`` casting: ``int_tensor += 0.5`` is refused, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.function import (
    Function,
    bump_version,
    is_grad_enabled,
    refresh_view,
    set_grad_enabled,
    unbroadcast,
)
from chainrule.ops._checks import array
from chainrule.tensor import Tensor


def _apply_chain(array: np.ndarray, chain: tuple[Any, ...]) -> np.ndarray:
    """The same view of ``array`` that ``chain`` (view ops from the base) took."""
    for cls, args, kwargs in chain:
        array = cls.forward(cls.__new__(cls), array, *args, **kwargs)
    return array


class CopySlices(Function):
    """base' = base with the region of a view replaced by v (a view changed in place)

    δ_base = δ_base' with the region set to 0,   δ_v = δ_base' restricted to the region
    """

    @staticmethod
    def forward(ctx, base, v, region, chain):
        np.copyto(region, v)
        ctx.chain = chain
        return base

    @staticmethod
    def backward(ctx, grad):
        grad_base = grad.copy()
        region = _apply_chain(grad_base, ctx.chain)
        grad_v = region.copy()
        region[...] = 0
        return grad_base, grad_v


class SetItem(Function):
    """y = x with y[index] = v     δ_x = δ_y with δ_y[index] set to 0,   δ_v = δ_y[index]"""

    @staticmethod
    def forward(ctx, x, v, index):
        ctx.index, ctx.v_shape = index, np.shape(v)
        y = x.copy()
        y[index] = v
        return y

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad
        grad_x = grad_v = None
        if need_x:
            grad_x = grad.copy()
            grad_x[ctx.index] = 0
        if need_v:
            grad_v = unbroadcast(np.asarray(grad[ctx.index]), ctx.v_shape)
        return grad_x, grad_v


class Overwrite(Function):
    """y = v broadcast to the shape of x (fill_, copy_, zero_)     δ_x = 0,   δ_v = Σ δ_y"""

    @staticmethod
    def forward(ctx, x, v):
        ctx.v_shape = np.shape(v)
        return np.broadcast_to(np.asarray(v, dtype=x.dtype), x.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad
        return (np.zeros_like(grad) if need_x else None,
                unbroadcast(grad, ctx.v_shape) if need_v else None)


def modify(
    t: Tensor, name: str, direct: Callable[[np.ndarray], Any],
    recorded: Callable[[Tensor], Tensor], operands: tuple[Any, ...] = (),
) -> Tensor:
    """Change ``t`` in place and return it.

    ``direct(array)`` changes the array with NumPy when no graph is needed;
    ``recorded(old)`` computes the new value out of place, with a graph, from a
    copy ``old`` of the current value.
    """
    grad_mode = is_grad_enabled()
    base = t._base
    if grad_mode:
        if t.requires_grad and t._ctx is None:
            raise RuntimeError(
                f"{name}: a leaf tensor that requires grad (shape {t.shape}) is being used "
                f"in an in-place operation; change parameters inside chainrule.no_grad()"
            )
        if base is not None and base.requires_grad and base._ctx is None:
            raise RuntimeError(
                f"{name}: a view of a leaf tensor that requires grad (shape {base.shape}) "
                f"is being used in an in-place operation; do it inside chainrule.no_grad()"
            )
    needs_graph = grad_mode and (
        t.requires_grad
        or (base is not None and base.requires_grad)
        or any(isinstance(x, Tensor) and x.requires_grad for x in operands)
    )
    if not needs_graph:
        _direct(t, name, direct)
        bump_version(t)
        return t
    if base is not None:
        refresh_view(t)
    old = Tensor._make(t.data.copy(), t.requires_grad, t._ctx)
    new = recorded(old)
    if new.shape != t.shape:
        raise RuntimeError(
            f"{name}: the result has shape {new.shape} but the tensor changed in place has "
            f"shape {t.shape} (an in-place result cannot broadcast to a larger shape)"
        )
    if new.dtype != t.dtype:
        _check_cast(name, new.dtype, t.dtype)
        new = new.astype(t.dtype)
    if base is None:
        np.copyto(t.data, new.data)
        t._ctx, t.requires_grad = new._ctx, True
        bump_version(t)
        return t
    source = Tensor._make(base.data, base.requires_grad, base._ctx)
    with set_grad_enabled(True):
        rebuilt = CopySlices.apply(source, new, region=t.data, chain=t._view_chain)
    base._ctx, base.requires_grad = rebuilt._ctx, True
    bump_version(t)
    refresh_view(t)
    return t


def _direct(t: Tensor, name: str, direct: Callable[[np.ndarray], Any]) -> None:
    """Run a NumPy in-place change, turning NumPy's errors into ones naming the op."""
    if not t.data.flags.writeable:
        raise RuntimeError(
            f"{name}: this tensor of shape {t.shape} is a read-only view (e.g. of expand()); "
            f"clone() it before changing it in place"
        )
    try:
        direct(t.data)
    except TypeError as error:  # NumPy's UFuncTypeError: a cast it refuses
        raise RuntimeError(f"{name}: {error} (the tensor has dtype {t.dtype})") from None
    except ValueError as error:
        raise RuntimeError(
            f"{name}: cannot change a tensor of shape {t.shape} in place with this operand: "
            f"{error}"
        ) from None


def _check_cast(name: str, result: np.dtype, target: np.dtype) -> None:
    if not np.can_cast(result, target, casting="same_kind"):
        raise RuntimeError(
            f"{name}: result type {result} can't be cast to the tensor's dtype {target}"
        )


# ------------------------------------------------------------------ operations
def binary(t: Tensor, name: str, ufunc: np.ufunc, op: Callable[[Any, Any], Tensor],
           other: Any) -> Tensor:
    """``t ∘= other`` for a NumPy ufunc and the matching differentiable op."""
    value = array(other)
    return modify(
        t, name,
        lambda a: ufunc(a, value, out=a, casting="same_kind"),
        lambda old: op(old, other),
        (other,),
    )


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``; δ flows to ``value`` from the region it filled."""
    from chainrule.ops.shape import plain_index

    index = plain_index(index)
    values = array(value)

    def direct(a: np.ndarray) -> None:
        a[index] = values

    modify(t, "setitem", direct, lambda old: SetItem.apply(old, value, index=index), (value,))


def overwrite(t: Tensor, name: str, value: Any) -> Tensor:
    """``fill_``/``copy_``/``zero_``: every element becomes (a broadcast of) ``value``."""
    values = array(value)

    def direct(a: np.ndarray) -> None:
        np.copyto(a, values, casting="unsafe")

    return modify(t, name, direct, lambda old: Overwrite.apply(old, value), (value,))


def masked_fill(t: Tensor, mask: Any, value: Any) -> Tensor:
    """``masked_fill_``: elements where ``mask`` (broadcast) is True become ``value``."""
    from chainrule.ops.elementwise import where

    where_mask = np.asarray(array(mask))
    if where_mask.dtype != bool:
        raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {where_mask.dtype}")
    values = array(value)

    def direct(a: np.ndarray) -> None:
        np.copyto(a, values, casting="unsafe", where=np.broadcast_to(where_mask, a.shape))

    return modify(t, "masked_fill_", direct,
                  lambda old: where(Tensor._make(where_mask, False, None), value, old), (value,))


def clamp(t: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """``clamp_``: every element clipped into [min, max]."""
    from chainrule.ops.elementwise import clip

    return modify(t, "clamp_", lambda a: np.clip(a, min, max, out=a),
                  lambda old: clip(old, min, max))


def fill_random(t: Tensor, name: str, sample: Callable[[tuple[int, ...]], np.ndarray]) -> Tensor:
    """``normal_``/``uniform_``: overwrite with fresh samples of the tensor's shape."""
    values = sample(t.shape).astype(t.dtype, copy=False)
    return overwrite(t, name, values)
