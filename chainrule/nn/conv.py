"""Convolution layers Conv1d and Conv2d, as ``torch.nn``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, _cpu_only, _float_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops._checks import LAYER_ERRORS, int_tuple, named_by
from chainrule.ops.conv import PADDING_STRINGS
from chainrule.tensor import DEFAULT_FLOAT, Tensor

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The shared constructor, initialisation and repr of Conv1d and Conv2d."""

    _dims = 0

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
        padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
        padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        _cpu_only(device, name)
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < (
                    1 if arg == "groups" else 0):
                kind = "positive" if arg == "groups" else "non-negative"
                raise ValueError(f"{name}: {arg} must be a {kind} int, got {value!r}")
        if in_channels % groups:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups, got in_channels="
                f"{in_channels} and groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups, got out_channels="
                f"{out_channels} and groups={groups}"
            )
        kernel_size = int_tuple(name, "kernel_size", kernel_size, dims, minimum=1)
        stride = int_tuple(name, "stride", stride, dims, minimum=1)
        dilation = int_tuple(name, "dilation", dilation, dims, minimum=1)
        if isinstance(padding, str):
            if padding not in PADDING_STRINGS:
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}, should be one of "
                    f"{set(PADDING_STRINGS)}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(got stride={stride})"
                )
        else:
            padding = int_tuple(name, "padding", padding, dims, minimum=0)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {set(_PADDING_MODES)}, but got "
                f"padding_mode={padding_mode!r}"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{name}: padding_mode={padding_mode!r} is not implemented; chainrule pads "
                f"with zeros only (padding_mode='zeros')"
            )
        dtype = _float_dtype(DEFAULT_FLOAT if dtype is None else dtype, name)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups = dilation, int(groups)
        self.transposed, self.output_padding = False, (0,) * dims
        self.padding_mode = padding_mode
        shape = (self.out_channels, self.in_channels // self.groups, *kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw W and b with PyTorch's default initialisation."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _conv(self, input: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        try:  # the functional checks shapes, channels and dtypes
            return self._conv(input)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        """torch's text: defaults are left out."""
        dims = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-d convolution over (N, C, L) or (C, L) inputs, as ``nn.Conv1d``.

    y = W ⋆ x + b with W of shape (out_channels, in_channels/groups, kernel_size);
    the output length is ⌊(L + 2P - d(k-1) - 1)/s⌋ + 1. Derivatives:
    :class:`chainrule.ops.conv.Convolution`.

    PyTorch's initialisation: W by ``kaiming_uniform_(a=√5)``, i.e. U(-1/√fan_in,
    1/√fan_in) with fan_in = in_channels/groups · k, and b ~ U(-1/√fan_in,
    1/√fan_in), drawn from the global generator (``chainrule.manual_seed``).
    """

    _dims = 1

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
        padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
        padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv(self, input: Tensor) -> Tensor:
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C, H, W) or (C, H, W) inputs, as ``nn.Conv2d``.

    y = W ⋆ x + b with W of shape (out_channels, in_channels/groups, kH, kW); each
    output side is ⌊(W + 2P - d(F-1) - 1)/S⌋ + 1. Derivatives:
    :class:`chainrule.ops.conv.Convolution`.

    PyTorch's initialisation: W by ``kaiming_uniform_(a=√5)``, i.e. U(-1/√fan_in,
    1/√fan_in) with fan_in = in_channels/groups · kH · kW, and b ~ U(-1/√fan_in,
    1/√fan_in), drawn from the global generator (``chainrule.manual_seed``).
    """

    _dims = 2

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
        padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
        padding_mode: str = "zeros", device: Any = None, dtype: Any = None,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)
