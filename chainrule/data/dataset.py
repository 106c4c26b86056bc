"""Datasets: an indexable collection of samples, as ``torch.utils.data``.

A :class:`Dataset` maps an index to a sample. :class:`TensorDataset` holds
arrays that share their first dimension (sample ``i`` is ``(a[i], b[i], ...)``)
and :class:`Subset` restricts a dataset to some of its indices. Both are
*array-backed*: :func:`array_view` gives the loader the arrays and the index map
behind them, so a whole batch is one fancy-index per array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.tensor import Tensor


class Dataset:
    """Abstract dataset: subclasses implement ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


def as_batch_array(data: Any, name: str = "TensorDataset") -> np.ndarray:
    """An array as the loader yields it: floats keep their dtype, integers become int64.

    Python floats (lists of them) become float32, as everywhere in chainrule.
    """
    if isinstance(data, Tensor):
        array = data.data
    elif isinstance(data, np.ndarray):
        array = data
    else:
        array = np.asarray(data)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
    if array.ndim == 0:
        raise ValueError(f"{name}: every array needs a first (sample) dimension, got a scalar")
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    return array


class TensorDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` from arrays or Tensors of equal first dimension.

    Integer arrays are stored as int64 (labels); float arrays keep their dtype.
    ``arrays`` holds the NumPy arrays; ``tensors`` wraps them as Tensors.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or Tensor")
        arrays = tuple(as_batch_array(t) for t in tensors)
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                "TensorDataset: all arrays must have the same first dimension (number of "
                f"samples), got shapes {shapes}"
            )
        self.arrays = arrays

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(Tensor._make(a, False, None) for a in self.arrays)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor._make(np.asarray(a[index]), False, None) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of ints, got shape {indices.shape} "
                f"and dtype {indices.dtype}"
            )
        n = len(dataset)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [-{n}, {n}) for a dataset of length {n}, got "
                f"values from {indices.min()} to {indices.max()}"
            )
        self.dataset = dataset
        self.indices = indices.astype(np.int64) % max(n, 1)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def array_view(dataset: Dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, index_map)`` behind an array-backed dataset, else None.

    Sample ``i`` of the dataset is ``tuple(a[index_map[i]] for a in arrays)``
    (``index_map`` None means the identity). Array-backed: a :class:`TensorDataset`,
    any dataset with an ``arrays`` attribute (a tuple of arrays of equal length whose
    ``__getitem__`` returns ``tuple(a[i] for a in arrays)``), and Subsets of those.
    """
    if isinstance(dataset, Subset):
        inner = array_view(dataset.dataset)
        if inner is None:
            return None
        arrays, index_map = inner
        return arrays, dataset.indices if index_map is None else index_map[dataset.indices]
    arrays = getattr(dataset, "arrays", None)
    if isinstance(arrays, tuple) and arrays and all(isinstance(a, np.ndarray) for a in arrays):
        return arrays, None
    return None
