"""The one home of the small checks every op and functional shares.

- :func:`normalize_dims` / :func:`normalize_dim`: a ``dim`` argument (torch's
  ``dim`` or NumPy's ``axis``; an int, a tuple, negative counts from the end)
  as non-negative axes, with an error naming the op and the tensor's rank;
- :func:`dim_arg` / :func:`keepdim_arg`: torch's and NumPy's spellings of the
  same argument, one of them;
- :func:`array` / :func:`to_array`: the NumPy array of a Tensor (or of any
  operand);
- :func:`check_reduction`, :func:`check_float`, :func:`check_same_shape`,
  :func:`check_same_dtype`, :func:`check_probability`, :func:`numeric_target`:
  what the losses and functionals check, each in one place, each error naming
  the op.

Modules of ``chainrule.nn`` call the functional, which checks; they do not
check again (see :func:`named_by` for how their errors name the layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.tensor import Tensor, as_array

REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------- dims
def dim_arg(dim: Any, axis: Any) -> Any:
    """torch's ``dim`` or NumPy's ``axis`` (both are accepted), not both."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError("give dim or axis, not both")
    return axis


def keepdim_arg(keepdim: bool, keepdims: bool | None) -> bool:
    """torch's ``keepdim`` or NumPy's ``keepdims``."""
    return keepdim if keepdims is None else keepdims


def normalize_dims(dim: Any, shape: tuple[int, ...] | int, op: str) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence of ints) as a sorted tuple of distinct
    non-negative axes of a tensor of ``shape`` (or with that many dimensions);
    None means every axis. A 0-d tensor accepts dim 0 or -1 (and reduces nothing)."""
    ndim = shape if isinstance(shape, int) else len(shape)
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = {normalize_dim(d, shape, op) for d in dims}
    return tuple(sorted(axes)) if ndim else ()


def normalize_dim(dim: Any, shape: tuple[int, ...] | int, op: str) -> int:
    """One ``dim`` as a non-negative axis of a tensor of ``shape`` (or with that many
    dimensions); negative dims count from the end; 0-d tensors accept 0 and -1."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    ndim = shape if isinstance(shape, int) else len(shape)
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        what = f"{ndim} dimensions" if isinstance(shape, int) else f"shape {tuple(shape)}"
        raise IndexError(
            f"{op}: dim {dim} is out of range for {what} (expected a dim in "
            f"[{-rank}, {rank - 1}])"
        )
    return int(dim) % rank


def int_tuple(op: str, name: str, value: Any, n: int, minimum: int | None = None
              ) -> tuple[int, ...]:
    """An int, or a sequence of 1 or ``n`` ints, as ``n`` ints (kernel sizes, strides,
    paddings); each at least ``minimum`` when given. A wrong form is a TypeError, a
    value below the minimum a ValueError, both naming the op and the argument."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values *= n
    if len(values) != n or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
    ):
        what = "an int" if n == 1 else f"an int or a tuple of {n} ints"
        raise TypeError(f"{op}: {name} must be {what}, got {value!r}")
    if minimum is not None and any(v < minimum for v in values):
        bound = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {bound}, got {name}={value!r}")
    return tuple(int(v) for v in values)


def sizes(args: Sequence[Any]) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))``: the sizes as one tuple."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# ----------------------------------------------------------------- arrays
def array(x: Any) -> Any:
    """The array of a Tensor; anything else as it is."""
    return x.data if isinstance(x, Tensor) else x


def to_array(x: Any) -> np.ndarray:
    """The array of a Tensor, or ``x`` converted as ``cr.tensor`` would (floats: float32)."""
    return x.data if isinstance(x, Tensor) else as_array(x)


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a Tensor, an array or a nested list."""
    return np.shape(array(x))


# ------------------------------------------------------------------ checks
def check_reduction(op: str, reduction: Any, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """``reduction`` is one of ``allowed`` ('none', 'mean', 'sum' unless told)."""
    if reduction not in allowed:
        options = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction must be one of {options}, got {reduction!r}")


def check_float(op: str, name: str, x: np.ndarray) -> None:
    """``x`` holds floating-point numbers."""
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {x.dtype}")


def check_same_shape(op: str, input: np.ndarray, target: np.ndarray) -> None:
    """``target`` has exactly the input's shape (no silent broadcasting)."""
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; "
            f"they must be equal (reshape one of them, e.g. target.reshape{input.shape})"
        )


def check_same_dtype(op: str, names: Sequence[str], arrays: Sequence[Any]) -> None:
    """All ``arrays`` (None entries skipped) have one dtype, as torch's matmul demands:
    it does not promote a float32 weight against float64 or integer input."""
    given = [(n, a.dtype) for n, a in zip(names, arrays) if a is not None]
    if any(d != given[0][1] for _, d in given):
        listed = ", ".join(f"{n} has dtype {d}" for n, d in given)
        raise TypeError(
            f"{op}: expected the same dtype for all operands, but {listed}; convert the "
            f"input (e.g. x.float()) or the layer (e.g. model.double())"
        )


def numeric_target(op: str, target: Any) -> np.ndarray:
    """The target's array, which must be of a number (or bool) dtype."""
    t = to_array(target)
    if not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)
            or t.dtype == np.bool_):
        raise TypeError(f"{op}: target must be a numeric tensor, got dtype {t.dtype}")
    return t


def check_probability(op: str, p: float) -> None:
    """``p`` is a probability in [0, 1] (dropout's drop probability)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability p must be between 0 and 1, got {p}")


#: the errors a functional raises for bad input, which a module prefixes with its name
LAYER_ERRORS = (ValueError, TypeError, IndexError)


def named_by(layer: Any, error: Exception) -> Exception:
    """``error`` with the layer that called the functional in front, so a module checks
    nothing itself yet its errors still name it::

        try:
            return F.linear(input, self.weight, self.bias)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None
    """
    return type(error)(f"{layer!r}: {error}")
