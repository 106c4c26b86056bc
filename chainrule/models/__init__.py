"""Ready-made architectures: ``mlp`` (the default model of ``chainrule train``), the
LeNet-style ``cnn`` and the small residual network ``resnet`` (1-D or 2-D inputs)."""

from chainrule.models.cnn import cnn
from chainrule.models.mlp import mlp
from chainrule.models.resnet import BasicBlock, resnet
from chainrule.models.siamese import Siamese, siamese

__all__ = ["BasicBlock", "Siamese", "cnn", "mlp", "resnet", "siamese"]
