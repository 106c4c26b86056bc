"""Search spaces: grids of lists, distributions to sample from, and the seed of a trial.

A *space* is a dict from a hyperparameter's name to its candidates:

- a list (or tuple) of values: every value in a grid search, one drawn uniformly in
  a random search, a categorical choice for Optuna;
- a distribution (random and Optuna searches only): :class:`Uniform` ``U(low, high)``,
  :class:`LogUniform` (``exp U(ln low, ln high)``, for learning rates and weight decay),
  :class:`IntUniform` (an integer in ``[low, high]``, both included, optionally
  log-uniform).

Configurations are plain dicts of JSON values (NumPy scalars become Python numbers,
tuples become lists), so that the same configuration always has the same
:func:`trial_seed`, whichever search produced it and whichever worker runs it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["IntUniform", "LogUniform", "Uniform", "grid", "sample", "trial_seed"]


def _number(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from ``[low, high)``: ``x = low + (high - low) u``,
    ``u ~ U(0, 1)``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        low, high = (_number("Uniform", k, v) for k, v in (("low", self.low), ("high", self.high)))
        if not low < high:
            raise ValueError(f"Uniform: low must be < high, got low={low!r}, high={high!r}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class LogUniform:
    """A float whose logarithm is uniform: ``x = exp(ln low + (ln high - ln low) u)``,
    ``0 < low < high`` (each decade between them equally likely)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        low, high = (_number("LogUniform", k, v)
                     for k, v in (("low", self.low), ("high", self.high)))
        if not 0 < low < high:
            raise ValueError(f"LogUniform: need 0 < low < high, got low={low!r}, high={high!r}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass(frozen=True)
class IntUniform:
    """An integer drawn uniformly from ``{low, ..., high}`` (both included); with
    ``log=True`` its logarithm is uniform: ``round(exp U(ln(low - ½), ln(high + ½)))``."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for name, value in (("low", self.low), ("high", self.high)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"IntUniform: {name} must be an int, got {value!r}")
        if not self.low <= self.high:
            raise ValueError(f"IntUniform: low must be <= high, got low={self.low}, "
                             f"high={self.high}")
        if self.log and self.low < 1:
            raise ValueError(f"IntUniform: log=True needs low >= 1, got low={self.low}")

    def sample(self, rng: np.random.Generator) -> int:
        if not self.log:
            return int(rng.integers(self.low, self.high + 1))
        x = math.exp(rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5)))
        return int(min(max(round(x), self.low), self.high))


DISTRIBUTIONS = (Uniform, LogUniform, IntUniform)


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: NumPy scalars and arrays become Python numbers and
    lists, tuples become lists (so equal configurations serialise equally)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def check_space(space: Any, owner: str, *, distributions: bool) -> dict[str, Any]:
    """``space`` validated: a non-empty dict of names to non-empty lists (or, with
    ``distributions``, distribution objects)."""
    if not isinstance(space, Mapping) or not space:
        raise TypeError(f"{owner}: space must be a non-empty dict of hyperparameter names to "
                        f"lists of values, got {space!r}")
    checked: dict[str, Any] = {}
    for name, candidates in space.items():
        if not isinstance(name, str):
            raise TypeError(f"{owner}: space keys must be names (str), got {name!r}")
        if isinstance(candidates, DISTRIBUTIONS):
            if not distributions:
                raise TypeError(f"{owner}: space[{name!r}] is a {type(candidates).__name__}; a "
                                f"grid needs a list of values (distributions are for "
                                f"random_search and optuna_search)")
            checked[name] = candidates
        elif isinstance(candidates, (list, tuple)):
            if not candidates:
                raise ValueError(f"{owner}: space[{name!r}] is empty; give at least one value")
            checked[name] = [plain(v) for v in candidates]
        else:
            raise TypeError(f"{owner}: space[{name!r}] must be a list of values"
                            + (" or a distribution (Uniform, LogUniform, IntUniform)"
                               if distributions else "") + f", got {candidates!r}")
    return checked


def grid(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the lists of ``space``, as scikit-learn's ``ParameterGrid``:
    the names in sorted order, the last name varying fastest."""
    space = check_space(space, "grid", distributions=False)
    names = sorted(space)
    return [dict(zip(names, values)) for values in itertools.product(*(space[n] for n in names))]


def sample(space: Mapping[str, Any], n_trials: int, seed: int) -> list[dict[str, Any]]:
    """``n_trials`` configurations drawn from ``space`` with ``numpy.random.default_rng(seed)``,
    the names in sorted order. A space of lists only is sampled without replacement
    (at most its grid's size, as scikit-learn's ``ParameterSampler``); with a
    distribution, independently."""
    space = check_space(space, "random_search", distributions=True)
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"random_search: n_trials must be a positive int, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    if not any(isinstance(c, DISTRIBUTIONS) for c in space.values()):
        configs = grid(space)
        chosen = rng.choice(len(configs), size=min(int(n_trials), len(configs)), replace=False)
        return [configs[i] for i in chosen]
    names = sorted(space)
    out = []
    for _ in range(int(n_trials)):
        config = {}
        for name in names:
            candidates = space[name]
            config[name] = (candidates.sample(rng) if isinstance(candidates, DISTRIBUTIONS)
                            else candidates[int(rng.integers(len(candidates)))])
        out.append(config)
    return out


def trial_seed(config: Mapping[str, Any], seed: int, fold: int | str) -> int:
    """The seed of one trial: the first 63 bits of SHA-256 of the JSON text of
    ``{"config": config (keys sorted), "seed": seed, "fold": fold}``.

    It depends on nothing else — not on the worker, the process, the order trials
    run in, or any global random state — so every backend trains with the same
    seeds and gets the same results. ``fold`` is the fold number, or ``"refit"`` for
    the final training on all the data.
    """
    text = json.dumps({"config": plain(config), "seed": plain(seed), "fold": fold},
                      sort_keys=True, default=repr)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1
