"""Tensor: a NumPy array, its gradient, and the node that made it.

A tensor created by the user is a *leaf*; a tensor computed by an op records the
op's node in ``_ctx`` (PyTorch's ``grad_fn``). ``backward()`` walks those nodes
in reverse. Semantics follow PyTorch:

- leaves with ``requires_grad=True`` accumulate into ``.grad`` on every
  ``backward()`` until it is reset (``zero_grad()`` or ``x.grad = None``);
- the graph is freed by ``backward()``; a second call through it raises unless
  the first used ``retain_graph=True``;
- ``.grad`` is a plain ``numpy.ndarray`` of the tensor's shape and dtype.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from chainrule.function import Function

DEFAULT_FLOAT = np.float32


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an array; Python floats become float32, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        return data.astype(dtype, copy=False) if dtype is not None else data
    array = np.asarray(data, dtype=dtype)
    if dtype is None and array.dtype == np.float64 and not isinstance(data, np.floating):
        array = array.astype(DEFAULT_FLOAT)
    return array


class MaxResult(NamedTuple):
    """``(values, indices)`` as returned by ``Tensor.max(dim)`` / ``min(dim)``."""

    values: Tensor
    indices: Tensor


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    The methods mirror ``torch.Tensor`` (names, signatures, defaults); each one
    delegates to a function in ``chainrule.ops`` whose docstring states its
    derivative.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # `ndarray * Tensor` defers to Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_array(data, dtype)
        self.grad: np.ndarray | None = None
        self._ctx: Function | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Function | None) -> Tensor:
        """Fast constructor used by ops: no conversion, no checks."""
        t = object.__new__(cls)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        return self._ctx

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (for 2-D: the transpose)."""
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as ``Tensor.numpy()``."""
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, got shape {self.data.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._make(self.data, False, None)

    def clone(self) -> Tensor:
        from chainrule.ops.elementwise import Clone

        return Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._ctx is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_(False) on a non-leaf tensor: use detach() to cut it from "
                "the graph"
            )
        if requires_grad and not np.issubdtype(self.data.dtype, np.floating):
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype "
                f"{self.data.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype: Any) -> Tensor:
        """A copy converted to ``dtype``; δ_x = δ_y. An integer/bool result carries no grad."""
        from chainrule.ops.elementwise import Cast

        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            return Tensor._make(self.data.astype(dtype), False, None)
        return Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Back-propagate from this tensor: δ_self = ``grad`` (1 for a scalar).

        Every leaf that requires a gradient gets ``leaf.grad += ∂self/∂leaf ᵀ δ``.
        """
        from chainrule.function import run_backward

        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, got shape "
                    f"{self.data.shape}; pass grad= of that shape (e.g. out.sum().backward())"
                )
            upstream = np.ones_like(self.data)
        else:
            # straight to this tensor's dtype: a Python list must not pass through float32
            upstream = np.array(_operand(grad), dtype=self.data.dtype, copy=True)
            if upstream.shape != self.data.shape:
                raise RuntimeError(
                    f"backward(): grad has shape {upstream.shape} but the tensor has "
                    f"shape {self.data.shape}"
                )
        run_backward(self, upstream, retain_graph)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != DEFAULT_FLOAT and self.data.dtype != np.int64:
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn={self._ctx!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __bool__(self) -> bool:
        return bool(self.data)

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor as its number (as torch)."""
        if spec and self.data.size == 1:
            return format(self.data.item(), spec)
        return format(repr(self), spec)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """NumPy's protocol: ``np.asarray(t)`` shares the data, ``np.array(t)`` copies it."""
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return elementwise.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return elementwise.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return elementwise.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return elementwise.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return elementwise.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return elementwise.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return elementwise.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return elementwise.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return elementwise.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return elementwise.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return elementwise.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return shape.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """In-place ``x[index] = value`` on the data; not recorded in the graph.

        As in PyTorch it is refused on a tensor that requires grad unless inside
        ``no_grad()`` (e.g. initialisation); use ``where``/``cat`` to build a new tensor.
        """
        from chainrule.function import is_grad_enabled

        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(
                f"in-place assignment to a tensor of shape {self.shape} that requires grad: "
                f"do it inside chainrule.no_grad(), or build a new tensor with where()/cat()"
            )
        self.data[shape.plain_index(index)] = _operand(value)

    # comparisons: no gradient, a bool tensor
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(self.data == _operand(other), False, None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(self.data != _operand(other), False, None)

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._make(self.data < _operand(other), False, None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._make(self.data <= _operand(other), False, None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._make(self.data > _operand(other), False, None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._make(self.data >= _operand(other), False, None)

    # ------------------------------------------------------------------- methods
    def sum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.sum(self, dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.mean(self, dim, keepdim)

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None,
    ) -> Tensor:
        """Variance over ``dim`` dividing by N - correction (torch: correction=1 by default;
        ``unbiased=False`` means correction=0)."""
        return reduce.var(self, dim, _correction(unbiased, correction), keepdim)

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None,
    ) -> Tensor:
        return reduce.var(self, dim, _correction(unbiased, correction), keepdim).sqrt()

    def max(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
        return reduce.max(self, dim, keepdim)

    def min(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
        return reduce.min(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return reduce.argmin(self, dim, keepdim)

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return reduce.logsumexp(self, dim, keepdim)

    def reshape(self, *shape_: Any) -> Tensor:
        return shape.reshape(self, *shape_)

    def view(self, *shape_: Any) -> Tensor:
        return shape.reshape(self, *shape_)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return shape.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, got {self.ndim}")
        return self.T

    def permute(self, *dims: Any) -> Tensor:
        return shape.permute(self, *dims)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        return shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return shape.expand(self, *sizes)

    def exp(self) -> Tensor:
        return elementwise.exp(self)

    def log(self) -> Tensor:
        return elementwise.log(self)

    def sqrt(self) -> Tensor:
        return elementwise.sqrt(self)

    def abs(self) -> Tensor:
        return elementwise.abs(self)

    def sign(self) -> Tensor:
        return elementwise.sign(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        return elementwise.clip(self, min, max)

    clamp = clip

    def pow(self, exponent: Any) -> Tensor:
        return elementwise.pow(self, exponent)

    def relu(self) -> Tensor:
        return activation.relu(self)

    def sigmoid(self) -> Tensor:
        return activation.sigmoid(self)

    def tanh(self) -> Tensor:
        return activation.tanh(self)

    def softmax(self, dim: int) -> Tensor:
        return activation.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return activation.log_softmax(self, dim)


def _correction(unbiased: bool | int | None, correction: int | None) -> int:
    """torch's two spellings of the variance divisor N - c (True → 1, False → 0)."""
    if unbiased is None:
        return 1 if correction is None else correction
    if correction is not None:
        raise ValueError("var: give either unbiased or correction, not both")
    return int(unbiased)  # an int given positionally is itself the correction


def _operand(other: Any) -> Any:
    return other.data if isinstance(other, Tensor) else other


# --------------------------------------------------------------------- factories
def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (floats default to float32)."""
    array = _as_array(data, dtype)
    if array is data or (isinstance(data, Tensor) and array is data.data):
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` and keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array, False, None)


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def zeros(*size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros of the given size (float32 unless ``dtype``)."""
    return Tensor(np.zeros(_shape(size), dtype=dtype), requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """A tensor of ones of the given size (float32 unless ``dtype``)."""
    return Tensor(np.ones(_shape(size), dtype=dtype), requires_grad=requires_grad)


def full(
    size: Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (float32 for a float, int64 for an int)."""
    dtype = dtype or (DEFAULT_FLOAT if isinstance(fill_value, float) else None)
    return Tensor(np.full(tuple(size), fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return Tensor(np.zeros_like(_operand(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return Tensor(np.ones_like(_operand(t), dtype=dtype), requires_grad=requires_grad)


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
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def randn(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal samples from ``generator`` (default: the seeded global one)."""
    from chainrule.random import default_generator

    rng = generator or default_generator()
    data = rng.standard_normal(_shape(size), dtype=np.float64).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


def rand(
    *size: Any, dtype: Any = DEFAULT_FLOAT, requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples on [0, 1) from ``generator`` (default: the seeded global one)."""
    from chainrule.random import default_generator

    rng = generator or default_generator()
    data = rng.random(_shape(size), dtype=np.float64).astype(dtype)
    return Tensor(data, requires_grad=requires_grad)


# The ops modules import Tensor from here; the methods above reach them through
# these module names, bound once everything is defined (the cycle is deliberate).
from chainrule.ops import activation, elementwise, linalg, reduce, shape  # noqa: E402
