"""KNeighborsClassifier against scikit-learn's ``KNeighborsClassifier(algorithm='brute')``.

Comparisons are exact (``np.array_equal``): same neighbours in the same order, same
distances, same votes. Digits' pixels are small integers, so many neighbours are at
exactly the same distance and the tests exercise scikit-learn's tie-breaking.

scikit-learn's euclidean/manhattan search on float data fills one heap per query in
training order (``parallel_on_X``) unless there are fewer queries than training points:
then it merges the heaps of its OpenMP threads (``parallel_on_Y``), and its tie order
depends on its number of threads (see ``chainrule/neighbors.py``). The oracle runs
as a user runs it, with scikit-learn's defaults; both strategies are exercised, and
``parallel_on_Y`` with 1, 2 and 3 threads.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier as Oracle  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule import neighbors  # noqa: E402
from chainrule.neighbors import KNeighborsClassifier, NotFittedError  # noqa: E402

METRICS = ("euclidean", "manhattan", "cosine")
WEIGHTS = ("uniform", "distance")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)  # 1347 train, 450 test


def assert_same(ours, theirs, what: str) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    bad = np.argwhere(ours != theirs)
    assert len(bad) == 0, f"{what}: {len(bad)} entries differ, first at {bad[0].tolist()}"


def compare(ours: KNeighborsClassifier, oracle, X, what: str) -> None:
    """kneighbors (of X and of the training points), predict and predict_proba, exactly."""
    d, i = ours.kneighbors(X)
    d_ref, i_ref = oracle.kneighbors(X)
    assert_same(i, i_ref, f"{what} kneighbors indices")
    assert_same(d, d_ref, f"{what} kneighbors distances")
    d, i = ours.kneighbors()
    d_ref, i_ref = oracle.kneighbors()
    assert_same(i, i_ref, f"{what} kneighbors() indices")
    assert_same(d, d_ref, f"{what} kneighbors() distances")
    assert_same(ours.predict(X), oracle.predict(X), f"{what} predict")
    assert_same(ours.predict_proba(X), oracle.predict_proba(X), f"{what} predict_proba")


# ------------------------------------------------------------------ scikit-learn's answers


@pytest.mark.parametrize("direction", ["fewer queries", "more queries"])
@pytest.mark.parametrize("metric", METRICS)
def test_digits_match_sklearn_for_k_1_to_15(digits, metric, direction):
    X_train, X_test, y_train, y_test = digits
    if direction == "more queries":  # 450 training points, 1347 queries: parallel_on_X
        X_train, X_test, y_train, y_test = X_test, X_train, y_test, y_train
    ties = 0
    for k in range(1, 16):
        ours = KNeighborsClassifier(k, metric=metric).fit(X_train, y_train)
        oracle = Oracle(k, algorithm="brute", metric=metric).fit(X_train, y_train)
        d, i = ours.kneighbors(X_test)
        d_ref, i_ref = oracle.kneighbors(X_test)
        assert_same(i, i_ref, f"k={k} kneighbors indices")
        assert_same(d, d_ref, f"k={k} kneighbors distances")
        ties += int((d[:, 1:] == d[:, :-1]).sum())
        if k in (1, 5, 14, 15):  # of the training points (k=15: a heap of 16)
            d, i = ours.kneighbors()
            d_ref, i_ref = oracle.kneighbors()
            assert_same(i, i_ref, f"k={k} kneighbors() indices")
            assert_same(d, d_ref, f"k={k} kneighbors() distances")
        for weights in WEIGHTS:
            ours.set_params(weights=weights)
            oracle.set_params(weights=weights)
            what = f"k={k} weights={weights}"
            assert_same(ours.predict(X_test), oracle.predict(X_test), f"{what} predict")
            assert_same(
                ours.predict_proba(X_test), oracle.predict_proba(X_test), f"{what} proba"
            )
        if k == 5:
            assert ours.score(X_test, y_test) == oracle.score(X_test, y_test)
            assert ours.score(X_test, y_test) > 0.96
    if metric != "cosine":  # integer distances: the tie-breaking was really exercised
        assert ties > 100


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "mixed"])
@pytest.mark.parametrize("metric", METRICS)
def test_integer_data_full_of_ties_match_sklearn(metric, dtype):
    rng = np.random.default_rng(7)
    X_train = rng.integers(0, 3, (150, 4))
    X_test = rng.integers(0, 3, (120, 4))
    X_train[10:40] = X_train[10]  # 30 duplicates: more than k, even in kneighbors()
    X_train[3] = X_test[5] = 0  # zero vectors (cosine: left unnormalised, distance 1)
    y_train = rng.integers(0, 3, 150)
    if dtype == "mixed":  # float64 at fit, float32 queries
        X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float32)
    else:
        X_train, X_test = X_train.astype(dtype), X_test.astype(dtype)
    for queries in (X_test, X_test[:40]):  # more, then fewer queries than the 150 points
        for k in (1, 4, 15, 16, 40):
            for weights in WEIGHTS:
                ours = KNeighborsClassifier(k, metric=metric, weights=weights)
                oracle = Oracle(k, algorithm="brute", metric=metric, weights=weights)
                ours.fit(X_train, y_train)
                oracle.fit(X_train, y_train)
                compare(ours, oracle, queries, f"k={k} {weights} {len(queries)} queries")


THREADS_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from chainrule import neighbors
    from chainrule.neighbors import KNeighborsClassifier

    counted = neighbors._sklearn_threads()  # before scikit-learn is loaded: counted as it would
    assert "sklearn" not in sys.modules
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier as Oracle
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    assert counted == _openmp_effective_n_threads(), (counted, _openmp_effective_n_threads())
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=1)
    differ = []
    for metric in ("euclidean", "manhattan"):
        for k in (3, 15):
            ours = KNeighborsClassifier(k, metric=metric, weights="distance")
            oracle = Oracle(k, algorithm="brute", metric=metric, weights="distance")
            ours.fit(X_train, y_train)
            oracle.fit(X_train, y_train)
            for a, b in zip(ours.kneighbors(X_test), oracle.kneighbors(X_test)):
                differ.append(int((a != b).any(axis=1).sum()))
            differ.append(int((ours.predict_proba(X_test) != oracle.predict_proba(X_test)).sum()))
    print(_openmp_effective_n_threads(), sum(differ))
""")


@pytest.mark.parametrize("threads", ["1", "3"])
def test_few_queries_match_sklearn_whatever_its_thread_count(threads):
    """With fewer queries than training points scikit-learn merges the heaps of its OpenMP
    threads, so its answer depends on their number (``OMP_NUM_THREADS``, else the cores);
    run in a fresh process, where both read the variable."""
    env = {**os.environ, "OMP_NUM_THREADS": threads}
    done = subprocess.run([sys.executable, "-c", THREADS_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [threads, "0"]  # sklearn's thread count; rows that differ


def test_thread_count_follows_sklearns_at_run_time():
    """torch.set_num_threads (tests/torch_compare.py) or threadpoolctl may change the OpenMP
    threads scikit-learn uses after it is loaded; the replay asks it."""
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    from threadpoolctl import threadpool_limits

    assert neighbors._sklearn_threads() == _openmp_effective_n_threads()
    with threadpool_limits(1, user_api="openmp"):
        assert neighbors._sklearn_threads() == _openmp_effective_n_threads() == 1


def test_parallel_on_y_changes_the_answer_with_the_threads(digits, monkeypatch):
    """The replay matters: on digits, one thread and two keep different neighbours."""
    X_train, X_test, y_train, _ = digits
    knn = KNeighborsClassifier(15, metric="manhattan").fit(X_train, y_train)
    found = []
    for threads in (1, 2):
        monkeypatch.setattr(neighbors, "_sklearn_threads", lambda threads=threads: threads)
        found.append(knn.kneighbors(X_test, return_distance=False))
    assert (np.sort(found[0], axis=1) != np.sort(found[1], axis=1)).any()


def test_non_integer_data_match_sklearn():
    rng = np.random.default_rng(3)
    X_train, X_test = rng.normal(size=(200, 6)), rng.normal(size=(150, 6))
    y_train = rng.integers(0, 4, 200)
    for metric in ("euclidean", "manhattan"):
        for dtype in (np.float64, np.float32):
            ours = KNeighborsClassifier(7, metric=metric, weights="distance")
            oracle = Oracle(7, algorithm="brute", metric=metric, weights="distance")
            ours.fit(X_train.astype(dtype), y_train)
            oracle.fit(X_train.astype(dtype), y_train)
            compare(ours, oracle, X_test.astype(dtype), f"{metric} {dtype.__name__}")
    ours = KNeighborsClassifier(7, metric="cosine").fit(X_train, y_train)
    oracle = Oracle(7, algorithm="brute", metric="cosine").fit(X_train, y_train)
    d, i = ours.kneighbors(X_test)
    d_ref, i_ref = oracle.kneighbors(X_test)
    assert_same(i, i_ref, "cosine indices")
    np.testing.assert_allclose(d, d_ref, rtol=0, atol=1e-15)


def test_string_labels(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array("zero one two three four five six seven eight nine".split())
    ours = KNeighborsClassifier(4, weights="distance").fit(X_train, names[y_train])
    oracle = Oracle(4, algorithm="brute", weights="distance").fit(X_train, names[y_train])
    assert ours.classes_.tolist() == sorted(names.tolist()) == oracle.classes_.tolist()
    assert_same(ours.predict(X_test), oracle.predict(X_test), "predict")
    assert_same(ours.predict_proba(X_test), oracle.predict_proba(X_test), "predict_proba")
    assert ours.score(X_test, names[y_test]) == oracle.score(X_test, names[y_test])


@pytest.mark.parametrize("layout", ["C array", "list", "Fortran array", "strided"])
def test_uniform_manhattan_votes_match_sklearn_whatever_the_query_layout(digits, layout):
    """scikit-learn counts these votes one way for a C-ordered array (parallel_on_X) and
    through kneighbors (parallel_on_Y for fewer queries) for anything else."""
    X_train, X_test, y_train, _ = digits
    queries = {"C array": X_test, "list": X_test.tolist(),
               "Fortran array": np.asfortranarray(X_test),
               "strided": np.repeat(X_test, 2, axis=0)[::2]}[layout]
    for k in (10, 15):
        ours = KNeighborsClassifier(k, metric="manhattan").fit(X_train, y_train)
        oracle = Oracle(k, algorithm="brute", metric="manhattan").fit(X_train, y_train)
        assert_same(ours.predict_proba(queries), oracle.predict_proba(queries), f"{layout} k={k}")
        assert_same(ours.predict(queries), oracle.predict(queries), f"{layout} k={k}")


def test_scikit_learn_tools_take_it(digits):
    """cross_val_score, GridSearchCV and clone work on it, with scikit-learn's own numbers."""
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, cross_val_score

    X_train, _, y_train, _ = digits
    ours = cross_val_score(KNeighborsClassifier(3, weights="distance"), X_train, y_train, cv=3)
    theirs = cross_val_score(Oracle(3, algorithm="brute", weights="distance"), X_train, y_train,
                             cv=3)
    assert ours.tolist() == theirs.tolist() and ours.mean() > 0.97
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 3, 5]}, cv=3)
    reference = GridSearchCV(Oracle(algorithm="brute"), {"n_neighbors": [1, 3, 5]}, cv=3)
    search.fit(X_train, y_train)
    reference.fit(X_train, y_train)
    assert search.best_params_ == reference.best_params_
    assert search.best_score_ == reference.best_score_
    copy = clone(KNeighborsClassifier(4, metric="manhattan"))
    assert copy.get_params() == KNeighborsClassifier(4, metric="manhattan").get_params()
    assert not hasattr(copy, "classes_")


def test_score_refuses_labels_of_another_kind():
    knn = KNeighborsClassifier(1).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with pytest.raises(TypeError, match=r"score: y holds labels of dtype <U1 but the classifier "
                                        r"was fitted with labels of dtype int64"):
        knn.score([[0.0], [3.0]], ["0", "1"])
    assert knn.score([[0.0], [3.0]], [0, 1]) == 1.0


# -------------------------------------------------------------------------- hand-made ties


def test_vote_tie_goes_to_the_first_class():
    X = [[0.0], [2.0], [10.0]]
    for labels, first in ((["b", "a", "c"], "a"), ([5, 3, 9], 3)):
        for weights in WEIGHTS:
            knn = KNeighborsClassifier(2, weights=weights).fit(X, labels)
            # two neighbours, one vote each (distance 1 each): a tie, won by the first class
            assert knn.predict([[1.0]]).tolist() == [first]
            np.testing.assert_array_equal(knn.predict_proba([[1.0]]), [[0.5, 0.5, 0.0]])
            oracle = Oracle(2, algorithm="brute", weights=weights).fit(X, labels)
            assert oracle.predict([[1.0]]).tolist() == [first]


def test_exact_matches_alone_vote_with_distance_weights():
    X = [[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.1]]
    y = [0, 1, 1, 2, 2]
    knn = KNeighborsClassifier(4, weights="distance").fit(X, y)
    # the two points at distance 0 vote once each; the others (1, 1 and 0.1) not at all
    np.testing.assert_array_equal(knn.predict_proba([[0.0, 0.0]]), [[0.5, 0.5, 0.0]])
    assert knn.predict([[0.0, 0.0]]).tolist() == [0]
    # away from the training points, 1/d votes: the nearest 4 of (0, 0.5) are at 0.4
    # (class 2), 0.5 (class 0), 0.5 (class 1), 0.5 (class 2); (1, 0) at 1.118 is out
    votes = np.array([1 / 0.5, 1 / 0.5, 1 / 0.4 + 1 / 0.5])
    np.testing.assert_allclose(knn.predict_proba([[0.0, 0.5]]), [votes / votes.sum()])


def test_kneighbors_of_training_points_exclude_themselves():
    X = np.array([[0.0], [1.0], [3.0], [3.0], [3.0], [7.0]])
    knn = KNeighborsClassifier(2).fit(X, [0, 0, 1, 1, 1, 0])
    dist, ind = knn.kneighbors()
    assert ind[0].tolist() == [1, 2] and dist[0].tolist() == [1.0, 3.0]
    assert ind[5].tolist()[0] in (2, 3, 4) and dist[5].tolist() == [4.0, 4.0]
    for i in (2, 3, 4):  # three copies of 3.0: the two others, at distance 0
        assert sorted(ind[i].tolist()) == sorted({2, 3, 4} - {i})
        assert dist[i].tolist() == [0.0, 0.0]
    assert knn.kneighbors(n_neighbors=1, return_distance=False).shape == (6, 1)
    with pytest.raises(ValueError, match="n_neighbors=6 must be less than the 6 training"):
        knn.kneighbors(n_neighbors=6)


# ---------------------------------------------------------------------- chunks and memory


def test_chunk_size_does_not_change_the_answer(digits):
    X_train, X_test, y_train, _ = digits
    for metric in METRICS:
        whole = KNeighborsClassifier(6, metric=metric, weights="distance").fit(X_train, y_train)
        chunked = KNeighborsClassifier(6, metric=metric, weights="distance", chunk_size=37)
        chunked.fit(X_train, y_train)
        d, i = chunked.kneighbors(X_test)
        d_ref, i_ref = whole.kneighbors(X_test)
        assert_same(i, i_ref, f"{metric} indices")
        if metric == "cosine":  # a matrix product's roundings depend on its shape
            np.testing.assert_allclose(d, d_ref, rtol=0, atol=1e-15)
        else:
            assert_same(d, d_ref, f"{metric} distances")
        assert_same(chunked.predict(X_test), whole.predict(X_test), f"{metric} predict")


def test_memory_stays_within_the_budget(monkeypatch):
    rng = np.random.default_rng(0)
    X_train = rng.random((3000, 16), dtype=np.float32)
    X_test = rng.random((1500, 16), dtype=np.float32)
    y_train = rng.integers(0, 10, 3000)
    budget = 2 * 2**20  # the whole distance matrix would take 1500 × 3000 × 8 B = 36 MB
    monkeypatch.setattr(neighbors, "MEMORY_BUDGET", budget)
    for metric in METRICS:
        knn = KNeighborsClassifier(1, metric=metric).fit(X_train, y_train)
        tracemalloc.start()
        try:
            knn.predict(X_test)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1.5 * budget, f"{metric}: peak {peak / 2**20:.1f} MiB"


# ------------------------------------------------------------------------------- the API


def test_params_repr_and_tensor_input(digits):
    X_train, X_test, y_train, _ = digits
    knn = KNeighborsClassifier(3, metric="manhattan")
    assert knn.get_params() == {
        "n_neighbors": 3, "metric": "manhattan", "weights": "uniform", "chunk_size": None
    }
    assert repr(knn) == "KNeighborsClassifier(n_neighbors=3, metric='manhattan')"
    assert knn.set_params(weights="distance", n_neighbors=4) is knn
    assert (knn.n_neighbors, knn.weights) == (4, "distance")
    assert knn.fit(cr.tensor(X_train), cr.tensor(y_train)) is knn
    assert knn.n_features_in_ == 64 and knn.n_samples_fit_ == 1347
    assert knn.classes_.tolist() == list(range(10))
    np.testing.assert_array_equal(knn.predict(cr.tensor(X_test)), knn.predict(X_test))
    assert knn.kneighbors(X_test[:3], n_neighbors=2, return_distance=False).shape == (3, 2)


def test_bad_input_is_named():
    X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1]
    with pytest.raises(NotFittedError, match="not fitted yet. Call 'fit'"):
        KNeighborsClassifier(1).predict(X)
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(NotFittedError, match="kneighbors"):
        KNeighborsClassifier(1).kneighbors(X)
    with pytest.raises(ValueError, match="n_neighbors=4 is more than the 3 training samples"):
        KNeighborsClassifier(4).fit(X, y)
    knn = KNeighborsClassifier(2).fit(X, y)
    with pytest.raises(ValueError, match="n_neighbors=5 is more than the 3 training"):
        knn.kneighbors([[0.0, 0.0]], n_neighbors=5)
    with pytest.raises(ValueError, match="X has 3 features, but the classifier was fitted "
                       "with 2 features"):
        knn.predict([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"2-D.*reshape a single sample"):
        knn.predict([0.0, 1.0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        knn.predict([[np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"unknown metric 'minkowski'; choose one of"):
        KNeighborsClassifier(metric="minkowski").fit(X, y)
    with pytest.raises(ValueError, match="unknown weights 'gaussian'"):
        KNeighborsClassifier(weights="gaussian").fit(X, y)
    for k in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_neighbors must be a positive int"):
            KNeighborsClassifier(k).fit(X, y)
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        KNeighborsClassifier(1, chunk_size=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 samples but y has 2 labels"):
        KNeighborsClassifier(1).fit(X, [0, 1])
    with pytest.raises(ValueError, match="non-integer floats"):
        KNeighborsClassifier(1).fit(X, [0.5, 1.0, 2.0])
    with pytest.raises(TypeError, match="cannot be sorted"):
        KNeighborsClassifier(1).fit(X, np.array([0, "a", 1], dtype=object))
    with pytest.raises(TypeError, match="X must hold numbers"):
        KNeighborsClassifier(1).fit([["a", "b"]] * 3, y)
    with pytest.raises(ValueError, match="invalid parameter 'k'"):
        KNeighborsClassifier().set_params(k=3)
    with pytest.raises(ValueError, match=r"X has no samples"):
        knn.predict(np.zeros((0, 2)))
