"""chainrule: a deep-learning framework on NumPy whose every gradient is a formula.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4., 6.])
"""

# The order matters (chainrule.tensor must load before the ops), hence no sorting:
from chainrule.tensor import Tensor, set_printoptions  # noqa: I001
from chainrule.factory import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.function import Function, is_grad_enabled, no_grad, set_grad_enabled
from chainrule.ops.elementwise import maximum, minimum, where
from chainrule.ops.shape import cat, stack
from chainrule.tensor_functions import *  # noqa: F403  (torch.* names: sum, max, ...)
from chainrule.tensor_functions import __all__ as _functions
from chainrule.random import manual_seed
from chainrule import check, profiler
from chainrule.io import load, save
from chainrule import data, metrics, nn, optim
from chainrule import viz
from numpy import bool_ as bool, float32, float64, int64

__version__ = "0.1.0"

__all__ = [
    "Function", "Tensor", "arange", "as_tensor", "bool", "cat", "check", "data", "empty",
    "empty_like", "eye", "float32", "float64", "from_numpy", "full", "full_like", "int64",
    "is_grad_enabled", "linspace", "load", "manual_seed", "maximum", "metrics", "minimum",
    "nn", "no_grad", "ones", "ones_like", "optim", "profiler", "rand", "rand_like", "randint",
    "randn", "randn_like", "randperm", "save", "set_grad_enabled", "set_printoptions", "stack",
    "tensor", "viz", "where", "zeros", "zeros_like", *_functions,
]
