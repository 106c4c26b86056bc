"""random_split (torch semantics), train_val_test_split, KFold / StratifiedKFold (sklearn)."""

import warnings

import numpy as np
import pytest
import sklearn.model_selection as skms
import torch
import torch.utils.data as tud

import chainrule as cr
from chainrule.data import (
    KFold,
    StratifiedKFold,
    TensorDataset,
    random_split,
    train_val_test_split,
)


def _ds(n):
    return TensorDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


# ------------------------------------------------------------------------- random_split
@pytest.mark.parametrize(
    "n,lengths",
    [(10, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (7, [0.2, 0.2, 0.2, 0.2, 0.2]), (10, [3, 7]),
     (9, [0.1, 0.9])],
)
def test_random_split_lengths_match_torch(n, lengths):
    ours = random_split(_ds(n), lengths, generator=np.random.default_rng(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    together = np.concatenate([s.indices for s in ours])
    assert sorted(together) == list(range(n))


def test_random_split_is_reproducible_and_uses_global_seed():
    a = random_split(_ds(20), [0.5, 0.5], generator=3)
    b = random_split(_ds(20), [0.5, 0.5], generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    cr.manual_seed(1)
    c = random_split(_ds(20), [10, 10])
    cr.manual_seed(1)
    d = random_split(_ds(20), [10, 10])
    np.testing.assert_array_equal(c[1].indices, d[1].indices)
    x, y = c[0][0]
    assert y.item() == c[0].indices[0]


def test_random_split_errors_and_warning():
    with pytest.raises(ValueError, match=r"sum to 9, but the dataset has 10"):
        random_split(_ds(10), [4, 5])
    with pytest.raises(ValueError, match="fractional lengths must sum to 1"):
        random_split(_ds(10), [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(_ds(10), [11, -1])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(_ds(2), [0.5, 0.0, 0.5])


# ---------------------------------------------------------------- train_val_test_split
def test_split_sizes_rounding_and_order():
    X = np.arange(50).reshape(25, 2)
    y = np.arange(25)
    parts = train_val_test_split(X, y, val_size=0.1, test_size=0.2, seed=0)
    assert len(parts) == 6
    X_tr, X_va, X_te, y_tr, y_va, y_te = parts
    # fractions round up (ceil(2.5) = 3, ceil(5.0) = 5), train gets the rest
    assert (len(y_tr), len(y_va), len(y_te)) == (17, 3, 5)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)
    np.testing.assert_array_equal(X_te[:, 0] // 2, y_te)
    assert sorted(np.concatenate([y_tr, y_va, y_te])) == list(range(25))
    # ints are numbers of samples
    parts = train_val_test_split(y, val_size=4, test_size=6, seed=0)
    assert [len(p) for p in parts] == [15, 4, 6]


def test_split_test_size_agrees_with_sklearn_rounding():
    for n in (10, 17, 33):
        for frac in (0.1, 0.15, 0.25, 0.33):
            _, _, te = train_val_test_split(np.arange(n), val_size=0, test_size=frac, seed=0)
            _, sk_te = skms.train_test_split(np.arange(n), test_size=frac, random_state=0)
            assert len(te) == len(sk_te)


def test_split_no_shuffle_keeps_order():
    tr, va, te = train_val_test_split(np.arange(10), val_size=2, test_size=3, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(5))
    np.testing.assert_array_equal(va, [5, 6])
    np.testing.assert_array_equal(te, [7, 8, 9])


def test_split_tensors_in_tensors_out():
    x = cr.tensor(np.arange(10.0))
    tr, va, te = train_val_test_split(x, val_size=0.2, test_size=0.2, seed=1)
    assert all(isinstance(t, cr.Tensor) for t in (tr, va, te))
    assert tr.dtype == x.dtype and len(tr) == 6
    np.testing.assert_array_equal(np.sort(np.concatenate([tr.data, va.data, te.data])), x.data)


def test_stratified_split_preserves_proportions():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 30, 10])
    rng.shuffle(y)
    X = np.arange(100)
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(
        X, y, val_size=0.2, test_size=0.3, stratify=y, seed=4
    )
    assert (len(y_tr), len(y_va), len(y_te)) == (50, 20, 30)
    np.testing.assert_array_equal(np.bincount(y_te), [18, 9, 3])
    np.testing.assert_array_equal(np.bincount(y_va), [12, 6, 2])
    np.testing.assert_array_equal(np.bincount(y_tr), [30, 15, 5])
    np.testing.assert_array_equal(y[X_tr], y_tr)
    assert sorted(np.concatenate([X_tr, X_va, X_te])) == list(range(100))


def test_stratified_split_largest_remainder():
    # 7 / 5 / 3 samples, test_size=4 -> shares 1.87, 1.33, 0.8 -> floors 1,1,0 then the
    # two largest remainders (0.87, 0.8) get one more each: 2, 1, 1
    y = np.repeat([0, 1, 2], [7, 5, 3])
    *_, y_te = train_val_test_split(y, val_size=0, test_size=4, stratify=y, seed=0)
    np.testing.assert_array_equal(np.bincount(y_te, minlength=3), [2, 1, 1])
    for seed in range(5):
        parts = train_val_test_split(y, val_size=0.2, test_size=0.2, stratify=y, seed=seed)
        for part, size in zip(parts, (9, 3, 3)):
            assert len(part) == size
            share = size * np.array([7, 5, 3]) / 15
            assert np.all(np.abs(np.bincount(part, minlength=3) - share) < 1)


def test_stratified_split_tiny_classes_exact_sizes():
    y = np.array([0] * 12 + [1, 2, 3])
    for seed in range(10):
        tr, va, te = train_val_test_split(y, val_size=0.3, test_size=0.4, stratify=y, seed=seed)
        assert (len(tr), len(va), len(te)) == (4, 5, 6)
        assert sorted(np.concatenate([tr, va, te]).tolist()) == sorted(y.tolist())


def test_split_is_reproducible():
    a = train_val_test_split(np.arange(30), seed=7)
    b = train_val_test_split(np.arange(30), seed=7)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


def test_split_errors():
    with pytest.raises(ValueError, match=r"same length, got \[10, 9\]"):
        train_val_test_split(np.zeros(10), np.zeros(9))
    with pytest.raises(ValueError, match="train split would have 0 samples"):
        train_val_test_split(np.zeros(10), val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match=r"test_size must lie in \[0, 1\)"):
        train_val_test_split(np.zeros(10), test_size=1.5)
    with pytest.raises(ValueError, match=r"val_size=11 must lie in \[0, n_samples=10\]"):
        train_val_test_split(np.zeros(10), val_size=11)
    with pytest.raises(ValueError, match="requires shuffle=True"):
        train_val_test_split(np.zeros(10), stratify=np.zeros(10), shuffle=False)
    with pytest.raises(ValueError, match=r"stratify must be 1-D labels of length 10"):
        train_val_test_split(np.zeros(10), stratify=np.zeros(9))
    with pytest.raises(ValueError, match="at least one array"):
        train_val_test_split()


# ----------------------------------------------------------------------- cross-validation
def _folds(splitter, X, y=None):
    return [(tr, te) for tr, te in splitter.split(X, y)]


def _assert_same_folds(ours, theirs):
    assert len(ours) == len(theirs)
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


@pytest.mark.parametrize("n,k", [(10, 5), (11, 3), (7, 7), (23, 4), (5, 2)])
def test_kfold_equals_sklearn(n, k):
    X = np.zeros((n, 2))
    _assert_same_folds(_folds(KFold(k), X), _folds(skms.KFold(k), X))
    assert KFold(k).get_n_splits(X) == skms.KFold(k).get_n_splits(X) == k


def _assert_partition(folds, n, k):
    assert len(folds) == k
    tests = [te for _, te in folds]
    assert sorted(np.concatenate(tests)) == list(range(n))
    for tr, te in folds:
        assert sorted(np.concatenate([tr, te])) == list(range(n))
        assert not set(tr) & set(te)


def test_kfold_shuffle_is_a_valid_reproducible_partition():
    X = np.zeros(23)
    kf = KFold(4, shuffle=True, random_state=0)
    folds = _folds(kf, X)
    _assert_partition(folds, 23, 4)
    assert sorted(len(te) for _, te in folds) == [5, 6, 6, 6]
    _assert_same_folds(_folds(kf, X), folds)  # an int random_state: same folds every call
    unshuffled = _folds(KFold(4), X)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, unshuffled))


@pytest.mark.parametrize("seed", range(4))
def test_stratified_kfold_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 60))
    y = rng.choice([3, 0, 7], size=n, p=[0.5, 0.3, 0.2])
    y[:3] = [3, 0, 7]  # every class present
    k = int(rng.integers(2, 4))
    X = np.zeros((n, 1))
    _assert_same_folds(
        _folds(StratifiedKFold(k), X, y), _folds(skms.StratifiedKFold(k), X, y)
    )


def test_stratified_kfold_string_labels_and_tensor_labels_equal_sklearn():
    y = np.array(list("bbaacbabcabbacbb"))
    X = np.zeros(len(y))
    _assert_same_folds(_folds(StratifiedKFold(3), X, y), _folds(skms.StratifiedKFold(3), X, y))
    yi = np.array([1, 1, 0, 0, 2, 1, 0, 1, 2, 0, 1, 1, 0, 2, 1, 1])
    _assert_same_folds(
        _folds(StratifiedKFold(3), X, cr.tensor(yi)), _folds(skms.StratifiedKFold(3), X, yi)
    )


def test_stratified_kfold_shuffle_is_a_valid_stratified_partition():
    y = np.repeat([0, 1, 2], [20, 12, 8])
    X = np.zeros(40)
    folds = _folds(StratifiedKFold(4, shuffle=True, random_state=1), X, y)
    _assert_partition(folds, 40, 4)
    for _, te in folds:
        np.testing.assert_array_equal(np.bincount(y[te]), [5, 3, 2])
    _assert_same_folds(_folds(StratifiedKFold(4, shuffle=True, random_state=1), X, y), folds)


def test_stratified_kfold_small_class_warns_like_sklearn():
    y = np.array([0] * 8 + [1] * 2)
    with pytest.warns(UserWarning, match="only 2 members, which is less than n_splits=3"):
        ours = _folds(StratifiedKFold(3), np.zeros(10), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _folds(skms.StratifiedKFold(3), np.zeros(10), y)
    _assert_same_folds(ours, theirs)


def test_cross_validation_errors():
    with pytest.raises(ValueError, match="n_splits=6 greater than the number of samples "
                       "n_samples=5"):
        list(KFold(6).split(np.zeros(5)))
    with pytest.raises(ValueError, match="at least 2, got 1"):
        KFold(1)
    with pytest.raises(TypeError, match="n_splits must be an int"):
        KFold(2.5)
    with pytest.raises(ValueError, match="random_state has no effect"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="X has 5 samples but y has 4"):
        list(StratifiedKFold(2).split(np.zeros(5), np.zeros(4)))
    with pytest.raises(ValueError, match="y .* is required"):
        list(StratifiedKFold(2).split(np.zeros(5)))
    with pytest.raises(ValueError, match="cannot be greater than the number of members"):
        list(StratifiedKFold(3).split(np.zeros(4), [0, 0, 1, 1]))
