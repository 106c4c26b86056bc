"""Elementwise primitives: arithmetic, exp/log, abs, maximum, where, clip.

Notation: y is the op's output, δ_y the gradient arriving from above, ⊙ the
elementwise product. Binary ops broadcast; :func:`unbroadcast` sums each
gradient back to its input's shape. Each derivative is stated once, on the
Function that implements it; what backward reads is saved as PyTorch saves it
(mul saves b only when a needs a gradient, exp and sqrt save their output, ...),
so an in-place change of it before ``backward()`` raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops._checks import array as _data
from chainrule.tensor import Tensor


def _binary(op: type[Function], name: str, a: Any, b: Any) -> Tensor:
    """Apply a broadcasting binary op; a shape mismatch names the op and both shapes.

    A NumPy scalar operand (``np.float64(2)``) acts as a Python number, as in
    PyTorch: it does not promote a float32 tensor to float64. Integer operands
    whose result is a float (``count / n``, ``labels * 0.5``) give float32, as
    PyTorch's default dtype, unless a float64 array took part.
    """
    try:
        out = op.apply(_number(a), _number(b))
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(
            f"{name}: shapes {np.shape(_data(a))} and {np.shape(_data(b))} cannot be "
            f"broadcast together"
        ) from None
    if out.data.dtype == np.float64 and not (_is_float64(a) or _is_float64(b)):
        out.data = out.data.astype(np.float32)  # only integer/bool arrays took part
    return out


def _is_float64(x: Any) -> bool:
    x = _data(x)
    return isinstance(x, np.ndarray) and x.dtype == np.float64


def _number(x: Any) -> Any:
    """A NumPy scalar as a Python number, which NumPy treats as weakly typed."""
    return x.item() if isinstance(x, np.generic) else x


class Add(Function):
    """y = a + b        δ_a = δ_y,  δ_b = δ_y  (summed over broadcast axes)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad, sa) if need_a else None,
                unbroadcast(grad, sb) if need_b else None)


class Sub(Function):
    """y = a - b        δ_a = δ_y,  δ_b = -δ_y"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(grad, sa) if need_a else None,
                unbroadcast(-grad, sb) if need_b else None)


class Mul(Function):
    """y = a ⊙ b        δ_a = δ_y ⊙ b,  δ_b = δ_y ⊙ a

    Saves b only if a needs a gradient and a only if b does (as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        return (unbroadcast(grad * b, sa) if b is not None else None,
                unbroadcast(grad * a, sb) if a is not None else None)


class Div(Function):
    """y = a / b        δ_a = δ_y / b,  δ_b = -δ_y ⊙ a / b²

    Saves b, and a too if b needs a gradient (as PyTorch).
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b
        return (unbroadcast(grad_a, sa) if need_a else None,
                unbroadcast(-grad_a * a / b, sb) if need_b else None)


class Neg(Function):
    """y = -x           δ_x = -δ_y"""

    @staticmethod
    def forward(ctx, x):
        return np.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """y = a^b          δ_a = δ_y ⊙ b a^(b-1),  δ_b = δ_y ⊙ y ln a

    As PyTorch: δ_a = 0 where b = 0, and δ_b = 0 where a = 0 and b ≥ 0. Saves a and
    b, and y too when the exponent is an array (PyTorch's tensor ** tensor).
    """

    @staticmethod
    def forward(ctx, a, b):
        y = np.asarray(np.power(a, b))
        if isinstance(b, np.ndarray):
            ctx.save_for_backward(a, b, y)
        else:
            ctx.save_for_backward(a, b, None)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, b, y = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:
                grad_a = grad * b * np.power(a, b - 1)
                if np.any(np.equal(b, 0)):
                    grad_a = np.where(np.equal(b, 0), 0, grad_a)
                grad_a = unbroadcast(grad_a, np.shape(a))
            if need_b:
                log_a = np.log(np.asarray(a, dtype=y.dtype))
                grad_b = np.where((np.equal(a, 0)) & (np.greater_equal(b, 0)), 0, y * log_a)
                grad_b = unbroadcast(grad * grad_b, np.shape(b))
        return grad_a, grad_b


class Exp(Function):
    """y = eˣ           δ_x = δ_y ⊙ y   (saves y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.asarray(np.exp(x))  # an array even for 0-d x: the output saved is checked
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Function):
    """y = ln x         δ_x = δ_y / x   (saves x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """y = √x           δ_x = δ_y / (2y)   (saves y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.asarray(np.sqrt(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)


class Abs(Function):
    """y = |x|          δ_x = δ_y ⊙ sign(x)   (0 at x = 0, as PyTorch; saves x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Sign(Function):
    """y = sign(x)      δ_x = 0   (a step: flat everywhere but at 0)"""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Maximum(Function):
    """y = max(a, b)    δ_a = δ_y ⊙ 1[a > b] + ½ δ_y ⊙ 1[a = b],  δ_b likewise

    On ties the gradient is split evenly, as in ``torch.maximum``. Saves a and b.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _shared_grads(ctx, grad, a, b, (a > b) + 0.5 * (a == b))


class Minimum(Function):
    """y = min(a, b)    δ_a = δ_y ⊙ 1[a < b] + ½ δ_y ⊙ 1[a = b],  δ_b likewise"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _shared_grads(ctx, grad, a, b, (a < b) + 0.5 * (a == b))


def _shared_grads(
    ctx: Function, grad: np.ndarray, a: Any, b: Any, share_a: np.ndarray
) -> tuple[Any, Any]:
    """δ_a = δ_y ⊙ s,  δ_b = δ_y ⊙ (1 - s), each summed back to its input's shape."""
    share_a = share_a.astype(grad.dtype, copy=False)  # the 0.5 made it float64
    need_a, need_b = ctx.needs_input_grad
    return (unbroadcast(grad * share_a, np.shape(a)) if need_a else None,
            unbroadcast(grad * (1 - share_a), np.shape(b)) if need_b else None)


class Where(Function):
    """y = c ? a : b    δ_a = δ_y ⊙ 1[c],  δ_b = δ_y ⊙ 1[¬c]"""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        _, need_a, need_b = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        sa, sb = ctx.shapes
        return (None,
                unbroadcast(np.where(ctx.condition, grad, zero), sa) if need_a else None,
                unbroadcast(np.where(ctx.condition, zero, grad), sb) if need_b else None)


class Clip(Function):
    """y = min(max(x, lo), hi)     δ_x = δ_y ⊙ 1[lo ≤ x ≤ hi]   (as ``torch.clamp``; saves x)"""

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = np.ones(np.shape(x), dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return grad * inside


class FloorDivide(Function):
    """y = ⌊a / b⌋     δ_a = 0,  δ_b = 0   (a step function: flat wherever it is defined)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        return (np.zeros(sa, dtype=grad.dtype) if need_a else None,
                np.zeros(sb, dtype=grad.dtype) if need_b else None)


class Remainder(Function):
    """y = a - ⌊a / b⌋ b  (the sign of b, as Python and torch)     δ_a = δ_y,  δ_b = -⌊a / b⌋ δ_y

    Saves a and b when b needs a gradient (torch has none for b).
    """

    @staticmethod
    def forward(ctx, a, b):
        need_b = ctx.needs_input_grad[1]
        ctx.save_for_backward(a if need_b else None, b if need_b else None)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        sa, sb = ctx.shapes
        return (unbroadcast(grad, sa) if need_a else None,
                unbroadcast(-np.floor_divide(a, b) * grad, sb) if need_b else None)


class Clone(Function):
    """y = x (a copy)   δ_x = δ_y"""

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    """y = x converted to another dtype     δ_x = δ_y (converted back by the engine)"""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


# ------------------------------------------------------------------- functions
def add(a: Any, b: Any) -> Tensor:
    """a + b (broadcasting). Derivative: :class:`Add`."""
    return _binary(Add, "add", a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b (broadcasting). Derivative: :class:`Sub`."""
    return _binary(Sub, "sub", a, b)


def mul(a: Any, b: Any) -> Tensor:
    """a ⊙ b (broadcasting). Derivative: :class:`Mul`."""
    return _binary(Mul, "mul", a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b (broadcasting). Derivative: :class:`Div`."""
    return _binary(Div, "div", a, b)


def floor_divide(a: Any, b: Any) -> Tensor:
    """⌊a / b⌋ (broadcasting), ``a // b``. Derivative: :class:`FloorDivide`."""
    return _binary(FloorDivide, "floor_divide", a, b)


def remainder(a: Any, b: Any) -> Tensor:
    """a mod b with the sign of b (broadcasting), ``a % b``. Derivative: :class:`Remainder`."""
    return _binary(Remainder, "remainder", a, b)


def neg(x: Tensor) -> Tensor:
    """-x. Derivative: :class:`Neg`."""
    return Neg.apply(x)


def pow(a: Any, b: Any) -> Tensor:
    """a^b (broadcasting). Derivative: :class:`Pow`."""
    return _binary(Pow, "pow", a, b)


def exp(x: Tensor) -> Tensor:
    """eˣ. Derivative: :class:`Exp`."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """ln x. Derivative: :class:`Log`."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """√x. Derivative: :class:`Sqrt`."""
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    """|x|. Derivative: :class:`Abs`."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """sign(x) (-1, 0 or 1). Derivative: :class:`Sign`."""
    return Sign.apply(x)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b). Derivative: :class:`Maximum`."""
    return _binary(Maximum, "maximum", a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b). Derivative: :class:`Minimum`."""
    return _binary(Minimum, "minimum", a, b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if condition else b``. Derivative: :class:`Where`."""
    condition = np.asarray(_data(condition))
    try:
        return Where.apply(condition, _number(a), _number(b))
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise ValueError(
            f"where: shapes {condition.shape}, {np.shape(_data(a))} and "
            f"{np.shape(_data(b))} cannot be broadcast together"
        ) from None


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """x limited to [min, max] (the bounds are constants). Derivative: :class:`Clip`."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    return Clip.apply(x, lo=_number(_data(min)), hi=_number(_data(max)))
