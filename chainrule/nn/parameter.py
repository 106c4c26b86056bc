"""Parameter: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.tensor import DEFAULT_FLOAT, Tensor, as_array


class Parameter(Tensor):
    """A leaf Tensor that requires a gradient by default (``torch.nn.Parameter``).

    Assigning one to a :class:`~chainrule.nn.Module` attribute registers it, so it
    appears in ``parameters()`` and ``state_dict()``. The array is shared, not
    copied, with ``data`` when ``data`` is an ndarray or a Tensor.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=DEFAULT_FLOAT)
        self._init(as_array(data), requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
