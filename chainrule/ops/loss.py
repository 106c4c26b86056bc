"""Loss functions, with torch.nn.functional's signatures (distances and the cosine
embedding loss are in :mod:`chainrule.ops.distance`).

Each loss is one :class:`Function` that computes the per-element (or
per-sample) loss ℓ, applies the ``reduction`` and, in backward, spreads δ back:

- ``'none'``: L = ℓ, the upstream gradient is δ_ℓ itself;
- ``'sum'``:  L = Σ ℓ, every element gets δ_ℓ = δ_L;
- ``'mean'``: L = Σ ℓ / D, every element gets δ_ℓ = δ_L / D, where D is the
  number of elements, or the sum of the weights where PyTorch divides by it
  (weighted ``mse_loss``/``l1_loss``, class-weighted ``nll_loss``/``cross_entropy``).

Weights (``weight``, ``pos_weight``) are constants, as in PyTorch: no gradient
flows into them. Targets get a gradient wherever PyTorch gives one. Each
derivative is stated once, on its Function; an input or target that backward
reads is saved as PyTorch saves it, so changing it in place before
``backward()`` raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.ops import _numerics
from chainrule.ops._checks import (
    REDUCTIONS,
    check_float,
    check_reduction,
    check_same_shape,
    numeric_target,
    to_array,
)
from chainrule.tensor import Tensor

__all__ = [
    "mse_loss",
    "l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
]


# ------------------------------------------------------------------- helpers
def _operand(x: Any, array: np.ndarray) -> Any:
    """What to hand to ``apply``: the Tensor itself (to keep its graph), else its array."""
    return x if isinstance(x, Tensor) else array


def _constant(op: str, name: str, w: Any, dtype: np.dtype, shape: tuple[int, ...]) -> Any:
    """A weight as an array of ``dtype`` that broadcasts to ``shape`` (None stays None)."""
    if w is None:
        return None
    w = to_array(w)
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
    w = to_array(weight)
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


# ------------------------------------------------------------ regression losses
class MSELoss(Function):
    """ℓ = w ⊙ (x - t)²     δ_x = δ_ℓ ⊙ 2w ⊙ (x - t),  δ_t = -δ_x

    'mean' divides by the number of elements, or by Σ w when weighted (PyTorch).
    Saves x and t (as PyTorch) and forms x - t again in backward.
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        diff = x - t.astype(x.dtype, copy=False)
        loss = diff * diff
        if weight is not None:
            loss *= weight
        ctx.save_for_backward(x, t)
        ctx.weight, ctx.reduction = weight, reduction
        ctx.denominator = loss.size if weight is None else np.sum(weight)
        return _reduce(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        diff = x - t.astype(x.dtype, copy=False)
        g = _spread(grad, ctx.reduction, ctx.denominator, diff.shape) * (2 * diff)
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
    check_reduction(op, reduction)
    x, t = to_array(input), numeric_target(op, target)
    check_float(op, "input", x)
    check_same_shape(op, x, t)
    w = _constant(op, "weight", weight, x.dtype, x.shape)
    if w is not None and w.shape != x.shape:
        raise ValueError(
            f"{op}: weight shape {w.shape} differs from input shape {x.shape}; they must be equal"
        )
    return cls.apply(_operand(input, x), _operand(target, t), weight=w, reduction=reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean squared error: ℓ = w (x - t)². Derivatives: :class:`MSELoss`.

    ``weight`` (same shape as input, torch ≥ 2.7) makes 'mean' divide by Σ w.
    Unlike PyTorch, input and target must have the same shape (PyTorch only
    warns and broadcasts, which silently gives a wrong loss for (N, 1) vs (N,)).
    """
    return _regression("mse_loss", MSELoss, input, target, reduction, weight)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean absolute error: ℓ = w |x - t|. Derivatives: :class:`L1Loss`.

    Same shape rule and ``weight`` semantics as :func:`mse_loss`.
    """
    return _regression("l1_loss", L1Loss, input, target, reduction, weight)


# ------------------------------------------------------- binary cross-entropy
class BinaryCrossEntropy(Function):
    """ℓ = -w [t ln x + (1 - t) ln(1 - x)], each ln clamped to ≥ -100 (PyTorch)

    δ_x = δ_ℓ ⊙ w (x - t) / max(x(1 - x), 1e-12)
    δ_t = δ_ℓ ⊙ w [ln(1 - x) - ln x]     (the clamped logs)

    Saves x and t (as PyTorch).
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        ctx.save_for_backward(x, t)
        t = t.astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss *= weight
        ctx.weight, ctx.reduction = weight, reduction
        ctx.logs = (log_x, log_1mx)
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        t = t.astype(x.dtype, copy=False)
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
    """Binary cross-entropy on probabilities x ∈ [0, 1] against targets t ∈ [0, 1].

    ℓ = -w [t ln x + (1 - t) ln(1 - x)] (logs clamped at -100 as PyTorch); ``weight``
    broadcasts to the input. As PyTorch, an input or target outside [0, 1] (or NaN)
    is an error. Prefer :func:`binary_cross_entropy_with_logits` on raw scores.
    Derivatives: :class:`BinaryCrossEntropy`.
    """
    op = "binary_cross_entropy"
    check_reduction(op, reduction)
    x, t = to_array(input), numeric_target(op, target)
    check_float(op, "input", x)
    check_same_shape(op, x, t)
    _check_probabilities(op, "input", x, "; for raw scores use binary_cross_entropy_with_logits")
    _check_probabilities(op, "target", t, "")
    w = _constant(op, "weight", weight, x.dtype, x.shape)
    return BinaryCrossEntropy.apply(_operand(input, x), _operand(target, t), weight=w,
                                    reduction=reduction)


def _check_probabilities(op: str, name: str, x: np.ndarray, hint: str) -> None:
    """Every element of ``x`` is in [0, 1] (a NaN is not), as torch's BCE demands."""
    inside = (x >= 0) & (x <= 1)
    if inside.all():
        return
    nan = np.isnan(x) if x.dtype.kind == "f" else np.zeros(x.shape, dtype=bool)
    first = tuple(int(i) for i in np.argwhere(~inside)[0])
    where = first[0] if len(first) == 1 else first
    if nan.any():
        problem = f"it contains {int(nan.sum())} NaN value(s), the first at position {where}"
    else:
        problem = (f"got values in [{np.min(x):g}, {np.max(x):g}], the first outside at "
                   f"position {where}: {x[first]:g}")
    raise ValueError(
        f"{op}: all elements of {name} should be between 0 and 1, but {problem}{hint}"
    )


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = w [(1 - t) z - l ln σ(z)],  l = 1 + (p - 1) t   (p = pos_weight, 1 if absent)

    ln σ(z) = -softplus(-z) is computed without overflow, so ℓ is finite for z = ±1e4.

    δ_z = δ_ℓ ⊙ w [σ(z) l - p t]      (p = 1: σ(z) - t)
    δ_t = δ_ℓ ⊙ w [-z - (p - 1) ln σ(z)]

    Saves z and t (as PyTorch).
    """

    @staticmethod
    def forward(ctx, z, t, weight, pos_weight, reduction):
        ctx.save_for_backward(z, t)
        t = t.astype(z.dtype, copy=False)
        log_sig = _numerics.log_sigmoid(z)
        scale = 1 + (pos_weight - 1) * t if pos_weight is not None else None
        loss = (1 - t) * z - (log_sig if scale is None else scale * log_sig)
        if weight is not None:
            loss *= weight
        ctx.log_sig, ctx.scale = log_sig, scale
        ctx.weight, ctx.pos_weight, ctx.reduction = weight, pos_weight, reduction
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        z, t = ctx.saved_tensors
        t = t.astype(z.dtype, copy=False)
        log_sig, p = ctx.log_sig, ctx.pos_weight
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

    ℓ = -w [p t ln σ(z) + (1 - t) ln(1 - σ(z))]. ``weight`` broadcasts to the input;
    ``pos_weight`` (one per class, along the last dimension) weighs the positive term,
    e.g. N_negative / N_positive. Derivatives: :class:`BinaryCrossEntropyWithLogits`.
    """
    op = "binary_cross_entropy_with_logits"
    check_reduction(op, reduction)
    x, t = to_array(input), numeric_target(op, target)
    check_float(op, "input", x)
    check_same_shape(op, x, t)
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


def _check_class_target(op: str, x: np.ndarray, t: np.ndarray, ignore_index: int) -> bool:
    """Class-index target: integer dtype, shape (N, d1, ...), every label in [0, C) or
    ``ignore_index``. Returns True when every label is a class (none is ignored)."""
    if t.dtype.kind not in "iu":
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
        return not 0 <= ignore_index < n_classes or not np.any(t == ignore_index)
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if np.any(bad):
        where = np.argwhere(bad)[0]
        position = int(where[0]) if t.ndim == 1 else tuple(int(i) for i in where)
        raise IndexError(
            f"{op}: target {int(t[tuple(where)])} at position {position} is out of range "
            f"for {n_classes} classes"
        )
    return False


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

    A logit of -inf is a masked class (softmax 0): with class indices the loss
    picks ln softmax(z)_y, so it stays finite unless y itself (or label smoothing)
    lands on a masked class; with probabilities 0 · (-inf) is NaN, as in PyTorch.
    δ_z stays finite either way. Saves the target y (as PyTorch) and builds q from
    it again in backward; ln softmax(z) is a new array. ``plain`` (2-D z, class
    indices, none ignored, no weight, no smoothing) takes the short road of the
    same formulas: ℓ = -ln softmax(z)_y,  δ_z = δ_ℓ ⊙ (softmax(z) - onehot(y)).
    """

    @staticmethod
    def forward(ctx, z, t, weight, ignore_index, reduction, label_smoothing, probabilities,
                plain):
        n_classes = z.shape[-1]
        log_p = _numerics.log_softmax(z)
        ctx.save_for_backward(t)
        ctx.log_p, ctx.reduction, ctx.plain = log_p, reduction, plain
        if plain:
            loss = -log_p[np.arange(len(t)), t]
            ctx.denominator = len(t)
            if reduction == "none":
                return loss
            total = loss.sum()
            return total if reduction == "sum" else np.asarray(total / len(t), dtype=loss.dtype)
        ctx.weight, ctx.eps, ctx.ignore_index = weight, label_smoothing, ignore_index
        if probabilities:
            ctx.probabilities = True
            q = _target_distribution(ctx, t, log_p.dtype, n_classes)
            denominator = log_p.size // n_classes if n_classes else 0
            with np.errstate(invalid="ignore"):
                loss = -np.sum(q * log_p, axis=-1)
        else:
            ctx.probabilities = False
            valid, safe, w_y = _picked_weights(t, weight, ignore_index, log_p.dtype)
            picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
            eps = label_smoothing
            with np.errstate(invalid="ignore"):
                loss = -(1 - eps) * w_y * picked
                if eps:
                    smooth = eps / n_classes if weight is None else weight * (eps / n_classes)
                    loss -= np.sum(smooth * log_p, axis=-1)
            loss = np.where(valid, loss, 0).astype(log_p.dtype, copy=False)
            denominator = np.sum(w_y)
        ctx.denominator = denominator
        return _reduce(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        (t,) = ctx.saved_tensors
        log_p = ctx.log_p
        if ctx.plain:
            grad_z = np.exp(log_p)
            grad_z[np.arange(len(t)), t] -= 1
            if ctx.reduction == "none":
                grad_z *= grad[:, None]
            else:
                grad_z *= grad / ctx.denominator if ctx.reduction == "mean" else grad
            return grad_z, None
        q = _target_distribution(ctx, t, log_p.dtype, log_p.shape[-1])
        g = _spread(grad, ctx.reduction, ctx.denominator, log_p.shape[:-1])[..., None]
        if not ctx.probabilities:  # an ignored target sends nothing, even if D = 0 (torch)
            g = np.where((t != ctx.ignore_index)[..., None], g, 0)
        need_z, need_t = ctx.needs_input_grad
        grad_z = grad_t = None
        if need_z:
            grad_z = g * (np.exp(log_p) * np.sum(q, axis=-1, keepdims=True) - q)
        if need_t:
            scale = (1 - ctx.eps) if ctx.weight is None else (1 - ctx.eps) * ctx.weight
            grad_t = -g * scale * log_p
        return grad_z, grad_t


def _picked_weights(t: np.ndarray, weight: Any, ignore_index: int, dtype: Any) -> tuple[Any, ...]:
    """(valid, safe, w_y): which targets count, the targets with ignored ones set to class
    0, and each target's class weight (0 where ignored)."""
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    w_y = weight[safe] * valid if weight is not None else valid.astype(dtype)
    return valid, safe, w_y


def _target_distribution(ctx: Function, t: np.ndarray, dtype: Any, n_classes: int) -> Any:
    """q of :class:`CrossEntropy`: the weighted, smoothed target distribution, (..., C)."""
    eps, weight = ctx.eps, ctx.weight
    if ctx.probabilities:
        q = t.astype(dtype, copy=False) * (1 - eps) + eps / n_classes
        return q if weight is None else q * weight
    valid, safe, w_y = _picked_weights(t, weight, ctx.ignore_index, dtype)
    q = _class_scatter(safe, w_y * (1 - eps), n_classes)
    if eps:
        smooth = eps / n_classes if weight is None else weight * (eps / n_classes)
        q += np.where(valid[..., None], smooth, 0).astype(dtype, copy=False)
    return q


class ClassesLast(Function):
    """y = x with the class axis moved last     δ_x = δ_y with it moved back   (a view)"""

    is_view = True

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
    probabilities (float, the input's shape). ℓ = -Σ_c q_c ln softmax(z)_c with the
    weighted, smoothed target distribution q; 'mean' divides by the summed weight of
    the non-ignored targets (class indices) or by the number of samples
    (probabilities), exactly as PyTorch. Logits of -inf mask their class.
    Derivatives: :class:`CrossEntropy`.
    """
    op = "cross_entropy"
    check_reduction(op, reduction)
    x, t = to_array(input), to_array(target)
    check_float(op, "input", x)
    axis = _class_axis(op, x)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    probabilities = t.dtype.kind == "f"
    every_target_counts = False
    if probabilities:
        if t.shape != x.shape:
            raise ValueError(
                f"{op}: a float target holds class probabilities and must have the input's "
                f"shape {x.shape}, got {t.shape}; class indices must be an integer tensor"
            )
        if ignore_index != -100:
            raise ValueError(f"{op}: ignore_index is not supported for probability targets")
    else:
        every_target_counts = _check_class_target(op, x, t, ignore_index)
    w = _class_weight(op, weight, x.shape[axis], x.dtype)
    plain = (not probabilities and every_target_counts and w is None
             and not label_smoothing and x.ndim == 2)
    input, target = _operand(input, x), _operand(target, t)
    z = input if x.ndim <= 2 else ClassesLast.apply(input, axis=axis)
    if probabilities and x.ndim > 2:
        target = ClassesLast.apply(target, axis=axis)
    return CrossEntropy.apply(
        z, target, weight=w, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=float(label_smoothing), probabilities=probabilities, plain=plain,
    )


class NLLLoss(Function):
    """ℓ = -w_y x_y  (0 where y = ignore_index); x holds log-probabilities, classes last

    δ_x[y] = -δ_ℓ w_y, 0 at every other class. 'mean' divides by Σ w_y over the
    non-ignored targets. Saves x and y, as PyTorch (x only for its shape).
    """

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        _, safe, w_y = _picked_weights(t, weight, ignore_index, x.dtype)
        picked = np.take_along_axis(x, safe[..., None], axis=-1)[..., 0]
        ctx.save_for_backward(x, t)  # as torch (x for its shape only)
        ctx.weight, ctx.ignore_index = weight, ignore_index
        ctx.reduction, ctx.denominator = reduction, np.sum(w_y)
        return _reduce(-w_y * picked, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        valid, safe, w_y = _picked_weights(t, ctx.weight, ctx.ignore_index, x.dtype)
        g = _spread(grad, ctx.reduction, ctx.denominator, w_y.shape)
        with np.errstate(invalid="ignore"):  # an ignored target sends nothing, even if D = 0
            values = np.where(valid, -g * w_y, 0).astype(x.dtype, copy=False)
        return _class_scatter(safe, values, x.shape[-1]), None


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities x (classes along dim 1, or dim 0).

    ℓ = -w_y x_y; 'mean' divides by Σ w_y over the non-ignored targets.
    ``nll_loss(log_softmax(z, 1), y)`` equals ``cross_entropy(z, y)``.
    Derivative: :class:`NLLLoss`.
    """
    op = "nll_loss"
    check_reduction(op, reduction)
    x, t = to_array(input), to_array(target)
    check_float(op, "input", x)
    axis = _class_axis(op, x)
    _check_class_target(op, x, t, ignore_index)
    w = _class_weight(op, weight, x.shape[axis], x.dtype)
    input = _operand(input, x)
    z = input if axis == x.ndim - 1 else ClassesLast.apply(input, axis=axis)
    return NLLLoss.apply(z, _operand(target, t), weight=w, ignore_index=ignore_index,
                         reduction=reduction)


class KLDiv(Function):
    """ℓ = t (ln t - x)  with 0 ln 0 = 0     (x = ln q; with log_target, t = ln p: e^t (t - x))

    δ_x = -δ_ℓ ⊙ t                 (log_target: -δ_ℓ ⊙ e^t)
    δ_t = δ_ℓ ⊙ (ln t + 1 - x)     (log_target: δ_ℓ ⊙ e^t (t - x + 1); -∞ at t = 0)

    As PyTorch's composite: saves t, and x when t needs a gradient; with
    ``log_target`` it keeps e^t and t - x, new arrays, and saves nothing.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, log_target, denominator):
        t = t.astype(x.dtype, copy=False)
        if log_target:
            p, diff = np.exp(t), t - x
            loss = p * diff
            ctx.save_for_backward(None, None)
            ctx.p, ctx.diff = p, diff
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                loss = np.where(t == 0, 0, t * np.log(t)) - t * x
            ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, t)
        ctx.log_target = log_target
        ctx.reduction = "mean" if reduction == "batchmean" else reduction
        ctx.denominator = denominator
        return _reduce(loss, ctx.reduction, denominator)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        p = ctx.p if ctx.log_target else t
        g = _spread(grad, ctx.reduction, ctx.denominator, p.shape)
        need_x, need_t = ctx.needs_input_grad
        grad_x = -g * p if need_x else None
        grad_t = None
        if need_t:
            if ctx.log_target:
                grad_t = g * p * (ctx.diff + 1)
            else:
                with np.errstate(divide="ignore"):
                    grad_t = g * (np.log(t) + 1 - x)
        return grad_x, grad_t


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(target ‖ q) with ``input`` = ln q (log-probabilities).

    ℓ = t (ln t - x) (0 ln 0 = 0). With ``log_target=True`` the target is ln p:
    ℓ = e^t (t - x). 'batchmean' divides the sum by the batch size input.shape[0]
    (the true KL per sample); 'mean' divides by the number of elements, as PyTorch.
    Derivatives: :class:`KLDiv`.
    """
    op = "kl_div"
    check_reduction(op, reduction, REDUCTIONS + ("batchmean",))
    x, t = to_array(input), numeric_target(op, target)
    check_float(op, "input", x)
    check_same_shape(op, x, t)
    if reduction == "batchmean":
        denominator = x.shape[0] if x.ndim else 1
    else:
        denominator = x.size
    return KLDiv.apply(_operand(input, x), _operand(target, t), reduction=reduction,
                       log_target=bool(log_target), denominator=denominator)
