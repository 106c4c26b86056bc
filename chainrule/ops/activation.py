"""Activation functions and softmax.

Each docstring gives the derivative the backward implements; σ is the logistic
sigmoid, Φ and φ the standard normal CDF and density. Conventions follow
PyTorch: the derivative at a kink (x = 0) is the one of the left branch for
leaky ReLU, PReLU and ELU, and 0 for ReLU. ``inplace`` (relu, leaky_relu, elu)
is accepted so that torch code runs unchanged; the result is always a new tensor.

NumPy has no ``erf``; :func:`erfc` below evaluates it in float64 precision
(relative error below 1e-14) with a power series near 0 and a continued
fraction in the tails, both vectorised.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.function import Function, unbroadcast
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

# ---------------------------------------------------------------- erf, erfc
# erf(a) = (2/√π) Σₙ (-1)ⁿ a^(2n+1) / (n! (2n+1)): 26 terms reach 1e-17 for a < 1.5.
_ERF_SERIES = [
    2.0 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(26)
]
_SERIES_LIMIT = 1.5  # the series is used below, the continued fraction above
_CF_TERMS = 40  # enough for 1e-15 at a = 1.5; the fraction converges faster further out


def _erf_series(a: np.ndarray) -> np.ndarray:
    """erf(a) for |a| < 1.5 by the Taylor series, in Horner form in a²."""
    z = a * a
    acc = np.full_like(a, _ERF_SERIES[-1])
    for c in reversed(_ERF_SERIES[:-1]):
        acc *= z
        acc += c
    return a * acc


def _erfc_fraction(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a ≥ 1.5 by the continued fraction

    erfc(a) = (2a/√π) e^(-a²) / (2a²+1 - 1·2/(2a²+5 - 3·4/(2a²+9 - …))),

    evaluated from its tail. e^(-a²) is computed as e^(-h²) e^(-l(a+h)) with
    a = h + l and h rounded to 24 bits, so that h² is exact.
    """
    a = np.minimum(a, 28.0)  # erfc(28) underflows to 0; keeps 2a² finite
    z = 2.0 * a * a
    t = z + (4 * _CF_TERMS + 1)
    for k in range(_CF_TERMS, 0, -1):
        t = z + (4 * k - 3) - ((2 * k - 1) * (2 * k)) / t
    h = a.astype(np.float32).astype(a.dtype)
    l = a - h
    gauss = np.exp(-(h * h)) * np.exp(-(l * (a + h)))
    return (2.0 / math.sqrt(math.pi)) * a * gauss / t


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x) of an array, to ~1e-15 relative.

    Accurate in the tails too (erfc(10) ≈ 2.1e-45 to full precision), where
    1 - erf(x) would cancel to 0.
    """
    a = np.abs(x)
    out = np.empty_like(a)
    near = a < _SERIES_LIMIT
    out[near] = 1.0 - _erf_series(a[near])
    far = ~near
    out[far] = _erfc_fraction(a[far])
    return np.where(x < 0, 2.0 - out, out)


# ------------------------------------------------------------------ primitives
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


class LeakyReLU(Function):
    """y = x if x > 0 else s·x     δ_x = δ_y ⊙ (1[x > 0] + s·1[x ≤ 0])"""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.positive, ctx.slope = x > 0, negative_slope
        return np.where(ctx.positive, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        return np.where(ctx.positive, grad, grad * ctx.slope)


class PReLU(Function):
    """y = x if x > 0 else a_c·x  (a_c the slope of x's channel, dim 1)

    δ_x = δ_y ⊙ (1[x > 0] + a_c·1[x ≤ 0])
    δ_a_c = Σ over every position of channel c of δ_y ⊙ x ⊙ 1[x ≤ 0]
    """

    @staticmethod
    def forward(ctx, x, weight):
        # The slopes broadcast along dim 1: shape (C, 1, …, 1) for an (N, C, …) input.
        a = weight.reshape((-1,) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else weight.reshape(())
        ctx.x, ctx.a, ctx.weight_shape = x, a, weight.shape
        ctx.negative = x <= 0
        return np.where(ctx.negative, a * x, x)

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w = ctx.needs_input_grad
        x, a, negative = ctx.x, ctx.a, ctx.negative
        grad_x = np.where(negative, grad * a, grad) if need_x else None
        grad_w = None
        if need_w:
            zero = np.zeros((), dtype=grad.dtype)
            grad_a = unbroadcast(np.where(negative, grad * x, zero), a.shape)
            grad_w = grad_a.reshape(ctx.weight_shape)
        return grad_x, grad_w


class ELU(Function):
    """y = x if x > 0 else α(eˣ - 1)     δ_x = δ_y ⊙ (1[x > 0] + α eˣ 1[x ≤ 0])"""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.x, ctx.alpha = x, alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
        return np.where(x > 0, grad, grad * (ctx.alpha * np.exp(np.minimum(x, 0))))


class GELU(Function):
    """y = x Φ(x),  Φ(x) = ½ erfc(-x/√2)     δ_x = δ_y ⊙ (Φ(x) + x φ(x)),  φ(x) = e^(-x²/2)/√(2π)"""

    @staticmethod
    def forward(ctx, x):
        cdf = 0.5 * erfc(x * (-1.0 / math.sqrt(2.0)))
        ctx.x, ctx.cdf = x, cdf
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x = ctx.x
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
        ctx.x, ctx.t = x, t
        return 0.5 * x * (1.0 + t)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.x, ctx.t
        inner = _GELU_K * (1.0 + (3.0 * _GELU_C) * (x * x))
        return grad * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner)


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ)     δ_x = δ_y ⊙ y(1 - y)"""

    @staticmethod
    def forward(ctx, x):
        # With e = e^(-|x|) ≤ 1: σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0,
        # so exp never overflows and small outputs keep their relative precision.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1.0, e) / (1.0 + e)
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


class Softplus(Function):
    """y = ln(1 + e^(βx))/β, or x where βx > threshold

    δ_x = δ_y ⊙ σ(βx), or δ_y where βx > threshold
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        bx = x * beta
        linear = bx > threshold
        e = np.exp(np.minimum(bx, threshold))  # at most e^threshold: no overflow
        ctx.linear, ctx.e = linear, e
        return np.where(linear, x, np.log1p(e) / beta)

    @staticmethod
    def backward(ctx, grad):
        e = ctx.e
        return np.where(ctx.linear, grad, grad * e / (e + 1.0))


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


# ------------------------------------------------------------------- functions
def _dim(x: Tensor, dim: int | None, op: str) -> int:
    if dim is None:
        raise TypeError(f"{op}: dim must be given explicitly (PyTorch deprecated the default)")
    if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for shape {x.shape}")
    return dim % max(x.ndim, 1)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); derivative 1[x > 0] (0 at x = 0)."""
    return ReLU.apply(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope``·x otherwise; derivative 1 or ``negative_slope``."""
    return LeakyReLU.apply(input, negative_slope=negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a·x otherwise, with learnable slopes a along dim 1.

    ``weight`` has one element (shared) or C = ``input.shape[1]`` elements (one per
    channel). δ_x = δ_y ⊙ (1[x > 0] + a 1[x ≤ 0]); δ_a = Σ δ_y ⊙ x ⊙ 1[x ≤ 0] over
    every position of a's channel.
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
    """x for x > 0, α(eˣ - 1) otherwise; derivative 1 or α eˣ."""
    return ELU.apply(input, alpha=alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x); derivative Φ(x) + x φ(x).

    ``approximate='tanh'`` uses ½x(1 + tanh(√(2/π)(x + 0.044715x³))) and its derivative.
    """
    if approximate == "none":
        return GELU.apply(input)
    if approximate == "tanh":
        return GELUTanh.apply(input)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ); derivative σ(x)(1 - σ(x))."""
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:
    """tanh(x); derivative 1 - tanh²(x)."""
    return Tanh.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx))/β, and x where βx > ``threshold``; derivative σ(βx) (1 where linear)."""
    return Softplus.apply(input, beta=beta, threshold=threshold)


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e^xᵢ / Σⱼ e^xⱼ along ``dim``; Jacobian diag(y) - y yᵀ."""
    return Softmax.apply(input, axis=_dim(input, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """xᵢ - ln Σⱼ e^xⱼ along ``dim``; δ_x = δ_y - softmax(x) Σ δ_y."""
    return LogSoftmax.apply(input, axis=_dim(input, dim, "log_softmax"))
