"""Activation-function modules; each calls the same-named function of ``nn.functional``.

The derivative of each is stated in ``chainrule.nn.functional``. ``inplace=True``
(ReLU, LeakyReLU, ELU) is accepted so that torch code runs unchanged; the output
is the same, but it is a new tensor and the input is left as it was.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chainrule.nn import functional as F
from chainrule.nn.module import Module, _cpu_only, _float_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops._checks import LAYER_ERRORS, named_by
from chainrule.tensor import DEFAULT_FLOAT, Tensor


class ReLU(Module):
    """max(x, 0)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x ≥ 0, ``negative_slope``·x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x for x ≥ 0, a·x otherwise, with the slope a learned.

    ``num_parameters`` is 1 (one slope shared by all channels) or the number of
    channels (dimension 1 of the input); every slope starts at ``init``.
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        _cpu_only(device, "PReLU")
        if not isinstance(num_parameters, (int, np.integer)) or num_parameters < 1:
            raise ValueError(
                f"PReLU: num_parameters must be a positive int, got {num_parameters!r}"
            )
        self.num_parameters = int(num_parameters)
        dtype = _float_dtype(DEFAULT_FLOAT if dtype is None else dtype, "PReLU")
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def forward(self, input: Tensor) -> Tensor:
        try:  # F.prelu checks the slopes against the channels
            return F.prelu(input, self.weight)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x for x > 0, α(eˣ - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x·Φ(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        try:  # F.gelu checks ``approximate``
            return F.gelu(input, approximate=self.approximate)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softplus(Module):
    """(1/β) ln(1 + e^(βx)); x itself where βx > ``threshold`` (numerical stability)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _implicit_dim(module: Module, ndim: int) -> int:
    """PyTorch's legacy choice when ``dim=None``: 0 for 0-, 1- and 3-D input, else 1."""
    warnings.warn(
        f"{type(module).__name__}: implicit dimension choice is deprecated; "
        "pass dim= explicitly",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """e^xᵢ / Σⱼ e^xⱼ along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _implicit_dim(self, input.ndim)
        return F.softmax(input, dim=dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """xᵢ - ln Σⱼ e^xⱼ along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _implicit_dim(self, input.ndim)
        return F.log_softmax(input, dim=dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
