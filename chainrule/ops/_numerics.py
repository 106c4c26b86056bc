"""The one home of the numerically delicate formulas, on plain NumPy arrays.

Used by the activations (softmax, log-softmax, GELU), the reductions
(logsumexp) and the losses (cross-entropy, BCE with logits). Each is stable:

- softmax, log-softmax and log-sum-exp subtract the maximum first, so every
  exponent is ≤ 0 and logits of ±1e4 give finite results. The infinities give
  PyTorch's answers: -inf entries are masked out (e⁻ᶦⁿᶠ = 0); a row of all -inf
  has log-sum-exp -inf and a NaN (log-)softmax; a row holding +inf has
  log-sum-exp +inf and a NaN (log-)softmax; a reduction over an empty axis
  gives log-sum-exp -inf and an empty (log-)softmax;
- log σ(z) = -softplus(-z) never overflows;
- erfc is accurate in the tails, where 1 - erf(x) would cancel to 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _finite_max(x: np.ndarray, axis: Any) -> np.ndarray:
    """The maximum along ``axis`` (keepdims), replaced by 0 where it is ±inf or the axis
    is empty, so that subtracting it never makes ∞ - ∞."""
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


def logsumexp(x: np.ndarray, axis: Any, keepdims: bool = False) -> np.ndarray:
    """ln Σ e^x along ``axis`` = m + ln Σ e^(x - m) with m the (finite) maximum."""
    m = _finite_max(x, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return y if keepdims else np.squeeze(y, axis=axis)


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """ln softmax(z) along ``axis`` = (z - m) - ln Σ e^(z - m), m the maximum. A row
    of all -inf, or holding +inf, has m = ±inf and comes out NaN, as in torch."""
    if z.size == 0:
        return z.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted = z - z.max(axis=axis, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """e^(z - m) / Σ e^(z - m) along ``axis``, m the maximum (NaN rows as log_softmax)."""
    if z.size == 0:
        return z.copy()
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
    return e


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """ln σ(z) = -softplus(-z) = -(max(-z, 0) + ln(1 + e^(-|z|))), finite for any finite z."""
    return -(np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))))


# ---------------------------------------------------------------- erf, erfc
# NumPy has no erf. erfc below is evaluated in float64 precision (relative error
# below 1e-14) with a power series near 0 and a continued fraction in the tails.
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
