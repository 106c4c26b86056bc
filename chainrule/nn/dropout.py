"""Dropout and channel dropout (Dropout2d)."""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops._checks import LAYER_ERRORS, check_probability, named_by
from chainrule.tensor import Tensor


class _DropoutNd(Module):
    """What both dropouts share: ``p``, ``inplace`` and torch's repr.

    ``inplace=True`` is accepted for torch code; the result is a new tensor all the same.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_probability(type(self).__name__, p)  # at construction, as torch
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout: in training, zero each element with probability ``p`` and
    scale the kept ones by 1/(1 - p); in eval mode, the identity.

    Masks come from the global generator; the derivative is on
    :class:`chainrule.ops.dropout.Dropout`.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, p=self.p, training=self.training)


class Dropout2d(_DropoutNd):
    """Channel dropout: in training, zero each whole channel ``input[n, c]`` with
    probability ``p`` and scale the kept ones by 1/(1 - p); in eval mode, the identity.

    Expects (N, C, H, W); a 3-D input is taken as (N, C, L) with a warning, as torch.
    Masks come from the global generator; the derivative is on
    :class:`chainrule.ops.dropout.FeatureDropout`.
    """

    def forward(self, input: Tensor) -> Tensor:
        try:
            return F.dropout2d(input, p=self.p, training=self.training)
        except LAYER_ERRORS as error:
            raise named_by(self, error) from None
