"""Loss modules of a Siamese network, on pairs of embeddings labelled y = +1 (genuine)
or -1 (impostor); the formulas and derivatives are in :mod:`chainrule.ops.distance`.

>>> loss_fn = ContrastiveLoss(margin=1.0)
>>> loss = loss_fn(*model(x1, x2), t)   # doctest: +SKIP
"""

from __future__ import annotations

from chainrule.nn.loss import _Loss
from chainrule.ops.distance import contrastive_loss, cosine_similarity_loss
from chainrule.tensor import Tensor

__all__ = ["ContrastiveLoss", "CosineSimilarityLoss"]


class CosineSimilarityLoss(_Loss):
    """ℓ = -y cos(z1, z2) per pair (see :func:`~chainrule.ops.distance.cosine_similarity_loss`)."""

    def forward(self, z1: Tensor, z2: Tensor, target: Tensor) -> Tensor:
        return cosine_similarity_loss(z1, z2, target, reduction=self.reduction)


class ContrastiveLoss(_Loss):
    """ℓ = ½ d² (y = +1), ½ max(0, margin - d)² (y = -1), d = ‖z1 - z2‖₂
    (see :func:`~chainrule.ops.distance.contrastive_loss`)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, z1: Tensor, z2: Tensor, target: Tensor) -> Tensor:
        return contrastive_loss(z1, z2, target, margin=self.margin, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"
