"""Pooling layers; each calls the same-named function of ``nn.functional``.

Constructor signatures, attributes and ``repr`` are torch's (``AvgPool1d`` keeps its
sizes as 1-tuples, as torch does). The layers hold no parameters; the functional
checks the arguments when the layer runs, and an error names the layer. The
derivatives are on :class:`chainrule.ops.pool.MaxPool`, :class:`~chainrule.ops.pool.AvgPool`
and :class:`~chainrule.ops.pool.AdaptiveAvgPool`.
"""

from __future__ import annotations

from typing import Any

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops._checks import LAYER_ERRORS, named_by
from chainrule.tensor import Tensor


def _single(value: Any) -> tuple[Any, ...]:
    """torch's ``_single``: a sequence as a tuple, anything else as a 1-tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class _MaxPoolNd(Module):
    _fn: Any = None

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        try:
            return type(self)._fn(
                input, self.kernel_size, self.stride, self.padding, self.dilation,
                ceil_mode=self.ceil_mode, return_indices=self.return_indices,
            )
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Max over windows of ``kernel_size`` along L of an (N, C, L) or (C, L) input."""

    _fn = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of an (N, C, H, W) or (C, H, W) input; a tie
    sends the gradient to the window's first maximum (row-major), as torch."""

    _fn = staticmethod(F.max_pool2d)


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of ``kernel_size`` along L of an (N, C, L) or (C, L) input."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        try:
            return F.avg_pool1d(
                input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                self.count_include_pad,
            )
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows of an (N, C, H, W) or (C, H, W) input."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        try:
            return F.avg_pool2d(
                input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                self.count_include_pad, self.divisor_override,
            )
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None


class _AdaptiveAvgPoolNd(Module):
    _fn: Any = None

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        try:
            return type(self)._fn(input, self.output_size)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average an (N, C, L) or (C, L) input down to length ``output_size``."""

    _fn = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average an (N, C, H, W) or (C, H, W) input down to ``output_size`` (an int or
    (H_out, W_out), None keeping that size); ``AdaptiveAvgPool2d(1)`` is global
    average pooling."""

    _fn = staticmethod(F.adaptive_avg_pool2d)
