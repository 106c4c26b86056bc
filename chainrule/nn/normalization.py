"""Batch normalisation and layer normalisation layers."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.factory import from_numpy
from chainrule.nn import functional as F
from chainrule.nn.module import Module, _cpu_only, _float_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops._checks import LAYER_ERRORS, named_by
from chainrule.tensor import DEFAULT_FLOAT, Tensor


class _BatchNorm(Module):
    """y = γ ⊙ (x - μ) / √(σ² + ε) + β per channel (dimension 1).

    Training: μ, σ² are the batch's (biased σ²), and the running estimates move
    by r ← (1 - momentum)·r + momentum·stat, with the *unbiased* variance, as
    PyTorch (``momentum=None``: a cumulative average over the batches seen).
    Eval: the running estimates are used. ``affine`` learns γ and β (β only
    with ``bias=True``). Buffers: ``running_mean``,
    ``running_var``, ``num_batches_tracked``.
    """

    _expected_ndim: tuple[int, ...]

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
        affine: bool = True, track_running_stats: bool = True, device: Any = None,
        dtype: Any = None, *, bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        _cpu_only(device, name)
        if not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        dtype = _float_dtype(DEFAULT_FLOAT if dtype is None else dtype, name)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", from_numpy(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", from_numpy(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", from_numpy(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._expected_ndim or input.shape[1] != self.num_features:
            dims = " or ".join(f"{n}-D" for n in self._expected_ndim)
            raise ValueError(
                f"{self!r}: got input of shape {tuple(input.shape)}, expected {dims} input "
                f"with num_features={self.num_features} in dimension 1"
            )
        counting = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:  # cumulative average over the batches
            factor = 1.0 / (int(self.num_batches_tracked.data) + 1)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        output = F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=factor,
            eps=self.eps,
        )
        if counting:  # after F.batch_norm accepted the input: a rejected batch changes nothing
            self.num_batches_tracked.data += 1
        return output

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input, statistics per channel C."""

    _expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input, statistics per channel C."""

    _expected_ndim = (4,)


class LayerNorm(Module):
    """y = γ ⊙ (x - μ) / √(σ² + ε) + β over the last dims ``normalized_shape``
    (biased σ², per sample; the same in training and eval)."""

    def __init__(
        self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
        elementwise_affine: bool = True, bias: bool = True, device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _cpu_only(device, "LayerNorm")
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = _float_dtype(DEFAULT_FLOAT if dtype is None else dtype, "LayerNorm")
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        try:  # F.layer_norm checks the input's last dimensions
            return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
