"""The global random-number generator, seeded by :func:`manual_seed`.

All randomness in chainrule (initialisation, dropout, shuffling, ``randn``)
draws from explicit :class:`numpy.random.Generator` objects; by default from the
one returned by :func:`default_generator`. The same seed gives the same run,
bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator (as ``torch.manual_seed``) and return it."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator used when no explicit ``generator=`` is given."""
    return _generator


def as_generator(seed: int | np.random.Generator | None, owner: str) -> np.random.Generator:
    """The generator a ``seed=`` argument stands for: a Generator as given, an int
    seeds a new one, None is :func:`default_generator`. ``owner`` names the caller
    in the ``TypeError`` for anything else."""
    if seed is None:
        return default_generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"{owner}: seed must be an int, a numpy Generator or None, got {seed!r}")


def get_rng_state() -> dict[str, Any]:
    """The global generator's state (a JSON-serialisable dict)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
