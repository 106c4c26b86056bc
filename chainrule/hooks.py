"""Handles for hooks: what ``register_hook``, ``register_forward_hook`` and
``register_full_backward_hook`` return, as ``torch.utils.hooks.RemovableHandle``."""

from __future__ import annotations

import itertools
from collections.abc import MutableMapping
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """``handle.remove()`` unregisters the hook; ``with handle:`` removes it on exit."""

    def __init__(self, hooks: MutableMapping[int, Any]) -> None:
        self._hooks = hooks
        self.id = next(_ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
