"""Weight penalties to add to a loss: ``loss + lam * l2_penalty(model)``.

Each takes a Module or a list of Tensors. For a Module it applies to the
weight matrices only — parameters with ≥ 2 dimensions (Linear and conv
weights), not biases, BatchNorm/LayerNorm scales or PReLU slopes; for a list,
to every tensor in it. The result is a differentiable scalar Tensor, so
``backward()`` adds the penalty's gradient to each weight's ``.grad``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from chainrule.factory import from_numpy
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty", "linf_penalty"]


def _weights(model_or_weights: Module | Iterable[Tensor], fn: str) -> list[Tensor]:
    if isinstance(model_or_weights, Module):
        return [p for p in model_or_weights.parameters() if p.ndim >= 2]
    if isinstance(model_or_weights, Tensor):
        return [model_or_weights]
    weights = list(model_or_weights)
    for w in weights:
        if not isinstance(w, Tensor):
            raise TypeError(
                f"{fn}: expected a Module or Tensors, got an element of type {type(w).__name__}"
            )
    return weights


def _total(weights: list[Tensor], term: Callable[[Tensor], Tensor]) -> Tensor:
    if not weights:
        return from_numpy(np.zeros((), dtype=np.float32))
    total = term(weights[0])
    for w in weights[1:]:
        total = total + term(w)
    return total


def l1_penalty(model_or_weights: Module | Iterable[Tensor]) -> Tensor:
    """Ω = Σ_W Σ_ij |W_ij|     ∂Ω/∂W = sign(W)  (0 at 0, as PyTorch)."""
    return _total(_weights(model_or_weights, "l1_penalty"), lambda w: w.abs().sum())


def l2_penalty(model_or_weights: Module | Iterable[Tensor]) -> Tensor:
    """Ω = Σ_W ‖W‖²_F = Σ_W Σ_ij W_ij²  — without a ½     ∂Ω/∂W = 2W.

    So ``loss + (λ/2)·l2_penalty(model)`` gives the gradient λW of SGD's
    ``weight_decay=λ``.
    """
    return _total(_weights(model_or_weights, "l2_penalty"), lambda w: (w * w).sum())


def _max_row_sum(w: Tensor) -> Tensor:
    if w.ndim == 0:
        return w.abs()
    return w.abs().reshape(w.shape[0], -1).sum(dim=1).max()


def linf_penalty(model_or_weights: Module | Iterable[Tensor]) -> Tensor:
    """Ω = Σ_W ‖W‖_∞ = Σ_W max_i Σ_j |W_ij|  (induced ∞-norm: the largest absolute row sum)

    ∂Ω/∂W_ij = sign(W_ij) for i the maximising row, 0 elsewhere (a tie splits the
    gradient equally, as PyTorch's ``max()``). A weight of shape (out, in, *k)
    has out rows; a vector is a column, so its norm is max_i |w_i|.
    """
    return _total(_weights(model_or_weights, "linf_penalty"), _max_row_sum)
