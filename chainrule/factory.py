"""Tensor factories with torch's names, signatures and default dtypes.

Sizes may be given as separate ints or as one tuple (``zeros(2, 3)`` or
``zeros((2, 3))``). Floats default to float32 and integers to int64, as in
PyTorch. Random factories draw from ``generator`` or the global generator
seeded by :func:`chainrule.manual_seed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.random import default_generator
from chainrule.tensor import DEFAULT_FLOAT, Tensor, as_array

__all__ = [
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like",
    "linspace", "ones", "ones_like", "rand", "rand_like", "randint", "randn", "randn_like",
    "randperm", "tensor", "zeros", "zeros_like",
]


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(array, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _shape(size: Sequence[Any], caller: str) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{caller}: sizes must be non-negative ints, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _array_of(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (floats default to float32)."""
    array = as_array(data, dtype)
    if array is data or (isinstance(data, Tensor) and array is data.data):
        array = array.copy()
    return _leaf(array, requires_grad)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory when it already is an array of ``dtype``."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return _leaf(as_array(data, dtype), False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _leaf(array, False)


def zeros(*size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given size."""
    return _leaf(np.zeros(_shape(size, "zeros"), dtype=dtype), requires_grad)


def ones(*size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size."""
    return _leaf(np.ones(_shape(size, "ones"), dtype=dtype), requires_grad)


def empty(*size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (as torch: its values are whatever memory held)."""
    return _leaf(np.empty(_shape(size, "empty"), dtype=dtype), requires_grad)


def full(
    size: Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (float32 for a float, int64 for an
    int, bool for a bool)."""
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 np.int64 if isinstance(fill_value, (int, np.integer)) else DEFAULT_FLOAT)
    return _leaf(np.full(_shape((size,), "full"), fill_value, dtype=dtype), requires_grad)


def zeros_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.zeros_like(_array_of(t), dtype=dtype), requires_grad)


def ones_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.ones_like(_array_of(t), dtype=dtype), requires_grad)


def empty_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.empty_like(_array_of(t), dtype=dtype), requires_grad)


def full_like(t: Any, fill_value: float, dtype: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.full_like(_array_of(t), fill_value, dtype=dtype), requires_grad)


def arange(
    start: float, end: float | None = None, step: float = 1, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT
    return _leaf(np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = DEFAULT_FLOAT,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _leaf(np.linspace(start, end, steps, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = DEFAULT_FLOAT,
        requires_grad: bool = False) -> Tensor:
    """The n × m identity matrix (m = n by default)."""
    return _leaf(np.eye(n, m, dtype=dtype), requires_grad)


def randn(
    *size: Any, generator: np.random.Generator | None = None, dtype: Any = DEFAULT_FLOAT,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples."""
    rng = generator or default_generator()
    data = rng.standard_normal(_shape(size, "randn"), dtype=np.float64).astype(dtype)
    return _leaf(data, requires_grad)


def rand(
    *size: Any, generator: np.random.Generator | None = None, dtype: Any = DEFAULT_FLOAT,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = generator or default_generator()
    data = rng.random(_shape(size, "rand"), dtype=np.float64).astype(dtype)
    return _leaf(data, requires_grad)


def randn_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with the shape (and dtype, unless given) of ``t``."""
    array = _array_of(t)
    return randn(*array.shape, dtype=dtype or array.dtype, requires_grad=requires_grad)


def rand_like(t: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples with the shape (and dtype, unless given) of ``t``."""
    array = _array_of(t)
    return rand(*array.shape, dtype=dtype or array.dtype, requires_grad=requires_grad)


def randint(
    low: int, high: int | None = None, size: Sequence[int] = (), *,
    generator: np.random.Generator | None = None, dtype: Any = np.int64,
) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint(high, size)`` as torch)."""
    if high is None or (not isinstance(high, (int, np.integer)) and size == ()):
        if high is None:
            raise TypeError("randint: give high and size, e.g. randint(10, (3,))")
        low, high, size = 0, low, high
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    rng = generator or default_generator()
    return _leaf(rng.integers(low, high, size=_shape((size,), "randint"), dtype=dtype), False)


def randperm(n: int, *, generator: np.random.Generator | None = None,
             dtype: Any = np.int64) -> Tensor:
    """A random permutation of 0 … n-1."""
    rng = generator or default_generator()
    return _leaf(rng.permutation(n).astype(dtype), False)
