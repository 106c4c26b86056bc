"""DataLoader: batches of a dataset, optionally shuffled, as ``torch.utils.data.DataLoader``.

For an array-backed dataset (:class:`~chainrule.data.TensorDataset`, a Subset of one,
or any dataset exposing ``arrays``) a batch is one fancy-index per array; any other
dataset is read sample by sample and collated (stacked).

Shuffling draws a new permutation at the start of every epoch from the loader's own
:class:`numpy.random.Generator` (``loader.generator``), seeded by ``seed``, or taken
as given (``generator=``), or seeded once from the global chainrule generator. Its
state, with the position inside the current epoch, is :meth:`DataLoader.state_dict`;
:meth:`DataLoader.load_state_dict` makes a resumed run see exactly the batches the
interrupted run would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Number
from typing import Any

import numpy as np

from chainrule.data.dataset import Dataset, array_view, as_batch_array
from chainrule.random import default_generator
from chainrule.tensor import Tensor


def _to_tensor(array: np.ndarray) -> Tensor:
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    return Tensor._make(array, False, None)


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch.

    Tuples/lists of fields give a tuple of batched fields; Tensors, arrays and
    numbers are stacked along a new first axis (ints -> int64, Python floats ->
    float32, float arrays keep their dtype).
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError(
                "DataLoader: every sample must have the same number of fields, got "
                f"{sorted({len(s) for s in samples})}"
            )
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, (Tensor, np.ndarray, Number, np.generic)):
        if type(first) is float:  # Python floats -> float32 (np.float64 keeps its dtype)
            return _to_tensor(np.asarray(samples, dtype=np.float32))
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ValueError(
                f"DataLoader: cannot stack samples of different shapes {sorted(shapes)}"
            )
        return _to_tensor(as_batch_array(np.stack(arrays), "DataLoader"))
    raise TypeError(
        "DataLoader: samples must be Tensors, arrays, numbers or tuples of them, got "
        f"{type(first).__name__}"
    )


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size``.

    Args:
        dataset: a Dataset (``__getitem__`` and ``__len__``).
        batch_size: samples per batch; the last batch may be smaller unless ``drop_last``.
        shuffle: draw a new random order every epoch.
        drop_last: drop the last incomplete batch.
        seed: seed for the loader's own generator (reproducible shuffling).
        generator: a ``numpy.random.Generator`` to draw permutations from (instead of
            ``seed``). With neither, a generator is seeded once from the global chainrule
            generator (so ``chainrule.manual_seed`` makes runs reproducible).

    Yields tuples of Tensors, one per field of a sample (a single Tensor if samples are
    single arrays); float arrays keep their dtype, integer labels are int64.
    ``len(loader)`` is the number of batches per epoch.
    Only one iteration over a loader should be in progress at a time.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(
                f"DataLoader: batch_size must be a positive int, got {type(batch_size).__name__}"
            )
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give either seed or generator, not both")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                "DataLoader: generator must be a numpy.random.Generator, got "
                f"{type(generator).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if generator is None:
            if seed is None:
                seed = int(default_generator().integers(2**63)) if shuffle else 0
            generator = np.random.default_rng(seed)
        self.generator = generator
        self._view = array_view(dataset)
        self._epoch_start_state: dict[str, Any] | None = None  # set while an epoch runs
        self._batches_done = 0
        self._resume_from = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        return self.generator.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self) -> Iterator[Any]:
        self._epoch_start_state = self.generator.bit_generator.state
        order = self._order()
        first, self._resume_from = self._resume_from, 0
        self._batches_done = first
        for b in range(first, len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = self._fetch(indices)
            self._batches_done = b + 1
            yield batch
        self._epoch_start_state = None
        self._batches_done = 0

    def _fetch(self, indices: np.ndarray) -> Any:
        if self._view is not None:
            arrays, index_map = self._view
            if index_map is not None:
                indices = index_map[indices]
            return tuple(_to_tensor(a[indices]) for a in arrays)
        return default_collate([self.dataset[int(i)] for i in indices])

    def state_dict(self) -> dict[str, Any]:
        """The shuffling generator's state and the number of batches already yielded
        in the current epoch (0 between epochs)."""
        if self._epoch_start_state is None:
            return {"generator": self.generator.bit_generator.state, "batches_done": 0}
        return {"generator": self._epoch_start_state, "batches_done": self._batches_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`: the next iteration continues where it was taken."""
        missing = {"generator", "batches_done"} - set(state)
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        done = int(state["batches_done"])
        if not 0 <= done <= len(self):
            raise ValueError(
                f"DataLoader.load_state_dict: batches_done={done} is outside [0, {len(self)}]"
            )
        self.generator.bit_generator.state = state["generator"]
        self._resume_from = done
        self._epoch_start_state = None
        self._batches_done = 0
