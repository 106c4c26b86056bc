"""Splitting data: random_split (torch), train/val/test, KFold and StratifiedKFold (sklearn).

Randomness: ``generator``/``seed``/``random_state`` accept a ``numpy.random.Generator``,
an int seed, or None for the global chainrule generator (see ``chainrule.manual_seed``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from chainrule.data.dataset import Dataset, Subset
from chainrule.random import as_generator
from chainrule.tensor import Tensor


# --------------------------------------------------------------------------- random_split
def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: np.random.Generator | int | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    As ``torch.utils.data.random_split``: ``lengths`` are ints summing to
    ``len(dataset)``, or fractions summing to 1; each fraction gets
    ``floor(frac * n)`` samples and the remaining samples are handed out one at a
    time, round-robin from the first split.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if any(x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [math.floor(n * frac) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(
                    f"random_split: length of split at index {i} is 0; this results in an "
                    "empty dataset",
                    stacklevel=2,
                )
        lengths = counts
    elif any(float(x) != int(x) for x in lengths):
        raise ValueError(
            f"random_split: fractional lengths must sum to 1, got {lengths} "
            f"(sum {sum(lengths)})"
        )
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the dataset has "
            f"{n} samples"
        )
    order = as_generator(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


# ------------------------------------------------------------------- train/val/test split
def _split_count(size: int | float, n: int, name: str) -> int:
    """Number of samples for a split: ints as given, fractions rounded up (as sklearn)."""
    if isinstance(size, (bool, np.bool_)):
        raise TypeError(f"train_val_test_split: {name} must be an int or a float, got a bool")
    if isinstance(size, (float, np.floating)):
        if not 0.0 <= size < 1.0:
            raise ValueError(
                f"train_val_test_split: a fractional {name} must lie in [0, 1), got {size}"
            )
        return math.ceil(size * n)
    if isinstance(size, (int, np.integer)):
        if not 0 <= size <= n:
            raise ValueError(
                f"train_val_test_split: {name}={size} must lie in [0, n_samples={n}]"
            )
        return int(size)
    raise TypeError(f"train_val_test_split: {name} must be an int or a float, got {size!r}")


def _largest_remainder(shares: np.ndarray, total: int, caps: np.ndarray) -> np.ndarray:
    """Integers ``k <= caps`` summing to ``total``: floor of ``shares``, then one more for
    the classes with the largest fractional parts (ties: the lower class first), again
    while classes at their cap leave samples unplaced."""
    counts = np.minimum(np.floor(shares).astype(np.int64), caps)
    order = np.lexsort((np.arange(len(shares)), -(shares - np.floor(shares))))
    while counts.sum() < total:  # ends: callers guarantee caps.sum() >= total
        for c in order:
            if counts.sum() < total and counts[c] < caps[c]:
                counts[c] += 1
    return counts


def _stratified_indices(
    labels: np.ndarray, n_val: int, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    classes, y = np.unique(labels, return_inverse=True)
    class_counts = np.bincount(y, minlength=len(classes))
    n = len(y)
    test_counts = _largest_remainder(class_counts * n_test / n, n_test, class_counts)
    val_counts = _largest_remainder(class_counts * n_val / n, n_val, class_counts - test_counts)
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y == c))
        nt, nv = test_counts[c], val_counts[c]
        parts[2].append(members[:nt])
        parts[1].append(members[nt : nt + nv])
        parts[0].append(members[nt + nv :])
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)  # type: ignore[return-value]


def train_val_test_split(
    *arrays: Any,
    val_size: int | float = 0.1,
    test_size: int | float = 0.1,
    stratify: Any = None,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> list[Any]:
    """Split arrays into train, validation and test parts.

    Returns ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]`` (the three parts
    of each array in order, as sklearn's ``train_test_split``). Tensors give Tensors,
    anything else NumPy arrays.

    Sizes: an int is a number of samples; a float a fraction of ``n`` rounded up,
    ``ceil(size * n)`` (as sklearn rounds ``test_size``); train gets the rest and must
    not be empty. With ``stratify`` (labels), each class ``c`` with ``n_c`` samples
    gives the test split ``floor(n_c * n_test / n)`` samples, and the samples still
    missing from ``n_test`` go one each to the classes with the largest fractional
    parts (ties: the smaller label first); then the same for validation. Split sizes are
    exact and each class's share in every split is within one sample of its share
    in the data. ``shuffle=False`` keeps the order (train first, test last) and cannot
    be combined with ``stratify``.
    """
    if not arrays:
        raise ValueError("train_val_test_split: at least one array is required")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(
            f"train_val_test_split: all arrays must have the same length, got {lengths}"
        )
    n = lengths[0]
    n_val = _split_count(val_size, n, "val_size")
    n_test = _split_count(test_size, n, "test_size")
    n_train = n - n_val - n_test
    if n_train <= 0:
        raise ValueError(
            f"train_val_test_split: with n_samples={n}, val_size={val_size} ({n_val} samples) "
            f"and test_size={test_size} ({n_test} samples) the train split would have "
            f"{n_train} samples; reduce val_size or test_size"
        )
    if stratify is not None:
        if not shuffle:
            raise ValueError(
                "train_val_test_split: stratified splitting requires shuffle=True"
            )
        labels = stratify.data if isinstance(stratify, Tensor) else np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"train_val_test_split: stratify must be 1-D labels of length {n}, got shape "
                f"{labels.shape}"
            )
        rng = as_generator(seed, "train_val_test_split")
        parts = _stratified_indices(labels, n_val, n_test, rng)
    else:
        order = (as_generator(seed, "train_val_test_split").permutation(n) if shuffle
                 else np.arange(n))
        parts = (order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])
    out: list[Any] = []
    for a in arrays:
        if isinstance(a, Tensor):
            out.extend(Tensor._make(a.data[p], False, None) for p in parts)
        else:
            array = np.asarray(a)
            out.extend(array[p] for p in parts)
    return out


# ------------------------------------------------------------------------ cross-validation
class KFold:
    """K consecutive folds (as ``sklearn.model_selection.KFold``).

    The first ``n % n_splits`` folds have ``n // n_splits + 1`` samples, the rest
    ``n // n_splits``. With ``shuffle=True`` the samples are permuted first using
    ``random_state`` (an int gives the same folds on every ``split`` call).
    """

    def __init__(
        self,
        n_splits: int = 5,
        shuffle: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)):
            raise TypeError(
                f"{type(self).__name__}: n_splits must be an int, got {type(n_splits).__name__}"
            )
        if n_splits < 2:
            raise ValueError(
                f"{type(self).__name__}: n_splits must be at least 2, got {n_splits}"
            )
        if not shuffle and random_state is not None:
            raise ValueError(
                f"{type(self).__name__}: setting random_state has no effect since shuffle is "
                "False; set shuffle=True or leave random_state=None"
            )
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return self.n_splits

    def _check_n_samples(self, n: int) -> None:
        if self.n_splits > n:
            raise ValueError(
                f"{type(self).__name__}: cannot have n_splits={self.n_splits} greater than the "
                f"number of samples n_samples={n}"
            )

    def _test_folds(self, n: int, y: Any) -> np.ndarray:
        """The fold number of every sample."""
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        folds = np.repeat(np.arange(self.n_splits), sizes)
        if self.shuffle:
            order = as_generator(self.random_state, type(self).__name__).permutation(n)
            folds[order] = folds.copy()
        return folds

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_indices, test_indices)`` for each fold."""
        n = len(X)
        if y is not None and len(y) != n:
            raise ValueError(
                f"{type(self).__name__}.split: X has {n} samples but y has {len(y)}"
            )
        self._check_n_samples(n)
        folds = self._test_folds(n, y)
        for k in range(self.n_splits):
            yield np.flatnonzero(folds != k), np.flatnonzero(folds == k)


class StratifiedKFold(KFold):
    """K folds that keep each class's proportion (as ``sklearn.model_selection.StratifiedKFold``).

    Same folds as scikit-learn: classes are numbered in order of first appearance,
    the samples of each class are dealt round-robin over the folds (in sorted
    class order), and each class fills its folds in consecutive blocks (shuffled
    per class when ``shuffle=True``).
    """

    def _test_folds(self, n: int, y: Any) -> np.ndarray:
        if y is None:
            raise ValueError("StratifiedKFold.split: y (the class labels) is required")
        labels = y.data if isinstance(y, Tensor) else np.asarray(y)
        if labels.ndim != 1:
            raise ValueError(
                f"StratifiedKFold.split: y must be 1-D class labels, got shape {labels.shape}"
            )
        _, first_index, inverse = np.unique(labels, return_index=True, return_inverse=True)
        encoded = np.argsort(np.argsort(first_index))[inverse]  # order of first appearance
        n_classes = len(first_index)
        counts = np.bincount(encoded, minlength=n_classes)
        if np.all(self.n_splits > counts):
            raise ValueError(
                f"StratifiedKFold: n_splits={self.n_splits} cannot be greater than the number "
                f"of members in each class (class sizes {counts.tolist()})"
            )
        if self.n_splits > counts.min():
            warnings.warn(
                f"StratifiedKFold: the least populated class in y has only {counts.min()} "
                f"members, which is less than n_splits={self.n_splits}",
                stacklevel=3,
            )
        dealt = np.sort(encoded)
        allocation = np.stack(
            [np.bincount(dealt[k :: self.n_splits], minlength=n_classes)
             for k in range(self.n_splits)]
        )
        rng = as_generator(self.random_state, "StratifiedKFold") if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for c in range(n_classes):
            class_folds = np.repeat(np.arange(self.n_splits), allocation[:, c])
            if rng is not None:
                class_folds = rng.permutation(class_folds)
            folds[encoded == c] = class_folds
        return folds
