"""Samplers (torch.utils.data semantics) and DataLoader(sampler=...)."""

import inspect

import numpy as np
import pytest
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import (
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    compute_sample_weight,
)


def _data(n=20):
    X = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return X, np.arange(n)


# ---------------------------------------------------------------- WeightedRandomSampler
def test_weighted_sampler_signature_matches_torch():
    ours = list(inspect.signature(WeightedRandomSampler).parameters)
    theirs = list(inspect.signature(tud.WeightedRandomSampler).parameters)
    assert ours == theirs == ["weights", "num_samples", "replacement", "generator"]
    assert inspect.signature(WeightedRandomSampler).parameters["replacement"].default is True


def test_weighted_sampler_empirical_frequencies():
    w = np.array([1.0, 0.0, 2.0, 3.0, 4.0])
    s = WeightedRandomSampler(w, 200_000, generator=0)
    idx = s.sample()
    assert idx.dtype == np.int64 and len(idx) == len(s) == 200_000
    freq = np.bincount(idx, minlength=5) / len(idx)
    p = w / w.sum()
    se = np.sqrt(p * (1 - p) / len(idx))
    assert np.all(np.abs(freq - p) <= 5 * se + 1e-12)
    assert freq[1] == 0  # zero weight: never drawn
    # iterating yields Python ints, the same draw for the same seed
    assert list(WeightedRandomSampler(w, 10, generator=3)) == \
        WeightedRandomSampler(w, 10, generator=3).sample().tolist()
    assert all(type(i) is int for i in WeightedRandomSampler(w, 5, generator=1))


def test_weighted_sampler_without_replacement():
    w = np.array([5.0, 1.0, 0.0, 1.0, 3.0])
    s = WeightedRandomSampler(w, 4, replacement=False, generator=0)
    draws = np.stack([s.sample() for _ in range(20_000)])
    assert all(len(set(row)) == 4 for row in draws[:100])
    assert not np.any(draws == 2)  # zero weight is never drawn
    # the first draw is weighted as with replacement
    first = np.bincount(draws[:, 0], minlength=5) / len(draws)
    np.testing.assert_allclose(first, w / w.sum(), atol=0.015)
    # second draw given the first was 0: proportional to the rest (1, 0, 1, 3)
    second = draws[draws[:, 0] == 0, 1]
    np.testing.assert_allclose(np.bincount(second, minlength=5)[[1, 3, 4]] / len(second),
                               [0.2, 0.2, 0.6], atol=0.02)
    with pytest.raises(ValueError, match="cannot draw num_samples=5 without replacement from 4"):
        WeightedRandomSampler(w, 5, replacement=False)


def test_weighted_sampler_balances_classes():
    y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    weights = compute_sample_weight("balanced", y)
    s = WeightedRandomSampler(weights, 60_000, generator=0)
    freq = np.bincount(y[s.sample()], minlength=3) / 60_000
    np.testing.assert_allclose(freq, [1 / 3] * 3, atol=0.01)
    # through a loader: balanced batches from imbalanced data
    loader = DataLoader(TensorDataset(np.zeros((1000, 1), np.float32), y), batch_size=300,
                        sampler=WeightedRandomSampler(weights, 3000), seed=0)
    labels = np.concatenate([yb.data for _, yb in loader])
    assert len(labels) == 3000 and len(loader) == 10
    np.testing.assert_allclose(np.bincount(labels) / 3000, [1 / 3] * 3, atol=0.04)


def test_weighted_sampler_argument_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                                         "got num_samples=0"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0], 1, replacement=1)
    with pytest.raises(ValueError, match="finite and non-negative"):
        WeightedRandomSampler([1.0, -1.0], 1)
    with pytest.raises(ValueError, match="must not all be zero"):
        WeightedRandomSampler([0.0, 0.0], 1)
    with pytest.raises(ValueError, match="1-D"):
        WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator, an int"):
        WeightedRandomSampler([1.0], 1, generator="x")
    # Tensors are accepted as weights
    assert len(WeightedRandomSampler(cr.tensor([1.0, 2.0]), 3)) == 3


# ------------------------------------------------------------------ other samplers
def test_sequential_random_and_subset_samplers():
    ds = TensorDataset(*_data(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    perm = RandomSampler(ds, generator=0).sample()
    assert sorted(perm.tolist()) == list(range(10))
    assert perm.tolist() == np.random.default_rng(0).permutation(10).tolist()
    long = RandomSampler(ds, num_samples=25, generator=1).sample()
    assert len(long) == 25 and np.all(np.bincount(long[:20], minlength=10) == 2)
    assert np.all(np.bincount(long, minlength=10) >= 2)
    with_repl = RandomSampler(ds, replacement=True, num_samples=1000, generator=2).sample()
    assert len(with_repl) == 1000 and set(with_repl.tolist()) == set(range(10))
    sub = SubsetRandomSampler([7, 3, 5], generator=0)
    assert sorted(sub.sample().tolist()) == [3, 5, 7] and len(sub) == 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(ds, replacement="yes")
    # without a generator of its own, the one handed in, else the global one
    s = RandomSampler(ds)
    np.testing.assert_array_equal(s.sample(np.random.default_rng(4)),
                                  np.random.default_rng(4).permutation(10))
    cr.manual_seed(9)
    a = s.sample()
    cr.manual_seed(9)
    np.testing.assert_array_equal(s.sample(), a)


def test_sampler_base_class():
    class Nothing(Sampler):
        def __len__(self):
            return 0

    with pytest.raises(NotImplementedError, match="must implement sample or __iter__"):
        list(Nothing())

    class Evens(Sampler):  # a torch-style sampler: __iter__ only
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(0, self.n, 2))

        def __len__(self):
            return (self.n + 1) // 2

    assert Evens(7).sample().tolist() == [0, 2, 4, 6]
    X, y = _data(7)
    batches = [yb.data.tolist() for _, yb in DataLoader(TensorDataset(X, y), 3,
                                                         sampler=Evens(7))]
    assert batches == [[0, 2, 4], [6]]


# ------------------------------------------------------------------ DataLoader(sampler=)
def test_loader_sampler_order_and_length():
    X, y = _data(10)
    order = [9, 0, 3, 3, 7]
    loader = DataLoader(TensorDataset(X, y), batch_size=2, sampler=order)
    assert len(loader) == 3
    got = [(xb.data.copy(), yb.data.copy()) for xb, yb in loader]
    np.testing.assert_array_equal(np.concatenate([g[1] for g in got]), order)
    np.testing.assert_array_equal(got[0][0], X[[9, 0]])
    assert len(DataLoader(TensorDataset(X, y), batch_size=2, sampler=order, drop_last=True)) == 2
    # torch: sampler and shuffle=True exclude each other
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(TensorDataset(X, y), sampler=order, shuffle=True)
    with pytest.raises(TypeError, match="sampler must be a Sampler or an iterable"):
        DataLoader(TensorDataset(X, y), sampler=3)
    with pytest.raises(IndexError, match=r"yielded index 10, outside \[-10, 10\)"):
        list(DataLoader(TensorDataset(X, y), sampler=[1, 10]))
    assert isinstance(DataLoader(TensorDataset(X, y), shuffle=True).sampler, RandomSampler)
    assert isinstance(DataLoader(TensorDataset(X, y)).sampler, SequentialSampler)


class ArraysOnly(Dataset):
    """Array-backed: the loader must fetch a batch by one fancy index per array."""

    def __init__(self, X, y):
        self.arrays = (X, y)

    def __getitem__(self, i):
        raise AssertionError("the loader read a sample one by one")

    def __len__(self):
        return len(self.arrays[0])


def test_loader_sampler_fetches_array_batches_with_one_fancy_index():
    X, y = _data(50)
    s = WeightedRandomSampler(np.ones(50), 40, generator=0)
    loader = DataLoader(ArraysOnly(X, y), batch_size=16, sampler=s)
    expected = WeightedRandomSampler(np.ones(50), 40, generator=0).sample()
    got = np.concatenate([yb.data for _, yb in loader])
    np.testing.assert_array_equal(got, expected)


def test_loader_sampler_equals_torch_for_a_fixed_order():
    X, y = _data(13)
    order = np.random.default_rng(0).permutation(13).tolist()
    ours = [yb.data.tolist() for _, yb in DataLoader(TensorDataset(X, y), 4, sampler=order)]
    theirs = [yb.tolist() for _, yb in tud.DataLoader(tud.TensorDataset(
        *map(__import__("torch").from_numpy, (X, y))), 4, sampler=order)]
    assert ours == theirs


@pytest.mark.parametrize("own_generator", [False, True])
def test_loader_with_seeded_sampler_resumes_exactly(own_generator):
    X, y = _data(23)
    weights = np.linspace(0.1, 1.0, 23)

    def make(seed):
        gen = 5 if own_generator else None
        return DataLoader(TensorDataset(X, y), batch_size=4, seed=seed,
                          sampler=WeightedRandomSampler(weights, 22, generator=gen))

    loader = make(1)
    it = iter(loader)
    seen = [next(it)[1].data.copy() for _ in range(2)]
    state = loader.state_dict()
    assert state["batches_done"] == 2 and ("sampler" in state) == own_generator
    rest = [yb.data.copy() for _, yb in it] + [yb.data.copy() for _, yb in loader]
    resumed = make(2)  # another loader seed: the state decides
    resumed.load_state_dict(state)
    got = [yb.data for _, yb in resumed] + [yb.data for _, yb in resumed]
    assert len(got) == len(rest) == 4 + 6
    for a, b in zip(got, rest):
        np.testing.assert_array_equal(a, b)
    assert len(np.concatenate(seen + got[:4])) == 22
    # between epochs, too
    state = loader.state_dict()
    assert state["batches_done"] == 0
    nxt = [yb.data.copy() for _, yb in loader]
    again = make(3)
    again.load_state_dict(state)
    for a, b in zip([yb.data for _, yb in again], nxt):
        np.testing.assert_array_equal(a, b)


def test_loader_sampler_seeded_from_the_global_generator():
    X, y = _data(30)

    def run():
        s = WeightedRandomSampler(np.ones(30), 30)
        return np.concatenate([yb.data for _, yb in DataLoader(TensorDataset(X, y), 7,
                                                                sampler=s)])

    cr.manual_seed(0)
    a = run()
    cr.manual_seed(0)
    np.testing.assert_array_equal(run(), a)
    cr.manual_seed(1)
    assert not np.array_equal(run(), a)


def test_load_state_dict_with_a_sampler_state_needs_a_stateful_sampler():
    X, y = _data(10)
    seeded = DataLoader(TensorDataset(X, y), 3,
                        sampler=WeightedRandomSampler(np.ones(10), 10, generator=1))
    state = seeded.state_dict()
    unseeded = DataLoader(TensorDataset(X, y), 3, seed=4,
                          sampler=WeightedRandomSampler(np.ones(10), 10))
    before = unseeded.generator.bit_generator.state
    with pytest.raises(ValueError, match="has none"):
        unseeded.load_state_dict(state)
    assert unseeded.generator.bit_generator.state == before  # nothing changed
    with pytest.raises(ValueError, match=r"holds a sampler state, but this loader's sampler "
                                         r"\(list\) cannot load one"):
        DataLoader(TensorDataset(X, y), 3, sampler=list(range(10))).load_state_dict(state)
