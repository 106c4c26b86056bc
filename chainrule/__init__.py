"""chainrule: a deep-learning framework on NumPy whose every gradient is a formula.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4., 6.], dtype=float32)
"""

# The order matters (chainrule.tensor must load before the ops), hence no sorting:
from chainrule.tensor import (  # noqa: I001
    Tensor,
    arange,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.function import Function, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.ops.elementwise import maximum, minimum, where
from chainrule.ops.reduce import logsumexp
from chainrule.ops.shape import cat, stack
from chainrule.random import manual_seed
from chainrule import check, profiler
from chainrule.io import load, save
from chainrule import data, nn, optim
from numpy import float32, float64, int64

__version__ = "0.1.0"

__all__ = [
    "Function",
    "Tensor",
    "arange",
    "cat",
    "check",
    "data",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "int64",
    "is_grad_enabled",
    "load",
    "logsumexp",
    "manual_seed",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "profiler",
    "rand",
    "randn",
    "save",
    "set_grad_enabled",
    "stack",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
