"""Loss functions and distances, with torch.nn.functional's signatures.

Each loss is one :class:`Function` that computes the per-element (or
per-sample) loss ℓ, applies the ``reduction`` and, in backward, spreads δ back:

- ``'none'``: L = ℓ, the upstream gradient is δ_ℓ itself;
- ``'sum'``:  L = Σ ℓ, every element gets δ_ℓ = δ_L;
- ``'mean'``: L = Σ ℓ / D, every element gets δ_ℓ = δ_L / D, where D is the
  number of elements, or the sum of the weights where PyTorch divides by it
  (weighted ``mse_loss``/``l1_loss``, class-weighted ``nll_loss``/``cross_entropy``).

Weights (``weight``, ``pos_weight``) are constants, as in PyTorch: no gradient
flows into them. Targets get a gradient wherever PyTorch gives one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops.reduce import normalize_dims
from chainrule.tensor import Tensor, _as_array

__all__ = [
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "cosine_similarity",
    "cosine_embedding_loss",
    "pairwise_distance",
]

_REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------- helpers
def _array(x: Any) -> np.ndarray:
    """The array of a Tensor, or ``x`` converted as ``cr.tensor`` would (floats: float32)."""
    return x.data if isinstance(x, Tensor) else _as_array(x)


def _operand(x: Any, array: np.ndarray) -> Any:
    """What to hand to ``apply``: the Tensor itself (to keep its graph), else its array."""
    return x if isinstance(x, Tensor) else array


def _check_reduction(op: str, reduction: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        options = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction must be one of {options}, got {reduction!r}")


def _check_float(op: str, name: str, x: np.ndarray) -> None:
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{op}: {name} must be a floating-point tensor, got dtype {x.dtype}")


def _check_same_shape(op: str, input: np.ndarray, target: np.ndarray) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; "
            f"they must be equal (reshape one of them, e.g. target.reshape{input.shape})"
        )


def _numeric_target(op: str, target: Any) -> np.ndarray:
    t = _array(target)
    if not (np.issubdtype(t.dtype, np.floating) or np.issubdtype(t.dtype, np.integer)
            or t.dtype == np.bool_):
        raise TypeError(f"{op}: target must be a numeric tensor, got dtype {t.dtype}")
    return t


def _constant(op: str, name: str, w: Any, dtype: np.dtype, shape: tuple[int, ...]) -> Any:
    """A weight as an array of ``dtype`` that broadcasts to ``shape`` (None stays None)."""
    if w is None:
        return None
    w = _array(w)
    if not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):
        raise TypeError(f"{op}: {name} must be a numeric tensor, got dtype {w.dtype}")
    try:
        broadcast = np.broadcast_shapes(w.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(
            f"{op}: {name} of shape {w.shape} does not broadcast to the input shape {shape}"
        )
    return w.astype(dtype, copy=False)


def _class_weight(op: str, weight: Any, n_classes: int, dtype: np.dtype) -> Any:
    if weight is None:
        return None
    w = _array(weight)
    if w.shape != (n_classes,):
        raise ValueError(
            f"{op}: weight must have shape ({n_classes},), one entry per class, got {w.shape}"
        )
    return w.astype(dtype, copy=False)


def _reduce(loss: np.ndarray, reduction: str, denominator: Any) -> np.ndarray:
    """L = ℓ, Σ ℓ or Σ ℓ / D."""
    if reduction == "none":
        return loss
    total = np.sum(loss)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(total / denominator, dtype=loss.dtype)


def _spread(grad: np.ndarray, reduction: str, denominator: Any, shape: tuple[int, ...]) -> Any:
    """δ_ℓ from δ_L: δ_L itself ('none'), δ_L ('sum') or δ_L / D ('mean'), broadcastable."""
    if reduction == "none":
        return grad
    if reduction == "sum":
        return np.broadcast_to(grad, shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.broadcast_to(grad / denominator, shape)


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    """ln σ(z) = -softplus(-z) = -(max(-z, 0) + ln(1 + e^(-|z|))), finite for any z."""
    return -(np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z))))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """ln softmax along the last axis, with the max subtracted first (stable for ±1e4)."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    shifted -= np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return shifted


# ------------------------------------------------------------ regression losses
class MSELoss(Function):
    """ℓ = w ⊙ (x - t)²     δ_x = δ_ℓ ⊙ 2w ⊙ (x - t),  δ_t = -δ_x

    'mean' divides by the number of elements, or by Σ w when weighted (PyTorch).
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        diff = x - t.astype(x.dtype, copy=False)
        loss = diff * diff
        if weight is not None:
            loss *= weight
        ctx.diff, ctx.weight, ctx.reduction = diff, weight, reduction
        ctx.denominator = loss.size if weight is None else np.sum(weight)
        return _reduce(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        g = _spread(grad, ctx.reduction, ctx.denominator, ctx.diff.shape) * (2 * ctx.diff)
        if ctx.weight is not None:
            g = g * ctx.weight
        need_x, need_t = ctx.needs_input_grad
        return (g if need_x else None), (-g if need_t else None)


class L1Loss(Function):
    """ℓ = w ⊙ |x - t|     δ_x = δ_ℓ ⊙ w ⊙ sign(x - t)  (0 at x = t, as PyTorch),  δ_t = -δ_x"""

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        diff = x - t.astype(x.dtype, copy=False)
        loss = np.abs(diff)
        if weight is not None:
            loss *= weight
        ctx.sign, ctx.weight, ctx.reduction = np.sign(diff), weight, reduction
        ctx.denominator = loss.size if weight is None else np.sum(weight)
        return _reduce(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        g = _spread(grad, ctx.reduction, ctx.denominator, ctx.sign.shape) * ctx.sign
        if ctx.weight is not None:
            g = g * ctx.weight
        need_x, need_t = ctx.needs_input_grad
        return (g if need_x else None), (-g if need_t else None)


def _regression(op: str, cls: type[Function], input: Tensor, target: Any, reduction: str,
                weight: Any) -> Tensor:
    _check_reduction(op, reduction)
    x, t = _array(input), _numeric_target(op, target)
    _check_float(op, "input", x)
    _check_same_shape(op, x, t)
    w = _constant(op, "weight", weight, x.dtype, x.shape)
    if w is not None and w.shape != x.shape:
        raise ValueError(
            f"{op}: weight shape {w.shape} differs from input shape {x.shape}; they must be equal"
        )
    return cls.apply(_operand(input, x), _operand(target, t), weight=w, reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error: ℓ = w (x - t)²; ∂ℓ/∂x = 2w(x - t), ∂ℓ/∂t = -2w(x - t).

    ``weight`` (same shape as input, torch ≥ 2.7) makes 'mean' divide by Σ w.
    Unlike PyTorch, input and target must have the same shape (PyTorch only
    warns and broadcasts, which silently gives a wrong loss for (N, 1) vs (N,)).
    """
    return _regression("mse_loss", MSELoss, input, target, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: ℓ = w |x - t|; ∂ℓ/∂x = w sign(x - t) (0 at x = t), ∂ℓ/∂t = -∂ℓ/∂x.

    Same shape rule and ``weight`` semantics as :func:`mse_loss`.
    """
    return _regression("l1_loss", L1Loss, input, target, reduction, weight)


# ------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    """ℓ = -w [t ln x + (1 - t) ln(1 - x)], each ln clamped to ≥ -100 (PyTorch)

    δ_x = δ_ℓ ⊙ w (x - t) / max(x(1 - x), 1e-12)
    δ_t = δ_ℓ ⊙ w [ln(1 - x) - ln x]     (the clamped logs)
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        t = t.astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss *= weight
        ctx.x, ctx.t, ctx.weight, ctx.reduction = x, t, weight, reduction
        ctx.logs = (log_x, log_1mx)
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.x, ctx.t
        g = _spread(grad, ctx.reduction, x.size, x.shape)
        if ctx.weight is not None:
            g = g * ctx.weight
        need_x, need_t = ctx.needs_input_grad
        grad_x = grad_t = None
        if need_x:
            grad_x = g * (x - t) / np.maximum(x * (1 - x), 1e-12)
        if need_t:
            log_x, log_1mx = ctx.logs
            grad_t = g * (log_1mx - log_x)
        return grad_x, grad_t


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities x ∈ [0, 1].

    ℓ = -w [t ln x + (1 - t) ln(1 - x)] (logs clamped at -100 as PyTorch);
    ∂ℓ/∂x = w (x - t) / (x(1 - x)), ∂ℓ/∂t = w ln((1 - x)/x). ``weight`` broadcasts
    to the input. Prefer :func:`binary_cross_entropy_with_logits` on raw scores.
    """
    op = "binary_cross_entropy"
    _check_reduction(op, reduction)
    x, t = _array(input), _numeric_target(op, target)
    _check_float(op, "input", x)
    _check_same_shape(op, x, t)
    if x.size and (np.min(x) < 0 or np.max(x) > 1):
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got values in "
            f"[{np.min(x):g}, {np.max(x):g}]; for raw scores use "
            f"binary_cross_entropy_with_logits"
        )
    w = _constant(op, "weight", weight, x.dtype, x.shape)
    return BinaryCrossEntropy.apply(_operand(input, x), _operand(target, t), weight=w,
                                    reduction=reduction)


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = w [(1 - t) z - l ln σ(z)],  l = 1 + (p - 1) t   (p = pos_weight, 1 if absent)

    ln σ(z) = -softplus(-z) is computed without overflow, so ℓ is finite for z = ±1e4.

    δ_z = δ_ℓ ⊙ w [σ(z) l - p t]      (p = 1: σ(z) - t)
    δ_t = δ_ℓ ⊙ w [-z - (p - 1) ln σ(z)]
    """

    @staticmethod
    def forward(ctx, z, t, weight, pos_weight, reduction):
        t = t.astype(z.dtype, copy=False)
        log_sig = _log_sigmoid(z)
        scale = 1 + (pos_weight - 1) * t if pos_weight is not None else None
        loss = (1 - t) * z - (log_sig if scale is None else scale * log_sig)
        if weight is not None:
            loss *= weight
        ctx.z, ctx.t, ctx.log_sig, ctx.scale = z, t, log_sig, scale
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        z, t, log_sig, p = ctx.z, ctx.t, ctx.log_sig, ctx.pos_weight
        g = _spread(grad, ctx.reduction, z.size, z.shape)
        if ctx.weight is not None:
            g = g * ctx.weight
        need_z, need_t = ctx.needs_input_grad
        grad_z = grad_t = None
        if need_z:
            sig = np.exp(log_sig)  # σ(z) with full relative precision for z ≪ 0
            grad_z = g * (sig - t if p is None else sig * ctx.scale - p * t)
        if need_t:
            grad_t = g * (-z if p is None else -z - (p - 1) * log_sig)
        return grad_z, grad_t


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy fused, on logits z (stable for z = ±1e4).

    ℓ = -w [p t ln σ(z) + (1 - t) ln(1 - σ(z))]; ∂ℓ/∂z = w [σ(z)(1 + (p - 1) t) - p t]
    (σ(z) - t without pos_weight), ∂ℓ/∂t = -w [z + (p - 1) ln σ(z)].
    ``weight`` broadcasts to the input; ``pos_weight`` (one per class, along the
    last dimension) weighs the positive term, e.g. N_negative / N_positive.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    x, t = _array(input), _numeric_target(op, target)
    _check_float(op, "input", x)
    _check_same_shape(op, x, t)
    w = _constant(op, "weight", weight, x.dtype, x.shape)
    p = _constant(op, "pos_weight", pos_weight, x.dtype, x.shape)
    return BinaryCrossEntropyWithLogits.apply(
        _operand(input, x), _operand(target, t), weight=w, pos_weight=p, reduction=reduction
    )


# ---------------------------------------------------------- categorical losses
def _class_axis(op: str, x: np.ndarray) -> int:
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    return 0 if x.ndim == 1 else 1


def _check_class_target(op: str, x: np.ndarray, t: np.ndarray, ignore_index: int) -> None:
    """Class-index target: integer dtype, shape (N, d1, ...), every label in [0, C)."""
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(
            f"{op}: class-index target must be an integer tensor, got dtype {t.dtype} "
            f"(shape {t.shape}) for input of shape {x.shape}"
        )
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if t.shape != expected:
        raise ValueError(
            f"{op}: for input of shape {x.shape} (classes along dim "
            f"{_class_axis(op, x)}) the target must have shape {expected}, got {t.shape}"
        )
    n_classes = x.shape[_class_axis(op, x)]
    if t.size == 0 or (t.min() >= 0 and t.max() < n_classes):
        return
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if np.any(bad):
        where = np.argwhere(bad)[0]
        position = int(where[0]) if t.ndim == 1 else tuple(int(i) for i in where)
        raise IndexError(
            f"{op}: target {int(t[tuple(where)])} at position {position} is out of range "
            f"for {n_classes} classes"
        )


def _class_scatter(t: np.ndarray, values: np.ndarray, n_classes: int) -> np.ndarray:
    """An (..., C) array with ``values`` at each target's class, 0 elsewhere."""
    out = np.zeros((t.size, n_classes), dtype=values.dtype)
    out[np.arange(t.size), t.reshape(-1)] = values.reshape(-1)
    return out.reshape(t.shape + (n_classes,))


class CrossEntropy(Function):
    """Softmax + cross-entropy fused; z has its classes along the last axis here.

    ℓ = -Σ_c q_c ln softmax(z)_c, with the target distribution q weighted by w:
      class index y:    q_c = w_y (1 - ε) 1[c = y] + w_c ε / C   (0 if y = ignore_index)
      probabilities y:  q_c = w_c ((1 - ε) y_c + ε / C)
    δ_z = δ_ℓ ⊙ (softmax(z) Σ_c q_c - q)        (= softmax(z) - y for one-hot y, w = 1, ε = 0)
    δ_y = -δ_ℓ ⊙ (1 - ε) w ⊙ ln softmax(z)      (probability targets only)
    'mean' divides by Σ w_y over the non-ignored targets (class indices) or by
    the number of samples (probabilities), as PyTorch.
    """

    @staticmethod
    def forward(ctx, z, t, weight, ignore_index, reduction, label_smoothing, probabilities):
        n_classes = z.shape[-1]
        eps = label_smoothing
        log_p = _log_softmax(z)
        if probabilities:
            q = t.astype(z.dtype, copy=False) * (1 - eps) + eps / n_classes
            if weight is not None:
                q = q * weight
            denominator = log_p.size // n_classes if n_classes else 0
        else:
            valid = t != ignore_index
            safe = np.where(valid, t, 0)
            w_y = weight[safe] * valid if weight is not None else valid.astype(z.dtype)
            q = _class_scatter(safe, w_y * (1 - eps), n_classes)
            if eps:
                smooth = eps / n_classes if weight is None else weight * (eps / n_classes)
                q += np.where(valid[..., None], smooth, 0).astype(z.dtype, copy=False)
            denominator = np.sum(w_y)
        loss = -np.sum(q * log_p, axis=-1)
        ctx.log_p, ctx.q, ctx.weight, ctx.eps = log_p, q, weight, eps
        ctx.reduction, ctx.denominator = reduction, denominator
        return _reduce(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        log_p, q = ctx.log_p, ctx.q
        g = _spread(grad, ctx.reduction, ctx.denominator, log_p.shape[:-1])[..., None]
        need_z, need_t = ctx.needs_input_grad
        grad_z = grad_t = None
        if need_z:
            grad_z = g * (np.exp(log_p) * np.sum(q, axis=-1, keepdims=True) - q)
        if need_t:
            scale = (1 - ctx.eps) if ctx.weight is None else (1 - ctx.eps) * ctx.weight
            grad_t = -g * scale * log_p
        return grad_z, grad_t


class ClassesLast(Function):
    """y = x with the class axis moved last     δ_x = δ_y with it moved back"""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.moveaxis(x, axis, -1)

    @staticmethod
    def backward(ctx, grad):
        return np.moveaxis(grad, -1, ctx.axis)


def cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
    reduction: str = "mean", label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits z (classes along dim 1, or dim 0 for a single sample).

    ``target`` is either class indices (integer, shape (N, d1, ...)) or class
    probabilities (float, the input's shape). With the weighted, smoothed target
    distribution q (see :class:`CrossEntropy`): ℓ = -Σ_c q_c ln softmax(z)_c and
    ∂ℓ/∂z = softmax(z) Σ q - q, i.e. softmax(z) - y in the plain case.
    'mean' divides by the summed weight of the non-ignored targets (class
    indices) or by the number of samples (probabilities), exactly as PyTorch.
    """
    op = "cross_entropy"
    _check_reduction(op, reduction)
    x, t = _array(input), _array(target)
    _check_float(op, "input", x)
    axis = _class_axis(op, x)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    probabilities = np.issubdtype(t.dtype, np.floating)
    if probabilities:
        if t.shape != x.shape:
            raise ValueError(
                f"{op}: a float target holds class probabilities and must have the input's "
                f"shape {x.shape}, got {t.shape}; class indices must be an integer tensor"
            )
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets")
    else:
        _check_class_target(op, x, t, ignore_index)
    w = _class_weight(op, weight, x.shape[axis], x.dtype)
    input, target = _operand(input, x), _operand(target, t)
    z = input if x.ndim <= 2 else ClassesLast.apply(input, axis=axis)
    if probabilities and x.ndim > 2:
        target = ClassesLast.apply(target, axis=axis)
    return CrossEntropy.apply(
        z, target, weight=w, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=float(label_smoothing), probabilities=probabilities,
    )


class NLLLoss(Function):
    """ℓ = -w_y x_y  (0 where y = ignore_index); x holds log-probabilities, classes last

    δ_x[y] = -δ_ℓ w_y, 0 at every other class. 'mean' divides by Σ w_y over the
    non-ignored targets.
    """

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        valid = t != ignore_index
        safe = np.where(valid, t, 0)
        w_y = weight[safe] * valid if weight is not None else valid.astype(x.dtype)
        picked = np.take_along_axis(x, safe[..., None], axis=-1)[..., 0]
        ctx.safe, ctx.w_y, ctx.shape = safe, w_y, x.shape
        ctx.reduction, ctx.denominator = reduction, np.sum(w_y)
        return _reduce(-w_y * picked, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        g = _spread(grad, ctx.reduction, ctx.denominator, ctx.w_y.shape)
        return _class_scatter(ctx.safe, -g * ctx.w_y, ctx.shape[-1]), None


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities x (classes along dim 1, or dim 0).

    ℓ = -w_y x_y; ∂ℓ/∂x_c = -w_y 1[c = y]. 'mean' divides by Σ w_y over the
    non-ignored targets. ``nll_loss(log_softmax(z, 1), y)`` equals ``cross_entropy(z, y)``.
    """
    op = "nll_loss"
    _check_reduction(op, reduction)
    x, t = _array(input), _array(target)
    _check_float(op, "input", x)
    axis = _class_axis(op, x)
    _check_class_target(op, x, t, ignore_index)
    w = _class_weight(op, weight, x.shape[axis], x.dtype)
    input = _operand(input, x)
    z = input if axis == x.ndim - 1 else ClassesLast.apply(input, axis=axis)
    return NLLLoss.apply(z, t, weight=w, ignore_index=ignore_index, reduction=reduction)


class KLDiv(Function):
    """ℓ = t (ln t - x)  with 0 ln 0 = 0     (x = ln q; with log_target, t = ln p: e^t (t - x))

    δ_x = -δ_ℓ ⊙ t                 (log_target: -δ_ℓ ⊙ e^t)
    δ_t = δ_ℓ ⊙ (ln t + 1 - x)     (log_target: δ_ℓ ⊙ e^t (t - x + 1); -∞ at t = 0)
    """

    @staticmethod
    def forward(ctx, x, t, reduction, log_target, denominator):
        t = t.astype(x.dtype, copy=False)
        if log_target:
            p = np.exp(t)
            loss = p * (t - x)
        else:
            p = t
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(t == 0, 0, t * np.log(t)) - t * x
        ctx.x, ctx.t, ctx.p, ctx.log_target = x, t, p, log_target
        ctx.reduction = "mean" if reduction == "batchmean" else reduction
        ctx.denominator = denominator
        return _reduce(loss, ctx.reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        x, t, p = ctx.x, ctx.t, ctx.p
        g = _spread(grad, ctx.reduction, ctx.denominator, x.shape)
        need_x, need_t = ctx.needs_input_grad
        grad_x = -g * p if need_x else None
        grad_t = None
        if need_t:
            if ctx.log_target:
                grad_t = g * p * (t - x + 1)
            else:
                with np.errstate(divide="ignore"):
                    grad_t = g * (np.log(t) + 1 - x)
        return grad_x, grad_t


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(target ‖ q) with ``input`` = ln q (log-probabilities).

    ℓ = t (ln t - x) (0 ln 0 = 0); ∂ℓ/∂x = -t, ∂ℓ/∂t = ln t + 1 - x. With
    ``log_target=True`` the target is ln p: ℓ = e^t (t - x). 'batchmean' divides the
    sum by the batch size input.shape[0] (the true KL per sample); 'mean' divides by
    the number of elements, as PyTorch.
    """
    op = "kl_div"
    _check_reduction(op, reduction, _REDUCTIONS + ("batchmean",))
    x, t = _array(input), _numeric_target(op, target)
    _check_float(op, "input", x)
    _check_same_shape(op, x, t)
    if reduction == "batchmean":
        denominator = x.shape[0] if x.ndim else 1
    else:
        denominator = x.size
    return KLDiv.apply(_operand(input, x), _operand(target, t), reduction=reduction,
                       log_target=bool(log_target), denominator=denominator)


# ----------------------------------------------------- similarities, distances
def _float_pair(op: str, x1: Any, x2: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """The arrays of two floating operands and the shape they broadcast to."""
    a, b = _array(x1), _array(x2)
    _check_float(op, "x1", a)
    _check_float(op, "x2", b)
    try:
        return a, b, np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: x1 of shape {a.shape} and x2 of shape {b.shape} cannot be broadcast "
            f"together"
        ) from None


class CosineSimilarity(Function):
    """s = Σ_d (a / n̄_a)(b / n̄_b),  n_a = ‖a‖₂ along d,  n̄_a = max(n_a, eps)

    δ_a = δ_s [b / (n̄_a n̄_b) - (Σ_d δ_s b a / (n̄_a² n̄_b)) a / n_a]
        = δ_s [b / (‖a‖‖b‖) - s a / ‖a‖²]   when neither norm is clamped
    (δ_b symmetric). As PyTorch, the clamp carries no gradient and a / n_a is 0 at a = 0.
    """

    @staticmethod
    def forward(ctx, x1, x2, axis, eps):
        a, b = np.broadcast_arrays(x1, x2)
        n_a = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))
        n_b = np.sqrt(np.sum(b * b, axis=axis, keepdims=True))
        c_a, c_b = np.maximum(n_a, eps), np.maximum(n_b, eps)
        u, v = a / c_a, b / c_b
        ctx.saved = (a, b, n_a, n_b, c_a, c_b, u, v)
        ctx.axis, ctx.shapes = axis, (x1.shape, x2.shape)
        return np.sum(u * v, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        a, b, n_a, n_b, c_a, c_b, u, v = ctx.saved
        g = np.expand_dims(grad, ctx.axis)
        need_1, need_2 = ctx.needs_input_grad
        grads = []
        for need, x, n, c, other, shape in (
            (need_1, a, n_a, c_a, v, ctx.shapes[0]),
            (need_2, b, n_b, c_b, u, ctx.shapes[1]),
        ):
            if not need:
                grads.append(None)
                continue
            d_unit = g * other  # δ of x / n̄
            with np.errstate(divide="ignore", invalid="ignore"):
                along = np.where(n > 0, np.sum(d_unit * x, axis=ctx.axis, keepdims=True)
                                 / (c * c * n), 0)
            grads.append(unbroadcast(d_unit / c - along * x, shape))
        return tuple(grads)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim`` (they broadcast, as torch).

    s = Σ (x1/max(‖x1‖, eps)) (x2/max(‖x2‖, eps)) (torch ≥ 2's formula: each vector
    is normalised first); ∂s/∂x1 = x2/(‖x1‖‖x2‖) - s x1/‖x1‖², symmetric in x2.
    """
    op = "cosine_similarity"
    a, b, shape = _float_pair(op, x1, x2)
    (axis,) = normalize_dims(dim, len(shape), op)
    return CosineSimilarity.apply(_operand(x1, a), _operand(x2, b), axis=axis, eps=eps)


class CosineEmbeddingLoss(Function):
    """cos = Σ ab / √((Σa² + 10⁻¹²)(Σb² + 10⁻¹²))   (PyTorch's ε inside the norms)

    ℓ = 1 - cos for y = 1,  max(0, cos - margin) for y = -1,  0 otherwise
    δ_cos = -δ_ℓ (y = 1),  δ_ℓ 1[cos ≥ margin] (y = -1)
    δ_a = δ_cos [b / √(m_a m_b) - cos a / m_a],  m_a = Σa² + 10⁻¹²   (δ_b symmetric)
    """

    @staticmethod
    def forward(ctx, a, b, y, margin, reduction):  # y: the ±1 labels, a constant
        axis = a.ndim - 1
        m_a = np.sum(a * a, axis=axis) + 1e-12
        m_b = np.sum(b * b, axis=axis) + 1e-12
        root = np.sqrt(m_a * m_b)
        cos = np.sum(a * b, axis=axis) / root
        pos, neg = y == 1, y == -1
        loss = np.where(pos, 1 - cos, 0) + np.where(neg, np.maximum(cos - margin, 0), 0)
        ctx.saved = (a, b, m_a, m_b, root, cos)
        ctx.slope = (neg & (cos - margin >= 0)).astype(a.dtype) - pos.astype(a.dtype)
        ctx.reduction, ctx.axis = reduction, axis
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        a, b, m_a, m_b, root, cos = ctx.saved
        d_cos = _spread(grad, ctx.reduction, cos.size, cos.shape) * ctx.slope
        d_cos, root, cos = (np.expand_dims(v, ctx.axis) for v in (d_cos, root, cos))
        m_a, m_b = np.expand_dims(m_a, ctx.axis), np.expand_dims(m_b, ctx.axis)
        need_a, need_b = ctx.needs_input_grad
        grad_a = d_cos * (b / root - cos * a / m_a) if need_a else None
        grad_b = d_cos * (a / root - cos * b / m_b) if need_b else None
        return grad_a, grad_b


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """Pull pairs with y = 1 together (ℓ = 1 - cos), push y = -1 apart (max(0, cos - margin)).

    ∂ℓ/∂cos = -1 (y = 1) or 1[cos ≥ margin] (y = -1); ∂cos/∂x1 = x2/(‖x1‖‖x2‖) - cos x1/‖x1‖².
    Inputs are (N, D) with target (N,), or (D,) with a 0-d target.
    """
    op = "cosine_embedding_loss"
    _check_reduction(op, reduction)
    a, b, y = _array(input1), _array(input2), _numeric_target(op, target)
    _check_float(op, "input1", a)
    _check_float(op, "input2", b)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ValueError(
            f"{op}: input1 and input2 must both have shape (N, D) or (D,), got {a.shape} "
            f"and {b.shape}"
        )
    if y.shape != a.shape[:-1]:
        raise ValueError(
            f"{op}: target must have shape {a.shape[:-1]} for inputs of shape {a.shape}, "
            f"got {y.shape}"
        )
    return CosineEmbeddingLoss.apply(_operand(input1, a), _operand(input2, b), y=y, margin=margin,
                                     reduction=reduction)


class PairwiseDistance(Function):
    """d = x1 - x2 + eps,  y = ‖d‖_p along the last axis

    δ_x1 = δ_y sign(d) |d|^(p-1) / y^(p-1)   (p = 2: δ_y d / y; 0 where y = 0),  δ_x2 = -δ_x1
    p = ∞: δ_y sign(d) shared among the entries with |d| = y;  p = 0 (a count): 0.
    """

    @staticmethod
    def forward(ctx, x1, x2, p, eps, keepdim):
        d = x1 - x2 + eps
        abs_d = np.abs(d)
        if p == math.inf:
            y = np.max(abs_d, axis=-1, keepdims=True)
        elif p == 0:
            y = np.sum(d != 0, axis=-1, keepdims=True).astype(d.dtype)
        else:
            y = np.sum(abs_d**p, axis=-1, keepdims=True) ** (1 / p)
        ctx.d, ctx.abs_d, ctx.y, ctx.p = d, abs_d, y, p
        ctx.shapes = (x1.shape, x2.shape)
        return y if keepdim else y[..., 0]

    @staticmethod
    def backward(ctx, grad):
        d, abs_d, y, p = ctx.d, ctx.abs_d, ctx.y, ctx.p
        g = grad if grad.ndim == d.ndim else grad[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == math.inf:
                ties = abs_d == y
                local = np.sign(d) * ties / np.sum(ties, axis=-1, keepdims=True)
            elif p == 0:
                local = np.zeros_like(d)
            else:
                powered = np.where(abs_d > 0, np.sign(d) * abs_d ** (p - 1), 0)
                local = np.where(y > 0, powered / y ** (p - 1), 0)
        grad_d = g * local
        need_1, need_2 = ctx.needs_input_grad
        return (unbroadcast(grad_d, ctx.shapes[0]) if need_1 else None,
                unbroadcast(-grad_d, ctx.shapes[1]) if need_2 else None)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dimension (x1 and x2 broadcast).

    ∂y/∂x1 = sign(d)|d|^(p-1)/y^(p-1) with d = x1 - x2 + eps (p = 2: d/y), ∂y/∂x2 = -∂y/∂x1.
    """
    op = "pairwise_distance"
    if p < 0:
        raise ValueError(f"{op}: p must be non-negative, got {p}")
    a, b, shape = _float_pair(op, x1, x2)
    if not shape:
        raise ValueError(f"{op}: x1 and x2 must have at least one dimension, got 0-d tensors")
    return PairwiseDistance.apply(_operand(x1, a), _operand(x2, b), p=float(p), eps=eps,
                                  keepdim=keepdim)
