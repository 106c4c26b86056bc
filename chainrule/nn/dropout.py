"""Dropout."""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.tensor import Tensor


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and
    scale the kept ones by 1/(1 - p); in eval mode, the identity.

    δ_x = δ_y ⊙ mask / (1 - p). Masks come from the global generator.
    ``inplace=True`` is accepted for torch code; the result is a new tensor all the same.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is the drop probability, in [0, 1]; got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, p=self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")
