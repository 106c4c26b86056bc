"""Loss modules: each stores its options and calls the ``nn.functional`` loss.

``reduction`` is 'mean' (default), 'sum' or 'none' (per element/sample), as in
PyTorch; class weights are registered buffers (so they follow ``to(dtype)``
and appear in ``state_dict()``, as PyTorch's do). The formulas and their
derivatives are in ``chainrule.nn.functional``, which also checks every
option (``reduction``, ``label_smoothing``, ...) when called, as PyTorch does:
the modules store them and do not check them again.
"""

from __future__ import annotations

from typing import Any

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops._checks import LAYER_ERRORS, named_by
from chainrule.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:  # the functional's error, prefixed with this loss
            return super().__call__(*args, **kwargs)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """(x - y)² averaged (or summed) over all elements."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|x - y| averaged (or summed) over all elements."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """-w [y ln p + (1 - y) ln(1 - p)] for probabilities p."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCE on σ(x) computed stably from the logits x; ``pos_weight`` scales the
    positive term, ``weight`` each element."""

    def __init__(
        self, weight: Tensor | None = None, *, reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction,
            pos_weight=self.pos_weight,
        )


class CrossEntropyLoss(_WeightedLoss):
    """-ln softmax(x)[y] for class indices y (or soft targets: -Σ_c y_c ln softmax(x)_c).

    ``weight`` per class, targets equal to ``ignore_index`` are skipped, and
    ``label_smoothing`` ε mixes the target with the uniform distribution.
    """

    def __init__(
        self, weight: Tensor | None = None, *, ignore_index: int = -100,
        reduction: str = "mean", label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input, target, weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction, label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """-w_y x[y] for log-probabilities x and class indices y."""

    def __init__(
        self, weight: Tensor | None = None, *, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input, target, weight=self.weight, ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class KLDivLoss(_Loss):
    """y (ln y - x) for log-probabilities x (target y, or ln y with ``log_target``).

    ``reduction='batchmean'`` divides the sum by the batch size: the true KL
    divergence ('mean' divides by the number of elements, as PyTorch).
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x₁, x₂) for y = 1, max(0, cos(x₁, x₂) - margin) for y = -1."""

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )
