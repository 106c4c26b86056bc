"""Linear (fully connected), Identity and Flatten layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, _cpu_only, _float_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops._checks import LAYER_ERRORS, named_by
from chainrule.tensor import DEFAULT_FLOAT, Tensor


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), as ``nn.Linear``.

    Derivatives: :class:`chainrule.ops.linalg.Linear`. The input must have the
    weight's dtype (float32 unless built with ``dtype=``), as in torch.

    PyTorch's initialisation: W by ``kaiming_uniform_(a=√5)``, i.e.
    U(-1/√in, 1/√in), and b ~ U(-1/√in, 1/√in), drawn from the global
    generator (seed it with ``chainrule.manual_seed``).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _cpu_only(device, "Linear")
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        dtype = _float_dtype(DEFAULT_FLOAT if dtype is None else dtype, "Linear")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw W and b with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        try:  # F.linear checks shapes and dtypes
            return F.linear(input, self.weight, self.bias)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` into one (default: all but the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
