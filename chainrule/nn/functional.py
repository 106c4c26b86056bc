"""The functional API, ``import chainrule.nn.functional as F``.

Same names, arguments, defaults and ``reduction`` options as
``torch.nn.functional``; each function's docstring states its derivative.
"""

from chainrule.ops.activation import *  # noqa: F403
from chainrule.ops.linalg import linear
from chainrule.ops.loss import *  # noqa: F403
from chainrule.ops.norm import *  # noqa: F403
from chainrule.ops.shape import pad

__all__ = ["linear", "pad"]  # extended below with each module's public names
from chainrule.ops import activation as _activation  # noqa: E402
from chainrule.ops import loss as _loss  # noqa: E402
from chainrule.ops import norm as _norm  # noqa: E402

__all__ += _activation.__all__ + _loss.__all__ + _norm.__all__
