"""DataLoader: batches of a dataset, optionally shuffled, as ``torch.utils.data.DataLoader``.

For an array-backed dataset (:class:`~chainrule.data.TensorDataset`, a Subset of one,
or any dataset exposing ``arrays``) a batch is one fancy-index per array; any other
dataset is read sample by sample and collated (stacked).

The order of an epoch comes from a sampler (``loader.sampler``): a
:class:`~chainrule.data.SequentialSampler`, a :class:`~chainrule.data.RandomSampler`
for ``shuffle=True``, or the one given as ``sampler=`` (e.g. a
:class:`~chainrule.data.WeightedRandomSampler`; it excludes ``shuffle=True``, as in
PyTorch). Random orders are drawn at the start of every epoch from the loader's own
:class:`numpy.random.Generator` (``loader.generator``), seeded by ``seed``, or taken
as given (``generator=``), or seeded once from the global chainrule generator; a
sampler built with its own generator draws from that instead.

``transform=`` (e.g. :mod:`chainrule.data.transforms`) is applied to the first field
(the inputs) of every batch: give it to the training loader only. A random transform
without a generator of its own draws from a generator derived from the loader's
generator, the epoch and the batch number.

:meth:`DataLoader.state_dict` holds the loader's generator state at the start of the
current epoch, the position inside it and, when they have one, the state of the
sampler's and the transform's own generators; :meth:`DataLoader.load_state_dict`
makes a resumed run see exactly the batches (and augmentations) the interrupted run
would have seen. A custom sampler without ``state_dict`` resumes exactly only if it
is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from numbers import Number
from typing import Any

import numpy as np

from chainrule.data.dataset import Dataset, array_view, as_batch_array
from chainrule.data.sampler import RandomSampler, Sampler, SequentialSampler
from chainrule.data.transforms import Transform
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
        sampler: where the indices of an epoch come from: a
            :class:`~chainrule.data.Sampler` or any iterable of ints with ``len``
            (mutually exclusive with ``shuffle=True``). A chainrule sampler without a
            generator of its own draws from the loader's.
        transform: a callable applied to the first field of every batch (a NumPy
            array, before it becomes a Tensor); a :class:`~chainrule.data.transforms.
            Transform` also receives a generator (see the module docstring).

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
        *,
        sampler: Sampler | Any | None = None,
        transform: Any = None,
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
        if sampler is not None and shuffle:
            raise ValueError(
                "DataLoader: sampler option is mutually exclusive with shuffle=True (a "
                "sampler decides the order; use RandomSampler for a shuffled one)"
            )
        if sampler is not None and not isinstance(sampler, Sampler):
            if not hasattr(sampler, "__iter__") or not hasattr(sampler, "__len__"):
                raise TypeError(
                    "DataLoader: sampler must be a Sampler or an iterable of indices with a "
                    f"length, got {type(sampler).__name__}"
                )
        if transform is not None and not callable(transform):
            raise TypeError(
                f"DataLoader: transform must be callable, got {type(transform).__name__}"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        if sampler is None:
            sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
        self.sampler = sampler
        self.transform = transform
        if generator is None:
            if seed is None:
                draws = shuffle or transform is not None or (
                    isinstance(sampler, Sampler) and not isinstance(sampler, SequentialSampler)
                    and sampler.generator is None)
                seed = int(default_generator().integers(2**63)) if draws else 0
            generator = np.random.default_rng(seed)
        self.generator = generator
        self._view = array_view(dataset)
        self._epoch_start_state: dict[str, Any] | None = None  # set while an epoch runs
        self._epoch_sampler_state: dict[str, Any] | None = None
        self._batches_done = 0
        self._resume_from = 0

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if isinstance(self.sampler, Sampler):
            order = np.asarray(self.sampler.sample(self.generator))
        else:
            order = np.asarray([int(i) for i in self.sampler], dtype=np.int64)
        if order.ndim != 1 or (order.size and order.dtype.kind not in "iu"):
            raise TypeError(
                f"DataLoader: the sampler must yield integer indices, got an array of shape "
                f"{order.shape} and dtype {order.dtype}"
            )
        if order.size and (order.min() < -n or order.max() >= n):
            bad = order[(order < -n) | (order >= n)][0]
            raise IndexError(
                f"DataLoader: the sampler yielded index {bad}, outside [-{n}, {n}) for a "
                f"dataset of length {n}"
            )
        return order

    def __iter__(self) -> Iterator[Any]:
        self._epoch_start_state = self.generator.bit_generator.state
        self._epoch_sampler_state = _state_of(self.sampler)
        order = self._order()
        transform_seed = (int(self.generator.integers(2**63))
                          if self.transform is not None else 0)
        n_batches = (len(order) // self.batch_size if self.drop_last
                     else math.ceil(len(order) / self.batch_size))
        first, self._resume_from = self._resume_from, 0
        self._batches_done = first
        for b in range(first, n_batches):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = self._fetch(indices, b, transform_seed)
            self._batches_done = b + 1
            yield batch
        self._epoch_start_state = self._epoch_sampler_state = None
        self._batches_done = 0

    def _fetch(self, indices: np.ndarray, b: int = 0, transform_seed: int = 0) -> Any:
        if self._view is not None:
            arrays, index_map = self._view
            if index_map is not None:
                indices = index_map[indices]
            fields = [a[indices] for a in arrays]
            if self.transform is not None:
                fields[0] = self._augment(fields[0], b, transform_seed)
            return tuple(_to_tensor(a) for a in fields)
        batch = default_collate([self.dataset[int(i)] for i in indices])
        if self.transform is None:
            return batch
        if isinstance(batch, tuple):
            first = _to_tensor(self._augment(batch[0].data, b, transform_seed))
            return (first,) + batch[1:]
        return _to_tensor(self._augment(batch.data, b, transform_seed))

    def _augment(self, inputs: np.ndarray, b: int, transform_seed: int) -> np.ndarray:
        if isinstance(self.transform, Transform):
            out = self.transform(inputs, generator=np.random.default_rng([transform_seed, b]))
        else:
            out = self.transform(inputs)
        out = out.data if isinstance(out, Tensor) else np.asarray(out)
        if out.ndim == 0 or len(out) != len(inputs):
            raise ValueError(
                f"DataLoader: the transform turned a batch of shape {inputs.shape} into one of "
                f"shape {out.shape}; it must keep the batch size"
            )
        return out

    def state_dict(self) -> dict[str, Any]:
        """The loader's generator state (at the start of the current epoch, if one is under
        way), the number of batches already yielded in the current epoch (0 between
        epochs) and, if they have generators of their own, the sampler's state (also at
        the epoch's start) and the transform's (now)."""
        if self._epoch_start_state is None:
            state = {"generator": self.generator.bit_generator.state, "batches_done": 0}
            sampler_state = _state_of(self.sampler)
        else:
            state = {"generator": self._epoch_start_state, "batches_done": self._batches_done}
            sampler_state = self._epoch_sampler_state
        if sampler_state:
            state["sampler"] = sampler_state
        transform_state = _state_of(self.transform)
        if transform_state:
            state["transform"] = transform_state
        return state

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
        for key, part in (("sampler", self.sampler), ("transform", self.transform)):
            if state.get(key) and not hasattr(part, "load_state_dict"):
                raise ValueError(
                    f"DataLoader.load_state_dict: the state holds a {key} state, but this "
                    f"loader's {key} ({type(part).__name__}) cannot load one"
                )
        parts = [(key, part) for key, part in (("sampler", self.sampler),
                                               ("transform", self.transform)) if state.get(key)]
        backup = [(part, part.state_dict()) for _, part in parts]
        try:
            for key, part in parts:
                part.load_state_dict(state[key])
        except BaseException:  # leave the loader as it was
            for part, old in backup:
                part.load_state_dict(old)
            raise
        self.generator.bit_generator.state = state["generator"]
        self._resume_from = done
        self._epoch_start_state = None
        self._batches_done = 0


def _state_of(part: Any) -> dict[str, Any] | None:
    """``part.state_dict()`` for a sampler or transform that has one, else None."""
    state_dict = getattr(part, "state_dict", None)
    return state_dict() if callable(state_dict) else None
