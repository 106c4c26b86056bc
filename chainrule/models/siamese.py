"""The Siamese network: ONE encoder, whose weights both inputs share.

``z1, z2 = siamese(encoder)(x1, x2)`` runs the same encoder on x1 and on x2. Each
weight is used twice, so its gradient is the sum of its two uses, δ_W = δ_W|x1 + δ_W|x2
— the engine adds them, as it adds the gradients of any tensor used twice.
"""

from __future__ import annotations

from chainrule import nn
from chainrule.tensor import Tensor

__all__ = ["Siamese", "siamese"]


class Siamese(nn.Module):
    """Two towers with shared weights: ``forward(x1, x2) = (encoder(x1), encoder(x2))``.

    The encoder is the only child module, so ``parameters()`` lists each weight once
    and the repr shows the encoder. The two inputs go through it one after the other
    (not concatenated), so a BatchNorm in the encoder normalises each batch on its own.
    """

    def __init__(self, encoder: nn.Module) -> None:
        if not isinstance(encoder, nn.Module):
            raise TypeError(f"Siamese: encoder must be an nn.Module, got "
                            f"{type(encoder).__name__}")
        super().__init__()
        self.encoder = encoder

    def embed(self, x: Tensor) -> Tensor:
        """The embedding z = encoder(x) of one batch."""
        return self.encoder(x)

    def forward(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
        """Both embeddings, (encoder(x1), encoder(x2))."""
        return self.encoder(x1), self.encoder(x2)


def siamese(encoder: nn.Module) -> Siamese:
    """A :class:`Siamese` network around ``encoder`` (e.g. ``mlp(64, (128,), 32)``, whose
    last Linear then gives 32-dimensional embeddings)."""
    return Siamese(encoder)
