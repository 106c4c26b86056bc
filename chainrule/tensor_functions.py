"""The ``torch.*`` functions that are also Tensor methods: ``cr.sum(x, 1)`` is ``x.sum(1)``.

Each takes the same arguments as the method (torch's signatures, with NumPy's
``axis=``/``keepdims=`` accepted too); a non-tensor input is converted first.
The gradients are those of the methods' ops.
"""

from __future__ import annotations

from typing import Any

from chainrule.factory import as_tensor
from chainrule.ops import elementwise
from chainrule.ops.indexing import allclose, isclose
from chainrule.tensor import Tensor

__all__ = [
    "abs", "allclose", "argmax", "argmin", "argsort", "chunk", "clamp", "clip", "cumsum",
    "equal", "exp", "flatten", "flip", "gather", "isclose", "log", "logsumexp", "masked_fill",
    "matmul", "max", "mean", "min", "norm", "permute", "prod", "reshape", "sort", "split",
    "sqrt", "squeeze", "std", "sum", "topk", "transpose", "unsqueeze", "var",
]


def _method(name: str) -> Any:
    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(as_tensor(input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``: see ``Tensor.{name}``."
    return function


abs = _method("abs")
argmax = _method("argmax")
argmin = _method("argmin")
argsort = _method("argsort")
clamp = _method("clamp")
clip = _method("clip")
cumsum = _method("cumsum")
equal = _method("equal")
exp = _method("exp")
flatten = _method("flatten")
gather = _method("gather")
log = _method("log")
logsumexp = _method("logsumexp")
matmul = _method("matmul")
mean = _method("mean")
norm = _method("norm")
permute = _method("permute")
reshape = _method("reshape")
sort = _method("sort")
sqrt = _method("sqrt")
squeeze = _method("squeeze")
std = _method("std")
sum = _method("sum")
topk = _method("topk")
transpose = _method("transpose")
unsqueeze = _method("unsqueeze")
var = _method("var")
chunk = _method("chunk")
flip = _method("flip")
masked_fill = _method("masked_fill")
prod = _method("prod")
split = _method("split")


def max(input: Any, *args: Any, **kwargs: Any) -> Any:
    """``max(x)`` the largest element, ``max(x, dim)`` (values, indices), ``max(a, b)``
    the elementwise maximum — torch's three forms."""
    if args and isinstance(args[0], Tensor):
        return elementwise.maximum(input, args[0])
    return as_tensor(input).max(*args, **kwargs)


def min(input: Any, *args: Any, **kwargs: Any) -> Any:
    """``min(x)``, ``min(x, dim)`` (values, indices), ``min(a, b)``: see :func:`max`."""
    if args and isinstance(args[0], Tensor):
        return elementwise.minimum(input, args[0])
    return as_tensor(input).min(*args, **kwargs)
