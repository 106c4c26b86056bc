"""The functional API, ``import chainrule.nn.functional as F``.

Same names, arguments, defaults and ``reduction`` options as
``torch.nn.functional``. Each function checks its arguments (the modules of
``chainrule.nn`` do not check again) and names, in its docstring, the
:class:`~chainrule.function.Function` whose docstring states its derivative.
"""

from chainrule.ops.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    prelu,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from chainrule.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from chainrule.ops.distance import (
    contrastive_loss,
    cosine_embedding_loss,
    cosine_similarity,
    cosine_similarity_loss,
    normalize,
    pairwise_distance,
)
from chainrule.ops.dropout import dropout, dropout2d
from chainrule.ops.linalg import linear
from chainrule.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
)
from chainrule.ops.norm import batch_norm, layer_norm
from chainrule.ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from chainrule.ops.shape import pad

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "contrastive_loss",
    "cosine_embedding_loss",
    "cosine_similarity",
    "cosine_similarity_loss",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "gelu",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "normalize",
    "pad",
    "pairwise_distance",
    "prelu",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]
