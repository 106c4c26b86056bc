"""Similarities and distances: normalisation to unit length, cosine similarity,
pairwise distance, cdist, and the cosine embedding loss, with torch.nn.functional's
signatures; the two losses of a Siamese network, the cosine-similarity loss
-y cos(z1, z2) and the contrastive loss of Hadsell, Chopra and LeCun (2006), on pairs
labelled y = +1 (genuine) or -1 (impostor).

Each derivative is stated on its Function; each op saves its inputs (or, for a
norm, its output) as PyTorch does, so an in-place change before ``backward()``
raises.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.function import Function, unbroadcast
from chainrule.ops._checks import (
    check_float,
    check_reduction,
    normalize_dim,
    normalize_dims,
    numeric_target,
    to_array,
)
from chainrule.ops.loss import _operand, _reduce, _spread
from chainrule.tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "cdist", "cosine_embedding_loss",
           "cosine_similarity_loss", "contrastive_loss"]


def _float_pair(op: str, x1: Any, x2: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """The arrays of two floating operands and the shape they broadcast to."""
    a, b = to_array(x1), to_array(x2)
    check_float(op, "x1", a)
    check_float(op, "x2", b)
    try:
        return a, b, np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: x1 of shape {a.shape} and x2 of shape {b.shape} cannot be broadcast "
            f"together"
        ) from None


class Normalize(Function):
    """y = x / max(n, eps),  n = ‖x‖_p = (Σ_d |x|^p)^(1/p) along d

    δ_x = δ_y / n - (Σ_d δ_y x) / n² · ∂n/∂x,  ∂n/∂x = sign(x) |x|^(p-1) / n^(p-1)
        = (δ_y - y (Σ_d δ_y y)) / n   for p = 2,
    and δ_x = δ_y / eps where the norm is clamped (n ≤ eps): as PyTorch, the clamp
    carries no gradient. Saves the input; the norm is new.
    """

    @staticmethod
    def forward(ctx, x, p, axis, eps):
        n = np.sum(np.abs(x) ** p, axis=axis, keepdims=True) ** (1.0 / p)
        c = np.maximum(n, eps)
        ctx.save_for_backward(x)
        ctx.norm, ctx.p, ctx.axis, ctx.eps = (n, c), p, axis, eps
        return x / c

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        n, c = ctx.norm
        p = ctx.p
        along = np.sum(grad * x, axis=ctx.axis, keepdims=True) / (c * c)
        with np.errstate(divide="ignore", invalid="ignore"):
            d_norm = np.sign(x) * np.abs(x) ** (p - 1) / n ** (p - 1) if p != 2 else x / n
        d_norm = np.where(n > ctx.eps, d_norm, 0)
        return grad / c - along * d_norm


def normalize(input: Tensor, p: float = 2.0, dim: int | tuple[int, ...] = 1,
              eps: float = 1e-12) -> Tensor:
    """``input`` scaled to unit p-norm along ``dim`` (an int or a tuple of ints, the norm
    then taken over all of them): x / max(‖x‖_p, eps), as
    ``torch.nn.functional.normalize`` (p ≥ 1, finite). Derivatives: :class:`Normalize`.
    """
    op = "normalize"
    x = to_array(input)
    check_float(op, "input", x)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 1 <= p < math.inf:
        raise ValueError(f"{op}: p must be a finite number >= 1, got {p!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"{op}: eps must be a positive number, got {eps!r}")
    if isinstance(dim, (tuple, list)):
        axis: int | tuple[int, ...] = normalize_dims(dim, x.shape, op)
    else:
        axis = normalize_dim(dim, x.shape, op)
    return Normalize.apply(_operand(input, x), p=float(p), axis=axis, eps=float(eps))


class CosineSimilarity(Function):
    """s = Σ_d (a / n̄_a)(b / n̄_b),  n_a = ‖a‖₂ along d,  n̄_a = max(n_a, eps)

    δ_a = δ_s [b / (n̄_a n̄_b) - (Σ_d δ_s b a / (n̄_a² n̄_b)) a / n_a]
        = δ_s [b / (‖a‖‖b‖) - s a / ‖a‖²]   when neither norm is clamped
    (δ_b symmetric). As PyTorch, the clamp carries no gradient and a / n_a is 0 at a = 0.
    Saves x1 if it needs a gradient and x2 if it does (as PyTorch's composite, which
    records the normalisation of an input only then); norms and unit vectors are new.
    """

    @staticmethod
    def forward(ctx, x1, x2, axis, eps):
        a, b = np.broadcast_arrays(x1, x2)
        n_a = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))
        n_b = np.sqrt(np.sum(b * b, axis=axis, keepdims=True))
        c_a, c_b = np.maximum(n_a, eps), np.maximum(n_b, eps)
        u, v = a / c_a, b / c_b
        need_1, need_2 = ctx.needs_input_grad
        ctx.save_for_backward(a if need_1 else None, b if need_2 else None)
        ctx.norms = (n_a, n_b, c_a, c_b, u, v)
        ctx.axis, ctx.shapes = axis, (x1.shape, x2.shape)
        return np.sum(u * v, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        n_a, n_b, c_a, c_b, u, v = ctx.norms
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
    """Cosine of the angle between x1 and x2 along ``dim`` (they broadcast, as torch):
    s = Σ (x1/max(‖x1‖, eps)) (x2/max(‖x2‖, eps)) (torch ≥ 2's formula: each vector
    is normalised first). Derivatives: :class:`CosineSimilarity`.
    """
    op = "cosine_similarity"
    a, b, shape = _float_pair(op, x1, x2)
    axis = normalize_dim(dim, shape, op)
    return CosineSimilarity.apply(_operand(x1, a), _operand(x2, b), axis=axis, eps=eps)


class CosineEmbeddingLoss(Function):
    """cos = Σ ab / √((Σa² + 10⁻¹²)(Σb² + 10⁻¹²))   (PyTorch's ε inside the norms)

    ℓ = 1 - cos for y = 1,  max(0, cos - margin) for y = -1,  0 otherwise
    δ_cos = -δ_ℓ (y = 1),  δ_ℓ 1[cos ≥ margin] (y = -1)
    δ_a = δ_cos [b / √(m_a m_b) - cos a / m_a],  m_a = Σa² + 10⁻¹²   (δ_b symmetric)

    Saves both inputs; the norms and cosines are new arrays.
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
        ctx.save_for_backward(a, b)
        ctx.norms = (m_a, m_b, root, cos)
        ctx.slope = (neg & (cos - margin >= 0)).astype(a.dtype) - pos.astype(a.dtype)
        ctx.reduction, ctx.axis = reduction, axis
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        m_a, m_b, root, cos = ctx.norms
        d_cos = _spread(grad, ctx.reduction, cos.size, cos.shape) * ctx.slope
        d_cos, root, cos = (np.expand_dims(v, ctx.axis) for v in (d_cos, root, cos))
        m_a, m_b = np.expand_dims(m_a, ctx.axis), np.expand_dims(m_b, ctx.axis)
        need_a, need_b = ctx.needs_input_grad
        grad_a = d_cos * (b / root - cos * a / m_a) if need_a else None
        grad_b = d_cos * (a / root - cos * b / m_b) if need_b else None
        return grad_a, grad_b


def _pair_arrays(op: str, x1: Any, x2: Any, target: Any, names: tuple[str, str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of two float inputs of one shape, (N, D) or (D,), and of their target,
    (N,) or 0-d; ``names`` are the inputs' argument names for the errors."""
    a, b, y = to_array(x1), to_array(x2), numeric_target(op, target)
    check_float(op, names[0], a)
    check_float(op, names[1], b)
    if a.shape != b.shape or a.ndim not in (1, 2):
        raise ValueError(f"{op}: {names[0]} and {names[1]} must both have shape (N, D) or "
                         f"(D,), got {a.shape} and {b.shape}")
    if y.shape != a.shape[:-1]:
        raise ValueError(f"{op}: target must have shape {a.shape[:-1]} for inputs of shape "
                         f"{a.shape}, got {y.shape}")
    return a, b, y


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """Pull pairs with y = 1 together (ℓ = 1 - cos), push y = -1 apart (max(0, cos - margin)).

    Inputs are (N, D) with target (N,), or (D,) with a 0-d target.
    Derivatives: :class:`CosineEmbeddingLoss`.
    """
    op = "cosine_embedding_loss"
    check_reduction(op, reduction)
    a, b, y = _pair_arrays(op, input1, input2, target, ("input1", "input2"))
    return CosineEmbeddingLoss.apply(_operand(input1, a), _operand(input2, b), y=y, margin=margin,
                                     reduction=reduction)


class PairwiseDistance(Function):
    """d = x1 - x2 + eps,  y = ‖d‖_p along the last axis

    δ_x1 = δ_y sign(d) |d|^(p-1) / y^(p-1)   (p = 2: δ_y d / y; 0 where y = 0),  δ_x2 = -δ_x1
    p = ∞: δ_y sign(d) shared among the entries with |d| = y;  p = 0 (a count): 0.

    Saves y (as PyTorch's norm); d is a new array.
    """

    @staticmethod
    def forward(ctx, x1, x2, p, eps, keepdim):
        out = _p_distance(ctx, x1, x2, p, eps, keepdim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_tensors[0]
        d, abs_d, p = ctx.d, ctx.abs_d, ctx.p
        y = y.reshape(d.shape[:-1] + (1,))
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


def _p_distance(ctx: Function, x1: np.ndarray, x2: np.ndarray, p: float, eps: float,
                keepdim: bool) -> np.ndarray:
    """‖x1 - x2 + eps‖_p along the last axis; keeps d and |d| on ``ctx``."""
    d = x1 - x2 + eps
    abs_d = np.abs(d)
    if p == math.inf:
        y = np.max(abs_d, axis=-1, keepdims=True)
    elif p == 0:
        y = np.sum(d != 0, axis=-1, keepdims=True).astype(d.dtype)
    else:
        y = np.sum(abs_d**p, axis=-1, keepdims=True) ** (1 / p)
    ctx.d, ctx.abs_d, ctx.p = d, abs_d, p
    ctx.shapes = (x1.shape, x2.shape)
    return np.asarray(y if keepdim else y[..., 0])


class CDist(PairwiseDistance):
    """y_ij = ‖d_ij‖_p,  d_ij = x1_i - x2_j   (x1 as (…, P, 1, M), x2 as (…, 1, R, M))

    δ_x1_i = Σ_j δ_y_ij sign(d_ij) |d_ij|^(p-1) / y_ij^(p-1),  δ_x2_j = -Σ_i (the same)
    — :class:`PairwiseDistance`'s with eps = 0, the sums done by the broadcast views.
    Saves x1, x2 and y, as ``torch.cdist``.
    """

    @staticmethod
    def forward(ctx, x1, x2, p):
        out = _p_distance(ctx, x1, x2, p, 0.0, False)
        ctx.save_for_backward(out, x1, x2)
        return out


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dimension (x1 and x2 broadcast).
    Derivatives: :class:`PairwiseDistance`."""
    op = "pairwise_distance"
    if p < 0:
        raise ValueError(f"{op}: p must be non-negative, got {p}")
    a, b, shape = _float_pair(op, x1, x2)
    if not shape:
        raise ValueError(f"{op}: x1 and x2 must have at least one dimension, got 0-d tensors")
    return PairwiseDistance.apply(_operand(x1, a), _operand(x2, b), p=float(p), eps=eps,
                                  keepdim=keepdim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between each row of x1 (…, P, M) and each row of x2 (…, R, M),
    as ``torch.cdist``: an (…, P, R) tensor. Derivatives: :class:`CDist`, through the
    two views x1[…, :, None, :] and x2[…, None, :, :]."""
    op = "cdist"
    if p < 0:
        raise ValueError(f"{op}: p must be non-negative, got {p}")
    a, b = to_array(x1), to_array(x2)
    check_float(op, "x1", a)
    check_float(op, "x2", b)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"{op}: x1 and x2 must be (..., P, M) and (..., R, M) with the same M, got "
            f"shapes {a.shape} and {b.shape}"
        )
    rows = _operand(x1, a)
    cols = _operand(x2, b)
    rows = rows.unsqueeze(-2) if isinstance(rows, Tensor) else rows[..., :, None, :]
    cols = cols.unsqueeze(-3) if isinstance(cols, Tensor) else cols[..., None, :, :]
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast"
        ) from None
    return CDist.apply(rows, cols, p=float(p))


# ------------------------------------------------------------ Siamese pair losses
def _pair_target(op: str, z1: Any, z2: Any, target: Any
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of two embeddings, (N, D) or (D,), and of their ±1 pair labels, (N,) or
    0-d, the labels cast to the embeddings' dtype."""
    a, b, y = _pair_arrays(op, z1, z2, target, ("z1", "z2"))
    odd = np.unique(y[(y != 1) & (y != -1)])
    if odd.size:
        raise ValueError(
            f"{op}: target must hold +1 (genuine pair) or -1 (impostor pair), got "
            f"{odd[:5].tolist()}; map 0/1 labels with 2 * y - 1"
        )
    return a, b, y.astype(a.dtype)


def cosine_similarity_loss(z1: Tensor, z2: Tensor, target: Tensor,
                           reduction: str = "mean") -> Tensor:
    """The Siamese cosine loss  ℓ = -y cos(z1, z2),  y = +1 (genuine) or -1 (impostor).

    A genuine pair is pulled towards cos = 1 (ℓ = -1), an impostor pair pushed towards
    cos = -1 (ℓ = -1 too). z1, z2 are (N, D) embeddings with target (N,), or (D,) with
    a 0-d target; 'mean' averages over the N pairs. Composed of :func:`cosine_similarity`
    (eps = 1e-8; its derivative is :class:`CosineSimilarity`'s) times the constant -y:

        δ_z1 = -y δ_ℓ [z2 / (‖z1‖‖z2‖) - cos z1 / ‖z1‖²]   (δ_z2 symmetric)
    """
    op = "cosine_similarity_loss"
    check_reduction(op, reduction)
    a, b, y = _pair_target(op, z1, z2, target)
    loss = cosine_similarity(_operand(z1, a), _operand(z2, b), dim=-1) * -y
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


class ContrastiveLoss(Function):
    """Δ = z1 - z2,  d = ‖Δ‖₂ (over the last axis),  m = margin

    ℓ = ½ d²                  (y = +1, genuine)
    ℓ = ½ max(0, m - d)²      (y = -1, impostor)
    δ_Δ = δ_ℓ Δ                               (y = +1)
    δ_Δ = -δ_ℓ max(0, m - d) Δ / d            (y = -1; 0 at d = 0, as torch's norm)
    δ_z1 = δ_Δ,  δ_z2 = -δ_Δ

    Saves both inputs; Δ, d and the per-pair slope are new arrays.
    """

    @staticmethod
    def forward(ctx, z1, z2, y, margin, reduction):  # y: the ±1 labels, a constant
        delta = z1 - z2
        d = np.sqrt(np.sum(delta * delta, axis=-1))
        hinge = np.maximum(margin - d, 0)
        genuine = y == 1
        loss = 0.5 * np.where(genuine, d * d, hinge * hinge)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(genuine, 1, np.where(d > 0, -hinge / d, 0))
        ctx.save_for_backward(z1, z2)
        ctx.delta, ctx.slope = delta, slope.astype(z1.dtype)
        ctx.reduction = reduction
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        slope = ctx.slope
        d_loss = _spread(grad, ctx.reduction, slope.size, slope.shape) * slope
        grad_delta = np.expand_dims(d_loss, -1) * ctx.delta
        need_1, need_2 = ctx.needs_input_grad
        return (grad_delta if need_1 else None), (-grad_delta if need_2 else None)


def contrastive_loss(z1: Tensor, z2: Tensor, target: Tensor, margin: float = 1.0,
                     reduction: str = "mean") -> Tensor:
    """The contrastive loss of Hadsell, Chopra and LeCun (2006), with its ½:

        d = ‖z1 - z2‖₂,   ℓ = ½ d² for y = +1 (genuine),  ½ max(0, margin - d)² for y = -1

    Genuine pairs are pulled together; impostor pairs are pushed apart until they are
    ``margin`` away, then left alone. (The paper writes Y = 0 for similar pairs; here
    y = +1, as in :func:`cosine_similarity_loss`.) z1, z2 are (N, D) with target (N,), or
    (D,) with a 0-d target; 'mean' averages over the N pairs. No eps is added to d; at
    d = 0 an impostor's gradient is 0 (the direction is undefined), as torch's norm gives.
    Derivatives: :class:`ContrastiveLoss`.
    """
    op = "contrastive_loss"
    check_reduction(op, reduction)
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.number)) \
            or not margin >= 0:
        raise ValueError(f"{op}: margin must be a non-negative number, got {margin!r}")
    a, b, y = _pair_target(op, z1, z2, target)
    return ContrastiveLoss.apply(_operand(z1, a), _operand(z2, b), y=y, margin=float(margin),
                                 reduction=reduction)
