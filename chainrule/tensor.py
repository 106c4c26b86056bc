"""Tensor: a NumPy array, its gradient, and the node that made it.

A tensor created by the user is a *leaf*; a tensor computed by an op records the
op's node in ``_ctx`` (PyTorch's ``grad_fn``). ``backward()`` walks those nodes
in reverse. Semantics follow PyTorch:

- leaves with ``requires_grad=True`` accumulate into ``.grad`` on every
  ``backward()`` until it is reset (``zero_grad()`` or ``x.grad = None``);
- the graph is freed by ``backward()``; a second call through it raises unless
  the first used ``retain_graph=True``;
- ``.grad`` is a Tensor of the tensor's shape and dtype, with no graph;
- in-place changes (``+=``, ``add_``, ``x[i] = v``) follow PyTorch's rules and
  bump a version counter shared with views (see :mod:`chainrule.ops.inplace`);
  ``.data`` is the NumPy array itself, the unchecked escape hatch.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from chainrule.function import Function

DEFAULT_FLOAT = np.float32


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to a numeric array; Python floats become float32, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        array = data.astype(dtype, copy=False) if dtype is not None else data
    else:
        try:
            array = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"tensor: cannot make a tensor from {_describe(data)}: {error}"
            ) from None
        if dtype is None and array.dtype == np.float64 and not isinstance(data, np.floating):
            array = array.astype(DEFAULT_FLOAT)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"tensor: cannot make a tensor from {_describe(data)} (NumPy dtype {array.dtype}): "
            f"tensors hold numbers or bools"
        )
    return array


def _describe(data: Any) -> str:
    text = repr(data)
    return f"{type(data).__name__} {text if len(text) < 60 else text[:57] + '...'}"


_PRINT_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "max_line_width": 80},
    "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "max_line_width": 80},
}
_print_options: dict[str, Any] = dict(_PRINT_PROFILES["default"])


def set_printoptions(
    precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
    linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None,
) -> None:
    """How tensors print, as ``torch.set_printoptions``: digits after the point, how many
    elements before eliding (``threshold``, ``edgeitems``), line width, and
    ``profile='default'|'short'|'full'``; ``sci_mode=False`` never uses exponents."""
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(
                f"set_printoptions: profile must be one of {sorted(_PRINT_PROFILES)}"
            )
        _print_options.clear()
        _print_options.update(_PRINT_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "max_line_width": linewidth}
    _print_options.update({k: v for k, v in given.items() if v is not None})
    if sci_mode is not None:
        _print_options["suppress_small"] = not sci_mode


class Device:
    """Where a tensor lives: always the CPU in chainrule (``torch.device('cpu')``)."""

    type = "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other: object) -> bool:
        return str(other) == "cpu"

    __hash__ = object.__hash__


CPU = Device()


def check_device(device: Any, caller: str) -> None:
    """Accept ``'cpu'`` (or None); any other device is a clear error: NumPy runs on the CPU."""
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise RuntimeError(
            f"{caller}: device {str(device)!r} is not available: chainrule runs on the CPU "
            f"with NumPy; use 'cpu' or leave device out"
        )


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

    __slots__ = (
        "data", "_grad", "requires_grad", "_ctx",
        "_vc", "_base", "_view_chain", "_view_of_ctx", "__weakref__",
    )

    def __init__(self, *data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        """As ``torch.Tensor``: ``Tensor(2, 3)`` is a 2 × 3 tensor of zeros (torch leaves
        it uninitialised) and ``Tensor([1, 2])`` a float32 copy of the data."""
        dtype = DEFAULT_FLOAT if dtype is None else dtype
        if data and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                        for n in data):
            array = np.zeros(tuple(int(n) for n in data), dtype=dtype)
        elif len(data) == 1:
            array = np.array(as_array(data[0]), dtype=dtype)
        elif not data:
            array = np.zeros(0, dtype=dtype)
        else:
            raise TypeError(
                f"Tensor(): expected sizes (Tensor(2, 3)) or one sequence of data "
                f"(Tensor([1, 2])), got {len(data)} arguments"
            )
        self._init(array, requires_grad)

    def _init(self, array: np.ndarray, requires_grad: bool) -> None:
        """Fill the slots of a new leaf holding ``array`` (shared, not copied)."""
        self.data = array
        self._grad: Tensor | None = None
        self._ctx: Function | None = None
        self._vc = self._base = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, ctx: Function | None) -> Tensor:
        """Fast constructor used by ops: no conversion, no checks."""
        t = object.__new__(cls)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t._grad = t._vc = t._base = None
        t.requires_grad = requires_grad
        t._ctx = ctx
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient: a Tensor of this tensor's shape and dtype (no graph)."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            if isinstance(value, np.ndarray):
                value = Tensor._make(value, False, None)
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad must be a Tensor or None, got {type(value).__name__}"
                )
            if value.shape != self.data.shape or value.dtype != self.data.dtype:
                raise RuntimeError(
                    f"assigned grad has shape {value.shape} and dtype {value.dtype}; the "
                    f"tensor has shape {self.data.shape} and dtype {self.data.dtype}"
                )
        self._grad = value

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
    def device(self) -> Device:
        return CPU

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
        """A new leaf sharing this tensor's data (and version counter), cut from the graph."""
        t = Tensor._make(self.data, False, None)
        t._vc = version_counter(self)
        return t

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

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is
        computed; a returned tensor replaces it (as ``torch.Tensor.register_hook``). For
        a leaf the hook sees the total gradient of one backward, before it is added to
        ``.grad``. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient"
            )
        hooks = hooks_for(self if self._ctx is None else self._ctx)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor too (leaves always keep it)."""
        if self._ctx is None:
            return
        me = weakref.ref(self)

        def keep(grad: Tensor) -> None:
            t = me()
            if t is not None:
                t._grad = grad.clone() if t._grad is None else t._grad + grad

        keep.runs_last = True  # type: ignore[attr-defined]  # after the other hooks, as torch
        self.register_hook(keep)

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Back-propagate from this tensor: δ_self = ``grad`` (1 for a scalar).

        Every leaf that requires a gradient gets ``leaf.grad += ∂self/∂leaf ᵀ δ``.
        """
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
            upstream = np.array(1, dtype=self.data.dtype).reshape(self.data.shape)
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
        body = np.array2string(self.data, separator=", ", prefix="tensor(", **_print_options)
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

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *args: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs on tensors: ``ndarray * t``, ``np.exp(t)`` run chainrule's
        differentiable op; other ufuncs (``np.isfinite(t)``) give a tensor without a
        graph, and refuse a tensor that requires grad (its gradient would be lost)."""
        op = _UFUNC_OPS.get(ufunc)
        if method == "__call__" and op is not None and "out" not in kwargs and not (
            kwargs.keys() - {"dtype"} or kwargs.get("dtype") is not None
        ):
            return op(*args)
        plain = [a.data if isinstance(a, Tensor) else a for a in args]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.data if isinstance(o, Tensor) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        floating = any(np.issubdtype(np.asarray(r).dtype, np.floating)
                       for r in (result if isinstance(result, tuple) else (result,)))
        if floating and is_grad_enabled() and any(
            isinstance(a, Tensor) and a.requires_grad for a in args
        ):
            raise TypeError(
                f"numpy.{ufunc.__name__} on a tensor that requires grad would lose its "
                f"gradient: use chainrule's ops, or .detach() first"
            )
        if isinstance(result, tuple):
            return tuple(Tensor._make(np.asarray(r), False, None) for r in result)
        return Tensor._make(np.asarray(result), False, None)

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
        """``x[index] = value`` in place; recorded in the graph when a gradient is needed
        (δ_value = δ_x[index]). Refused on a parameter outside ``no_grad()``."""
        inplace.setitem(self, index, value)

    # ------------------------------------------------------------ in place
    def __iadd__(self, other: Any) -> Tensor:
        return inplace.binary(self, "+=", np.add, elementwise.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return inplace.binary(self, "-=", np.subtract, elementwise.sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return inplace.binary(self, "*=", np.multiply, elementwise.mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return inplace.binary(self, "/=", np.true_divide, elementwise.div, other)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self += alpha · other, in place."""
        return inplace.binary(self, "add_", np.add, elementwise.add, _scaled(other, alpha))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self -= alpha · other, in place."""
        return inplace.binary(self, "sub_", np.subtract, elementwise.sub, _scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return inplace.binary(self, "mul_", np.multiply, elementwise.mul, other)

    def div_(self, other: Any) -> Tensor:
        return inplace.binary(self, "div_", np.true_divide, elementwise.div, other)

    def pow_(self, exponent: Any) -> Tensor:
        return inplace.binary(self, "pow_", np.power, elementwise.pow, exponent)

    __ipow__ = pow_

    def zero_(self) -> Tensor:
        return inplace.overwrite(self, "zero_", 0)

    def fill_(self, value: Any) -> Tensor:
        return inplace.overwrite(self, "fill_", value)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast, cast to this dtype) into this tensor; δ_src = Σ δ."""
        return inplace.overwrite(self, "copy_", src)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return inplace.clamp(self, min, max)

    clip_ = clamp_

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return inplace.masked_fill(self, mask, value)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *,
                generator: np.random.Generator | None = None) -> Tensor:
        rng = generator or default_generator()
        return inplace.fill_random(self, "normal_", lambda n: rng.normal(mean, std, n))

    def uniform_(self, a: float = 0.0, b: float = 1.0, *,
                 generator: np.random.Generator | None = None) -> Tensor:
        rng = generator or default_generator()
        return inplace.fill_random(self, "uniform_", lambda n: rng.uniform(a, b, n))

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

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __floordiv__(self, other: Any) -> Tensor:
        return elementwise.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return elementwise.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return elementwise.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return elementwise.remainder(other, self)

    def equal(self, other: Any) -> bool:
        """True when both have the same shape and elements (``torch.equal``)."""
        other = _operand(other)
        return self.data.shape == np.shape(other) and bool(np.all(self.data == other))

    def all(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None, out: None = None) -> Tensor:
        """True where every element (over ``dim``) is non-zero; no gradient."""
        _no_out(out, "all")
        axes = _dims(self, dim, axis, "all")
        return Tensor._make(np.all(self.data, axis=axes, keepdims=_keep(keepdim, keepdims)),
                            False, None)

    def any(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None, out: None = None) -> Tensor:
        """True where some element (over ``dim``) is non-zero; no gradient."""
        _no_out(out, "any")
        axes = _dims(self, dim, axis, "any")
        return Tensor._make(np.any(self.data, axis=axes, keepdims=_keep(keepdim, keepdims)),
                            False, None)

    # ------------------------------------------------------------------- methods
    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None, dtype: Any = None, out: None = None) -> Tensor:
        _no_out(out, "sum")
        x = self if dtype is None else self.astype(dtype)
        return reduce.sum(x, _dim(dim, axis), _keep(keepdim, keepdims))

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None, dtype: Any = None, out: None = None) -> Tensor:
        _no_out(out, "mean")
        x = self if dtype is None else self.astype(dtype)
        return reduce.mean(x, _dim(dim, axis), _keep(keepdim, keepdims))

    def var(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Any = None, keepdims: bool | None = None,
        out: None = None,
    ) -> Tensor:
        """Variance over ``dim`` dividing by N - correction (torch: correction=1 by default;
        ``unbiased=False`` means correction=0)."""
        _no_out(out, "var")
        return reduce.var(self, _dim(dim, axis), _correction(unbiased, correction),
                          _keep(keepdim, keepdims))

    def std(
        self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None, axis: Any = None, keepdims: bool | None = None,
        out: None = None,
    ) -> Tensor:
        """Standard deviation: √var (see :meth:`var`)."""
        _no_out(out, "std")
        return reduce.std(self, _dim(dim, axis), _correction(unbiased, correction),
                          _keep(keepdim, keepdims))

    def max(self, dim: int | Tensor | None = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: bool | None = None, out: None = None) -> Any:
        _no_out(out, "max")
        return reduce.max(self, _dim(dim, axis), _keep(keepdim, keepdims))

    def min(self, dim: int | Tensor | None = None, keepdim: bool = False, *,
            axis: Any = None, keepdims: bool | None = None, out: None = None) -> Any:
        _no_out(out, "min")
        return reduce.min(self, _dim(dim, axis), _keep(keepdim, keepdims))

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: Any = None, keepdims: bool | None = None, out: None = None) -> Tensor:
        _no_out(out, "argmax")
        return reduce.argmax(self, _dim(dim, axis), _keep(keepdim, keepdims))

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: Any = None, keepdims: bool | None = None, out: None = None) -> Tensor:
        _no_out(out, "argmin")
        return reduce.argmin(self, _dim(dim, axis), _keep(keepdim, keepdims))

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
                  keepdims: bool | None = None) -> Tensor:
        return reduce.logsumexp(self, _dim(dim, axis), _keep(keepdim, keepdims))

    def cumsum(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        return reduce.cumsum(self, _dim(dim, axis))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        return reduce.norm(self, p, dim, keepdim)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return indexing.topk(self, k, dim, largest, sorted)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return indexing.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return indexing.argsort(self, dim, descending, stable)

    def gather(self, dim: int, index: Any) -> Tensor:
        return indexing.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        return indexing.scatter(self, dim, index, src, value=value)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return indexing.masked_fill(self, mask, value)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return indexing.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return indexing.chunk(self, chunks, dim)

    def repeat(self, *sizes: Any) -> Tensor:
        return indexing.repeat(self, *sizes)

    def flip(self, *dims: Any) -> Tensor:
        return indexing.flip(self, *dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return indexing.roll(self, shifts, dims)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        return indexing.scatter_add(self, dim, index, src)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return reduce.prod(self, dim, keepdim, dtype=dtype)

    def reshape(self, *shape_: Any) -> Tensor:
        return shape.reshape(self, *shape_)

    def view(self, *shape_: Any) -> Tensor:
        return shape.reshape(self, *shape_)

    def view_as(self, other: Tensor) -> Tensor:
        return shape.reshape(self, other.shape)

    reshape_as = view_as

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

    def expand_as(self, other: Tensor) -> Tensor:
        return shape.expand(self, other.shape)

    def contiguous(self) -> Tensor:
        """This tensor (NumPy handles any memory layout)."""
        return self

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

    def matmul(self, other: Any) -> Tensor:
        return linalg.matmul(self, other)

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

    # ---------------------------------------------------------------- devices
    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False,
           **_: Any) -> Tensor:
        """``to(dtype)``, ``to('cpu')``, ``to(other)``: another device is a clear error."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        check_device(device, "to")
        if dtype is None or np.dtype(dtype) == self.dtype:
            return self.clone() if copy else self
        return self.astype(dtype)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *_: Any, **__: Any) -> Tensor:
        check_device("cuda", "cuda()")
        return self


def _no_out(out: Any, op: str) -> None:
    """``out=`` exists so that ``np.sum(t)`` and friends can call the method; only None."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported; use the returned tensor")


def _dims(t: Tensor, dim: Any, axis: Any, op: str) -> Any:
    dim = _dim(dim, axis)
    return None if dim is None else normalize_dims(dim, t.shape, op)


def _scaled(other: Any, alpha: float) -> Any:
    return other if alpha == 1 else other * alpha


def _correction(unbiased: bool | int | None, correction: int | None) -> int:
    """torch's two spellings of the variance divisor N - c (True → 1, False → 0)."""
    if unbiased is None:
        return 1 if correction is None else correction
    if correction is not None:
        raise ValueError("var: give either unbiased or correction, not both")
    return int(unbiased)  # an int given positionally is itself the correction


def _operand(other: Any) -> Any:
    return other.data if isinstance(other, Tensor) else other


# The ops modules import Tensor from here; the methods above reach them through
# these module names, bound once everything is defined (the cycle is deliberate).
from chainrule.function import (  # noqa: E402
    hooks_for,
    is_grad_enabled,
    run_backward,
    version_counter,
)
from chainrule.hooks import RemovableHandle  # noqa: E402
from chainrule.ops import (  # noqa: E402
    activation,
    elementwise,
    indexing,
    inplace,
    linalg,
    reduce,
    shape,
)
from chainrule.ops._checks import dim_arg as _dim  # noqa: E402
from chainrule.ops._checks import keepdim_arg as _keep  # noqa: E402
from chainrule.ops._checks import normalize_dims  # noqa: E402
from chainrule.random import default_generator  # noqa: E402

#: the NumPy ufuncs that have a chainrule op with the same meaning (``ndarray * t``)
_UFUNC_OPS: dict[np.ufunc, Any] = {
    np.add: elementwise.add, np.subtract: elementwise.sub,
    np.multiply: elementwise.mul, np.true_divide: elementwise.div,
    np.power: elementwise.pow, np.negative: elementwise.neg,
    np.matmul: linalg.matmul, np.exp: elementwise.exp, np.log: elementwise.log,
    np.sqrt: elementwise.sqrt, np.absolute: elementwise.abs,
    np.maximum: elementwise.maximum, np.minimum: elementwise.minimum,
    np.tanh: activation.tanh, np.sign: elementwise.sign,
    np.floor_divide: elementwise.floor_divide, np.remainder: elementwise.remainder,
}
