"""Batch normalisation and layer normalisation (dropout is in :mod:`chainrule.ops.dropout`).

Batch-norm and layer-norm are fused ops: one node each, with the backward a
course derives. With x̂ = (x - μ)/σ, σ = √(var + ε), y = γ x̂ + β and the means
taken over the axes that were normalised together,

    δ_x = (1/σ) (δ_x̂ - mean(δ_x̂) - x̂ ⊙ mean(δ_x̂ ⊙ x̂)),   δ_x̂ = γ ⊙ δ_y,
    δ_γ = Σ δ_y ⊙ x̂,   δ_β = Σ δ_y   (over the axes γ is shared across).

Conventions are PyTorch's: batch norm normalises with the biased batch variance
but updates the running variance with the unbiased one, ``running = (1 - momentum)
running + momentum batch``. Each saves its input and weight (layer norm: and bias)
as PyTorch does, keeping only the per-channel mean and 1/σ besides; x̂ is rebuilt
from x in backward, so an in-place change of x or γ before ``backward()`` raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.ops._checks import array as _array
from chainrule.ops._checks import shape_of as _shape
from chainrule.tensor import Tensor

__all__ = ["batch_norm", "layer_norm"]


def _normalize_backward(grad_xhat, xhat, inv_std, axes):
    """δ_x = (1/σ)(δ_x̂ - mean(δ_x̂) - x̂ ⊙ mean(δ_x̂ ⊙ x̂)), means over ``axes``."""
    mean_g = grad_xhat.mean(axis=axes, keepdims=True)
    mean_gx = (grad_xhat * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (grad_xhat - mean_g - xhat * mean_gx)


def _affine_grads(ctx, grad, xhat, param_shape, axes):
    """δ_γ = Σ δ_y ⊙ x̂ and δ_β = Σ δ_y over ``axes`` (None where not needed)."""
    _, need_w, need_b = ctx.needs_input_grad
    grad_w = (grad * xhat).sum(axis=axes).reshape(param_shape) if need_w else None
    grad_b = grad.sum(axis=axes).reshape(param_shape) if need_b else None
    return grad_w, grad_b


# ------------------------------------------------------------------ batch norm
class BatchNorm(Function):
    """y = γ x̂ + β,  x̂ = (x - μ)/√(var + ε) per channel (dim 1), over the other axes

    Training (μ, var of the batch, biased):
        δ_x = (γ/σ)(δ_y - mean(δ_y) - x̂ ⊙ mean(δ_y ⊙ x̂))
    Evaluation (μ, var the running statistics, constants):
        δ_x = (γ/σ) δ_y
    Both: δ_γ = Σ δ_y ⊙ x̂,  δ_β = Σ δ_y   (sums and means over all axes but dim 1)
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)  # per-channel values broadcast along dim 1
        if training:
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            n = x.size // x.shape[1]  # values per channel
            if running_mean is not None:
                running_mean *= 1.0 - momentum
                running_mean += momentum * mean.reshape(-1)
            if running_var is not None:
                running_var *= 1.0 - momentum
                running_var += (momentum * n / (n - 1)) * var.reshape(-1)
        else:  # a copy: the running mean may be updated in place before backward
            mean = running_mean.reshape(shape).copy()
            centred = x - mean
            var = running_var.reshape(shape)
        inv_std = 1.0 / np.sqrt(var + eps)  # a new array, per channel
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.inv_std = mean, inv_std
        ctx.training, ctx.axes, ctx.shape = training, axes, shape
        # y = x̂ γ + β in place on x - μ (a new array): × γ/σ, then + β
        y = centred
        y *= inv_std if weight is None else inv_std * weight.reshape(shape)
        if bias is not None:
            y += bias.reshape(shape)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        xhat = (x - ctx.mean) * ctx.inv_std
        scale = ctx.inv_std if weight is None else ctx.inv_std * weight.reshape(ctx.shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            if ctx.training:
                grad_x = _normalize_backward(grad, xhat, scale, ctx.axes)
            else:
                grad_x = grad * scale
        return (grad_x, *_affine_grads(ctx, grad, xhat, (x.shape[1],), ctx.axes))


def _stat_array(stat: Any, name: str, channels: int) -> np.ndarray | None:
    if stat is None:
        return None
    array = _array(stat)
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"batch_norm: {name} must be a floating Tensor or numpy array (updated in "
            f"place), got {type(stat).__name__}"
        )
    if array.shape != (channels,):
        raise ValueError(
            f"batch_norm: {name} of shape {array.shape} does not match the input's "
            f"{channels} channels (expected ({channels},))"
        )
    return array


def batch_norm(
    input: Tensor,
    running_mean: Tensor | np.ndarray | None,
    running_var: Tensor | np.ndarray | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) of an (N, C), (N, C, L) or (N, C, H, W) input.

    ``training=True`` normalises with the batch mean and biased variance and, when
    given, updates ``running_mean``/``running_var`` in place (the ``.data`` of a
    Tensor) with ``r ← (1 - momentum) r + momentum · batch``, using the unbiased batch
    variance, as PyTorch. ``training=False`` normalises with the running statistics.
    Derivatives: :class:`BatchNorm`.
    """
    shape = _shape(input)
    if len(shape) < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, ...) of 2+ dims, got {shape}")
    channels = shape[1]
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and _shape(param) != (channels,):
            raise ValueError(
                f"batch_norm: {name} of shape {_shape(param)} does not match the input "
                f"{shape} (expected ({channels},))"
            )
    mean = _stat_array(running_mean, "running_mean", channels)
    var = _stat_array(running_var, "running_var", channels)
    if training and int(np.prod(shape)) // channels <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got "
            f"input of shape {shape}"
        )
    if not training and (mean is None or var is None):
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    return BatchNorm.apply(
        input, weight, bias, running_mean=mean, running_var=var, training=training,
        momentum=momentum, eps=eps,
    )


# ------------------------------------------------------------------ layer norm
class LayerNorm(Function):
    """y = γ x̂ + β,  x̂ = (x - μ)/√(var + ε) over the last k axes (biased var)

    δ_x = (1/σ)(δ_x̂ - mean(δ_x̂) - x̂ ⊙ mean(δ_x̂ ⊙ x̂)),  δ_x̂ = γ ⊙ δ_y   (means over the last k)
    δ_γ = Σ_batch δ_y ⊙ x̂,  δ_β = Σ_batch δ_y   (sums over the leading axes)
    """

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        norm_axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=norm_axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=norm_axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = centred * inv_std
        ctx.save_for_backward(x, weight, bias)  # as torch, which saves the bias too
        ctx.mean, ctx.inv_std = mean, inv_std
        ctx.norm_axes, ctx.batch_axes = norm_axes, tuple(range(x.ndim - k))
        y = xhat if weight is None else xhat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight, _ = ctx.saved_tensors
        xhat = (x - ctx.mean) * ctx.inv_std
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_xhat = grad if weight is None else grad * weight
            grad_x = _normalize_backward(grad_xhat, xhat, ctx.inv_std, ctx.norm_axes)
        param_shape = x.shape[len(ctx.batch_axes):]
        return (grad_x, *_affine_grads(ctx, grad, xhat, param_shape, ctx.batch_axes))


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, then scale by γ, shift by β.
    Derivatives: :class:`LayerNorm`.
    """
    normalized = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
        normalized_shape
    )
    shape = _shape(input)
    k = len(normalized)
    if k == 0 or k > len(shape) or shape[len(shape) - k:] != normalized:
        raise ValueError(
            f"layer_norm: input of shape {shape} does not end with normalized_shape "
            f"{normalized}"
        )
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and _shape(param) != normalized:
            raise ValueError(
                f"layer_norm: {name} of shape {_shape(param)} does not match "
                f"normalized_shape {normalized}"
            )
    return LayerNorm.apply(input, weight, bias, k=k, eps=eps)
