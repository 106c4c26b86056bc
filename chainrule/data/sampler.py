"""Samplers: the order in which a :class:`~chainrule.data.DataLoader` visits a dataset,
as ``torch.utils.data``'s.

A sampler yields dataset indices; ``DataLoader(dataset, sampler=...)`` cuts them into
batches (and still fetches an array-backed batch with one fancy index per array).
Each chainrule sampler draws a whole epoch at once with :meth:`Sampler.sample`.

Randomness: ``generator`` is a :class:`numpy.random.Generator` or an int seed (the
sampler then owns a generator seeded with it). Without one, a sampler draws from the
generator it is handed: the DataLoader's own (so ``DataLoader(..., seed=...)`` or
``chainrule.manual_seed`` make it reproducible, and the loader's
:meth:`~chainrule.data.DataLoader.state_dict` resumes it), or the global chainrule
generator when iterated directly.

Class imbalance: ``WeightedRandomSampler(compute_sample_weight('balanced', y), len(y))``
draws every class equally often on average.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.random import default_generator
from chainrule.tensor import Tensor

__all__ = [
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _own_generator(owner: str, generator: Any) -> np.random.Generator | None:
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if _is_int(generator):
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{owner}: generator must be a numpy.random.Generator, an int seed or None, got "
        f"{type(generator).__name__}"
    )


class Sampler:
    """Base class. Subclasses implement :meth:`sample` (one epoch of indices as an int64
    array) or, as in PyTorch, ``__iter__``; and ``__len__``.

    ``generator`` (None unless the sampler owns one) and :meth:`state_dict` /
    :meth:`load_state_dict` let a DataLoader checkpoint and resume it.
    """

    generator: np.random.Generator | None = None

    def sample(self, generator: np.random.Generator | None = None) -> np.ndarray:
        """One epoch of indices; draws from the sampler's own generator, else ``generator``,
        else the global chainrule generator."""
        if type(self).__iter__ is Sampler.__iter__:
            raise NotImplementedError(f"{type(self).__name__} must implement sample or __iter__")
        return np.fromiter(iter(self), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        if type(self).sample is Sampler.sample:
            raise NotImplementedError(f"{type(self).__name__} must implement sample or __iter__")
        return iter(self.sample().tolist())

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def _rng(self, generator: np.random.Generator | None) -> np.random.Generator:
        if self.generator is not None:
            return self.generator
        return generator if generator is not None else default_generator()

    def state_dict(self) -> dict[str, Any]:
        """The state of the sampler's own generator (empty if it draws from the loader's)."""
        return {} if self.generator is None else {"generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        if "generator" in state:
            if self.generator is None:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: the state holds a generator, but "
                    "this sampler has none (construct it with generator=)"
                )
            self.generator.bit_generator.state = state["generator"]


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def sample(self, generator: np.random.Generator | None = None) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.data_source)

    def __repr__(self) -> str:
        return f"SequentialSampler(len={len(self)})"


class RandomSampler(Sampler):
    """A random order of the dataset, as ``torch.utils.data.RandomSampler``.

    Without replacement: a fresh permutation (``num_samples`` larger than the dataset
    concatenates permutations, smaller takes the head of one). With replacement:
    ``num_samples`` independent uniform draws. ``num_samples`` defaults to
    ``len(data_source)``.
    """

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        if not isinstance(replacement, (bool, np.bool_)):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got "
                f"num_samples={num_samples!r}"
            )
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = None if num_samples is None else int(num_samples)
        self.generator = _own_generator("RandomSampler", generator)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def sample(self, generator: np.random.Generator | None = None) -> np.ndarray:
        rng, n, k = self._rng(generator), len(self.data_source), self.num_samples
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty "
                                 "dataset")
            return rng.integers(0, n, size=k, dtype=np.int64)
        if k == n:
            return rng.permutation(n)
        parts = [rng.permutation(n) for _ in range(k // n)] if n else []
        if k % n:
            parts.append(rng.permutation(n)[: k % n])
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"RandomSampler(len={len(self.data_source)}, replacement={self.replacement}, "
                f"num_samples={self.num_samples})")


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new permutation every epoch)."""

    def __init__(self, indices: Sequence[int] | np.ndarray, generator: Any = None) -> None:
        array = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
            raise TypeError(
                f"SubsetRandomSampler: indices must be a 1-D sequence of ints, got shape "
                f"{array.shape} and dtype {array.dtype}"
            )
        self.indices = array.astype(np.int64)
        self.generator = _own_generator("SubsetRandomSampler", generator)

    def sample(self, generator: np.random.Generator | None = None) -> np.ndarray:
        return self.indices[self._rng(generator).permutation(len(self.indices))]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"SubsetRandomSampler(len={len(self)})"


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices ``i`` with probability ``weights[i] / Σ weights``,
    as ``torch.utils.data.WeightedRandomSampler``.

    ``weights`` need not sum to 1 (one per sample, e.g. the inverse frequency of its
    class: :func:`~chainrule.data.compute_sample_weight`). With ``replacement=False``
    each index is drawn at most once, in a weighted-sequential order (Efraimidis and
    Spirakis: the ``num_samples`` smallest ``E_i / w_i``, E exponential), which needs
    ``num_samples`` samples of positive weight.
    """

    def __init__(self, weights: Sequence[float] | np.ndarray, num_samples: int,
                 replacement: bool = True, generator: Any = None) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, but "
                f"got num_samples={num_samples!r}"
            )
        if not isinstance(replacement, (bool, np.bool_)):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        w = np.asarray(weights.data if isinstance(weights, Tensor) else weights)
        if w.ndim != 1 or w.size == 0 or w.dtype.kind not in "iuf":
            raise ValueError(
                f"WeightedRandomSampler: weights must be a non-empty 1-D sequence of numbers, "
                f"got shape {w.shape} and dtype {w.dtype}"
            )
        w = w.astype(np.float64)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("WeightedRandomSampler: weights must be finite and non-negative")
        if not w.sum() > 0:
            raise ValueError("WeightedRandomSampler: weights must not all be zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw num_samples={num_samples} without "
                f"replacement from {np.count_nonzero(w)} samples of positive weight"
            )
        self.weights = w
        self._last_positive = int(np.flatnonzero(w)[-1])
        self.num_samples = int(num_samples)
        self.replacement = bool(replacement)
        self.generator = _own_generator("WeightedRandomSampler", generator)

    def sample(self, generator: np.random.Generator | None = None) -> np.ndarray:
        rng, w = self._rng(generator), self.weights
        if self.replacement:
            cdf = np.cumsum(w)
            u = rng.random(self.num_samples) * cdf[-1]
            # first i with cdf[i] > u: zero-weight samples (empty intervals) are never hit
            index = np.searchsorted(cdf, u, side="right")
            return np.minimum(index, self._last_positive).astype(np.int64)  # u rounded to Σ w
        with np.errstate(divide="ignore"):
            keys = rng.exponential(size=len(w)) / w
        k = self.num_samples
        chosen = np.argpartition(keys, k - 1)[:k] if k < len(w) else np.arange(len(w))
        return chosen[np.argsort(keys[chosen], kind="stable")].astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (f"WeightedRandomSampler(len(weights)={len(self.weights)}, "
                f"num_samples={self.num_samples}, replacement={self.replacement})")
