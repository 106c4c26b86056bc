"""Dataset, TensorDataset, Subset and DataLoader (torch.utils.data semantics)."""

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, default_collate


def _data(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int32) % 3
    return X, y


class ListDataset(Dataset):
    """A generic (not array-backed) dataset: per-sample items."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])

    def __len__(self):
        return len(self.X)


def test_tensor_dataset_items_and_dtypes():
    X, y = _data()
    ds = TensorDataset(X, cr.tensor(y))
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert isinstance(x3, cr.Tensor) and isinstance(y3, cr.Tensor)
    np.testing.assert_array_equal(x3.data, X[3])
    assert y3.item() == 0 and y3.dtype == np.int64
    assert ds.arrays[0].dtype == np.float32 and ds.arrays[1].dtype == np.int64
    assert ds.tensors[0].shape == (10, 3)
    # python float lists become float32, as elsewhere in chainrule
    assert TensorDataset([[1.0], [2.0]]).arrays[0].dtype == np.float32
    assert TensorDataset(np.zeros((2, 1), np.float64)).arrays[0].dtype == np.float64


def test_tensor_dataset_length_mismatch():
    with pytest.raises(ValueError, match=r"same first dimension.*\(10, 3\), \(9,\)"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_abstract_dataset():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset():
    X, y = _data()
    sub = Subset(TensorDataset(X, y), [7, 2, -1])
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[1][0].data, X[2])
    np.testing.assert_array_equal(sub[2][0].data, X[9])
    with pytest.raises(IndexError, match=r"\[-10, 10\)"):
        Subset(TensorDataset(X, y), [10])
    with pytest.raises(TypeError, match="ints"):
        Subset(TensorDataset(X, y), [0.5])


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)])
def test_len_matches_torch(n, bs, drop):
    X, y = _data(n)
    ours = DataLoader(TensorDataset(X, y), batch_size=bs, drop_last=drop)
    theirs = tud.DataLoader(tud.TensorDataset(torch.from_numpy(X)), batch_size=bs, drop_last=drop)
    assert len(ours) == len(theirs) == len(list(ours))


@pytest.mark.parametrize("drop", [False, True])
def test_sequential_batches_equal_torch(drop):
    X, y = _data(10)
    ours = list(DataLoader(TensorDataset(X, y), batch_size=4, drop_last=drop))
    theirs = list(
        tud.DataLoader(
            tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))),
            batch_size=4,
            drop_last=drop,
        )
    )
    assert len(ours) == len(theirs)
    for (xb, yb), (tx, ty) in zip(ours, theirs):
        assert isinstance(xb, cr.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.data, tx.numpy())
        np.testing.assert_array_equal(yb.data, ty.numpy())


def test_generic_dataset_is_collated_like_array_backed():
    X, y = _data(10)
    fast = list(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=3))
    slow = list(DataLoader(ListDataset(X, y), batch_size=4, shuffle=True, seed=3))
    for (a, b), (c, d) in zip(fast, slow):
        np.testing.assert_array_equal(a.data, c.data)
        np.testing.assert_array_equal(b.data, d.data)
        assert c.dtype == np.float32 and d.dtype == np.int64


def test_default_collate():
    xb, yb = default_collate([(np.ones(2, np.float64), 1.5), (np.zeros(2, np.float64), 2.5)])
    assert xb.dtype == np.float64 and xb.shape == (2, 2)
    assert yb.dtype == np.float32
    np.testing.assert_array_equal(yb.data, [1.5, 2.5])
    single = default_collate([cr.tensor([1, 2]), cr.tensor([3, 4])])
    assert single.dtype == np.int64 and single.shape == (2, 2)
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match="str"):
        default_collate(["a", "b"])


def test_batches_are_copies():
    X, y = _data(6)
    ds = TensorDataset(X, y)
    xb, _ = next(iter(DataLoader(ds, batch_size=3)))
    xb.data[...] = -1
    assert ds.arrays[0].min() >= 0


def test_shuffle_covers_each_sample_once_and_changes_per_epoch():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, seed=0)
    epochs = [np.concatenate([yb.data for _, yb in loader]) for _ in range(3)]
    order1 = np.concatenate([xb.data[:, 0] / 3 for xb, _ in loader]).astype(int)
    assert sorted(order1) == list(range(10))
    assert not all(np.array_equal(epochs[0], e) for e in epochs[1:])
    # the same seed reproduces the same sequence of epochs
    again = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, seed=0)
    for e in epochs:
        np.testing.assert_array_equal(np.concatenate([yb.data for _, yb in again]), e)


def test_shuffle_seeded_from_global_generator():
    X, y = _data(20)

    def first_epoch():
        loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True)
        return next(iter(loader))[0].data

    cr.manual_seed(5)
    a = first_epoch()
    cr.manual_seed(5)
    np.testing.assert_array_equal(first_epoch(), a)
    cr.manual_seed(6)
    assert not np.array_equal(first_epoch(), a)


def test_explicit_generator():
    X, y = _data(10)
    g = np.random.default_rng(11)
    loader = DataLoader(TensorDataset(X, y), batch_size=10, shuffle=True, generator=g)
    xb, _ = next(iter(loader))
    np.testing.assert_array_equal(xb.data, X[np.random.default_rng(11).permutation(10)])
    assert loader.generator is g


def test_subset_of_tensor_dataset_uses_composed_index():
    X, y = _data(10)
    sub = Subset(Subset(TensorDataset(X, y), np.arange(10)[::-1]), [0, 2, 4])
    (xb, yb), = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(xb.data, X[[9, 7, 5]])
    np.testing.assert_array_equal(yb.data, y[[9, 7, 5]])


def test_state_dict_between_epochs_resumes_exactly():
    X, y = _data(17)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=1)
    list(loader)
    state = loader.state_dict()
    expected = [[yb.data.copy() for _, yb in loader] for _ in range(2)]
    fresh = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=999)
    fresh.load_state_dict(state)
    for epoch in expected:
        got = [yb.data for _, yb in fresh]
        assert len(got) == len(epoch)
        for a, b in zip(got, epoch):
            np.testing.assert_array_equal(a, b)


def test_state_dict_mid_epoch_resumes_exactly():
    X, y = _data(17)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=2)
    it = iter(loader)
    seen = [next(it)[0].data.copy() for _ in range(2)]
    state = loader.state_dict()
    assert state["batches_done"] == 2
    rest = [xb.data.copy() for xb, _ in it] + [xb.data.copy() for xb, _ in loader]
    resumed = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)
    resumed.load_state_dict(state)
    got = [xb.data for xb, _ in resumed] + [xb.data for xb, _ in resumed]
    assert len(got) == len(rest) == 3 + 5
    for a, b in zip(got, rest):
        np.testing.assert_array_equal(a, b)
    # the interrupted epoch, resumed, still visits every sample exactly once
    visited = np.concatenate(seen + got[:3])[:, 0] / 3
    assert sorted(visited.astype(int)) == list(range(17))


def test_loader_argument_errors():
    ds = TensorDataset(*_data())
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(ds, batch_size=2.0)
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, seed=1, generator=np.random.default_rng())
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=3)
    loader = DataLoader(ds, batch_size=3)
    with pytest.raises(KeyError, match="batches_done"):
        loader.load_state_dict({"generator": loader.generator.bit_generator.state})
    with pytest.raises(ValueError, match=r"batches_done=9 is outside \[0, 4\]"):
        loader.load_state_dict({"generator": loader.generator.bit_generator.state,
                                "batches_done": 9})
