"""Activation functions and softmax.

Each docstring gives the derivative the backward implements; σ is the logistic
sigmoid. Conventions follow PyTorch (ReLU'(0) = 0).
"""

from __future__ import annotations

import numpy as np

from chainrule.function import Function
from chainrule.tensor import Tensor

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(Function):
    """y = max(x, 0)     δ_x = δ_y ⊙ 1[x > 0]   (0 at x = 0, as PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad * (ctx.y > 0)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ)     δ_x = δ_y ⊙ y(1 - y)"""

    @staticmethod
    def forward(ctx, x):
        # σ(x) = ½(1 + tanh(x/2)): one transcendental, no overflow for large |x|.
        y = np.tanh(x * 0.5)
        y += 1
        y *= 0.5
        ctx.y = y
        return y

    @staticmethod
    def backward(ctx, grad):
        y = ctx.y
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x     δ_x = δ_y ⊙ (1 - y²)"""

    @staticmethod
    def forward(ctx, x):
        ctx.y = np.tanh(x)
        return ctx.y

    @staticmethod
    def backward(ctx, grad):
        y = ctx.y
        return grad * (1 - y * y)


class Softmax(Function):
    """y = e^(x - m) / Σ e^(x - m) along ``dim``     δ_x = y ⊙ (δ_y - Σ(δ_y ⊙ y))

    The Jacobian is diag(y) - y yᵀ; multiplying by it needs no matrix.
    """

    @staticmethod
    def forward(ctx, x, axis):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        e /= np.sum(e, axis=axis, keepdims=True)
        ctx.y, ctx.axis = e, axis
        return e

    @staticmethod
    def backward(ctx, grad):
        y = ctx.y
        return y * (grad - np.sum(grad * y, axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - m - ln Σ e^(x - m) along ``dim``     δ_x = δ_y - softmax(x) Σ δ_y  (fused)"""

    @staticmethod
    def forward(ctx, x, axis):
        shifted = x - np.max(x, axis=axis, keepdims=True)
        shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        ctx.y, ctx.axis = shifted, axis
        return shifted

    @staticmethod
    def backward(ctx, grad):
        return grad - np.exp(ctx.y) * np.sum(grad, axis=ctx.axis, keepdims=True)


def _dim(x: Tensor, dim: int | None, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim must be given explicitly (PyTorch deprecated the default)")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for shape {x.shape}")
    return dim % max(x.ndim, 1)


def relu(x: Tensor) -> Tensor:
    """max(x, 0); derivative 1[x > 0]."""
    return ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ); derivative σ(x)(1 - σ(x))."""
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x); derivative 1 - tanh²(x)."""
    return Tanh.apply(x)


def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """e^xᵢ / Σⱼ e^xⱼ along ``dim``; Jacobian diag(y) - y yᵀ."""
    return Softmax.apply(x, axis=_dim(x, dim, "softmax"))


def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    """xᵢ - ln Σⱼ e^xⱼ along ``dim``; δ_x = δ_y - softmax(x) Σ δ_y."""
    return LogSoftmax.apply(x, axis=_dim(x, dim, "log_softmax"))
