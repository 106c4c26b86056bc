"""Ready-made architectures: ``mlp`` (the default model of ``chainrule train``)."""

from chainrule.models.mlp import mlp

__all__ = ["mlp"]
