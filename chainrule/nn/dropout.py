"""Dropout."""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops._checks import check_probability
from chainrule.tensor import Tensor


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and
    scale the kept ones by 1/(1 - p); in eval mode, the identity.

    Masks come from the global generator; the derivative is on
    :class:`chainrule.ops.dropout.Dropout`.
    ``inplace=True`` is accepted for torch code; the result is a new tensor all the same.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_probability("Dropout", p)  # at construction, as torch
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, p=self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")
