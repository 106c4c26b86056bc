"""Activation functions and softmax.

Each docstring gives the derivative the backward implements; σ is the logistic
sigmoid, Φ and φ the standard normal CDF and density. Conventions follow
PyTorch: the derivative at a kink (x = 0) is the one of the left branch for
leaky ReLU, PReLU and ELU, and 0 for ReLU. ``inplace`` (relu, leaky_relu, elu)
is accepted so that torch code runs unchanged; the result is always a new tensor.

What backward reads is saved as PyTorch saves it (the output for relu, sigmoid,
tanh, softmax and log-softmax; the input for the others), so changing it in
place before ``backward()`` raises instead of giving a wrong gradient. The
stable formulas (softmax, log-softmax, erfc) live in :mod:`chainrule.ops._numerics`.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops import _numerics
from chainrule.ops._checks import normalize_dim
from chainrule.ops._numerics import erfc
from chainrule.tensor import Tensor

__all__ = [
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "gelu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
]

# ------------------------------------------------------------------ primitives
class ReLU(Function):
    """y = max(x, 0)     δ_x = δ_y ⊙ 1[y > 0]   (0 at x = 0, as PyTorch; saves y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.asarray(np.maximum(x, 0))  # an array even for 0-d x: the saved output is checked
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (y > 0)


class LeakyReLU(Function):
    """y = x if x > 0 else s·x     δ_x = δ_y ⊙ (1[x > 0] + s·1[x ≤ 0])"""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.slope)


class PReLU(Function):
    """y = x if x > 0 else a_c·x  (a_c the slope of x's channel, dim 1)

    δ_x = δ_y ⊙ (1[x > 0] + a_c·1[x ≤ 0])
    δ_a_c = Σ over every position of channel c of δ_y ⊙ x ⊙ 1[x ≤ 0]
    """

    @staticmethod
    def forward(ctx, x, weight):
        a = _channel_slopes(weight, x.ndim)
        ctx.save_for_backward(x, weight)
        return np.where(x <= 0, a * x, x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        a, negative = _channel_slopes(weight, x.ndim), x <= 0
        grad_x = np.where(negative, grad * a, grad) if need_x else None
        grad_w = None
        if need_w:
            zero = np.zeros((), dtype=grad.dtype)
            grad_a = unbroadcast(np.where(negative, grad * x, zero), a.shape)
            grad_w = grad_a.reshape(weight.shape)
        return grad_x, grad_w


def _channel_slopes(weight: np.ndarray, ndim: int) -> np.ndarray:
    """The slopes broadcast along dim 1: shape (C, 1, …, 1) for an (N, C, …) input."""
    return weight.reshape((-1,) + (1,) * (ndim - 2)) if ndim >= 2 else weight.reshape(())


class ELU(Function):
    """y = x if x > 0 else α(eˣ - 1)     δ_x = δ_y ⊙ (1[x > 0] + α eˣ 1[x ≤ 0])"""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * (ctx.alpha * np.exp(np.minimum(x, 0))))


class GELU(Function):
    """y = x Φ(x),  Φ(x) = ½ erfc(-x/√2)     δ_x = δ_y ⊙ (Φ(x) + x φ(x)),  φ(x) = e^(-x²/2)/√(2π)"""

    @staticmethod
    def forward(ctx, x):
        cdf = 0.5 * erfc(x * (-1.0 / math.sqrt(2.0)))
        ctx.save_for_backward(x)
        ctx.cdf = cdf
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        pdf = np.exp(-0.5 * (x * x)) * (1.0 / math.sqrt(2.0 * math.pi))
        return grad * (ctx.cdf + x * pdf)


_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


class GELUTanh(Function):
    """y = ½x(1 + t),  t = tanh(k(x + c x³)),  k = √(2/π), c = 0.044715

    δ_x = δ_y ⊙ (½(1 + t) + ½x(1 - t²) k (1 + 3c x²))
    """

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(_GELU_K * (x + _GELU_C * (x * x * x)))
        ctx.save_for_backward(x)
        ctx.t = t
        return 0.5 * x * (1.0 + t)

    @staticmethod
    def backward(ctx, grad):
        (x,), t = ctx.saved_tensors, ctx.t
        inner = _GELU_K * (1.0 + (3.0 * _GELU_C) * (x * x))
        return grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ)     δ_x = δ_y ⊙ y(1 - y)   (saves y)"""

    @staticmethod
    def forward(ctx, x):
        # With e = e^(-|x|) ≤ 1: σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0,
        # so exp never overflows and small outputs keep their relative precision.
        e = np.exp(-np.abs(x))
        y = np.asarray(np.where(x >= 0, 1.0, e) / (1.0 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class Tanh(Function):
    """y = tanh x     δ_x = δ_y ⊙ (1 - y²)   (saves y)"""

    @staticmethod
    def forward(ctx, x):
        y = np.asarray(np.tanh(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class Softplus(Function):
    """y = ln(1 + e^(βx))/β, or x where βx > threshold

    δ_x = δ_y ⊙ σ(βx), or δ_y where βx > threshold
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        bx = x * beta
        e = np.exp(np.minimum(bx, threshold))  # at most e^threshold: no overflow
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return np.where(bx > threshold, x, np.log1p(e) / beta)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        bx = x * ctx.beta
        e = np.exp(np.minimum(bx, ctx.threshold))
        return np.where(bx > ctx.threshold, grad, grad * e / (e + 1.0))


class Softmax(Function):
    """y = e^(x - m) / Σ e^(x - m) along ``dim``     δ_x = y ⊙ (δ_y - Σ(δ_y ⊙ y))

    The Jacobian is diag(y) - y yᵀ; multiplying by it needs no matrix. Saves y.
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = np.asarray(_numerics.softmax(x, axis))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return y * (grad - np.sum(grad * y, axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - m - ln Σ e^(x - m) along ``dim``     δ_x = δ_y - softmax(x) Σ δ_y = δ_y - e^y Σ δ_y

    Fused (one node, saves y); -inf entries of x are masked out (e⁻ᶦⁿᶠ = 0).
    """

    @staticmethod
    def forward(ctx, x, axis):
        y = np.asarray(_numerics.log_softmax(x, axis))
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - np.exp(y) * np.sum(grad, axis=ctx.axis, keepdims=True)


# ------------------------------------------------------------------- functions
# Each derivative is stated once, on the Function that implements it.
def _dim(x: Tensor, dim: int | None, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim must be given explicitly (PyTorch deprecated the default)")
    return normalize_dim(dim, x.shape, op)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise. Derivative: :class:`ReLU`."""
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope``·x otherwise. Derivative: :class:`LeakyReLU`."""
    return LeakyReLU.apply(input, negative_slope=negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a·x otherwise, with learnable slopes a along dim 1.

    ``weight`` has one element (shared) or C = ``input.shape[1]`` elements (one per
    channel). Derivatives (input and slopes): :class:`PReLU`.
    """
    w_shape, x_shape = np.shape(weight), np.shape(input)
    channels = x_shape[1] if len(x_shape) >= 2 else 1
    if len(w_shape) > 1:
        raise ValueError(f"prelu: weight must be a scalar or 1-D, got shape {w_shape}")
    size = int(np.prod(w_shape))
    if size not in (1, channels):
        raise ValueError(
            f"prelu: weight of shape {w_shape} does not match input of shape {x_shape}: "
            f"expected 1 or {channels} (the size of dim 1) slopes"
        )
    return PReLU.apply(input, weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, α(eˣ - 1) otherwise. Derivative: :class:`ELU`."""
    return ELU.apply(input, alpha=alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x) with Φ the standard normal CDF (derivative: :class:`GELU`), or with
    ``approximate='tanh'`` ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (:class:`GELUTanh`)."""
    if approximate == "none":
        return GELU.apply(input)
    if approximate == "tanh":
        return GELUTanh.apply(input)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ), without overflow for any x. Derivative: :class:`Sigmoid`."""
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(x). Derivative: :class:`Tanh`."""
    return Tanh.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx))/β, and x itself where βx > ``threshold``. Derivative: :class:`Softplus`."""
    return Softplus.apply(input, beta=beta, threshold=threshold)


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e^xᵢ / Σⱼ e^xⱼ along ``dim`` (stable; see :mod:`chainrule.ops._numerics` for -inf
    and empty input). Derivative: :class:`Softmax`."""
    return Softmax.apply(input, axis=_dim(input, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """xᵢ - ln Σⱼ e^xⱼ along ``dim`` (stable; -inf entries stay -inf). Derivative:
    :class:`LogSoftmax`."""
    return LogSoftmax.apply(input, axis=_dim(input, dim, "log_softmax"))
