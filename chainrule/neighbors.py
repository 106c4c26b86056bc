"""k-nearest-neighbour classification with scikit-learn's API and scikit-learn's answers.

>>> from chainrule.neighbors import KNeighborsClassifier
>>> knn = KNeighborsClassifier(n_neighbors=3).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
>>> knn.predict([[1.1]])
array([0])
>>> knn.predict_proba([[0.9]])
array([[0.66666667, 0.33333333]])

A query ``x`` votes among its ``k`` nearest training points ``x_i``: with
``weights='uniform'`` each neighbour has one vote, with ``weights='distance'``
the vote is ``1 / d(x, x_i)`` (if some neighbours are at distance 0, only they
vote, one vote each). ``predict_proba`` is the votes per class over their sum;
``predict`` is the class with most votes, a tie going to the first class of
``classes_`` (the sorted labels).

Distances, all computed for a chunk of queries at once:

- ``euclidean``: ``d² = ‖x‖² + ‖y‖² − 2 x·y`` — one matrix product per chunk —
  clipped at 0, then ``d = √d²`` (neighbours are chosen on ``d²``);
- ``manhattan``: ``d = Σ_f |x_f − y_f|``, accumulated one feature at a time over
  the chunk (a broadcast difference of one column, so memory stays bounded);
- ``cosine``: ``d = 1 − x·y / (‖x‖ ‖y‖)``, clipped to ``[0, 2]``; a zero vector
  is left unnormalised, so its similarity to anything is 0 and its distance 1.

Queries are processed in chunks of ``chunk_size`` rows, by default as many as
keep the distance matrix and its temporaries of one chunk under
``MEMORY_BUDGET`` bytes; so memory does not grow with the number of queries.
Float32 input is computed in float64 for euclidean and manhattan, and the
distances returned are rounded to float32 values; cosine between two float32
arrays is computed in float32. Both as scikit-learn does.

Ties, as scikit-learn breaks them
---------------------------------
With integer-valued data (pixels, counts) many neighbours are at exactly the
same distance, and which of them are returned — in which order — decides votes.
The results here are scikit-learn's ``KNeighborsClassifier(algorithm='brute')``,
neighbour for neighbour, because the selection is done as scikit-learn does it:

- float32/float64 data (the same dtype at fit and query) with ``euclidean`` or
  ``manhattan``: scikit-learn's ``ArgKmin`` pushes the training points, in index
  order, onto a max-heap of size ``k`` that keeps a new point only if it is
  *strictly* closer than the farthest kept one, then sorts the heap with an
  introsort (stable insertion sort for ``k <= 15``). That heap is replayed here
  (vectorised over the queries of a chunk, and only for the points that can
  enter it), so a tie at the k-th place keeps the point the heap keeps. (That
  is not always the smaller training index, nor are equal distances always
  listed by index: it depends on when each point entered the heap.)
  That is scikit-learn's ``parallel_on_X`` strategy. With fewer queries than
  training points (and at most 4 × 256 × its OpenMP threads of them),
  ``kneighbors`` — and so ``weights='distance'`` — uses ``parallel_on_Y``
  instead: the training points are cut into blocks of 256, the blocks shared
  out among the threads in contiguous runs, each thread fills its own heaps,
  and the threads' heaps are then pushed, thread after thread and in heap
  order, onto a fresh heap before the sort. Which points survive a tie, and
  their order, then depend on the number of threads; it is replayed here for
  scikit-learn's number (asked of it when it is loaded; else ``OMP_NUM_THREADS``,
  else the physical cores, as its ``_openmp_effective_n_threads`` counts them).
  ``predict``/``predict_proba`` with ``weights='uniform'`` and ``manhattan`` of
  queries given as a C-ordered NumPy array always use ``parallel_on_X``, as
  scikit-learn's (its ``ArgKminClassMode``); of a list, a Fortran-ordered or a
  strided array they go by ``kneighbors``, as its do.
- ``cosine``, integer data, or different dtypes at fit and query:
  ``np.argpartition`` of each row of distances, then ``np.argsort`` of the
  ``k`` kept, as scikit-learn's chunked pairwise path does.

``kneighbors()`` without queries returns the neighbours of each training point
but itself (if duplicates push the point out of its own list, the first
neighbour is dropped instead), as scikit-learn.

Choosing k
----------
``predict_each_k(X, ks)`` gives the predictions of every k from one computation of
the distances (per chunk: the neighbours of each k are then selected from it, as
above, so each equals ``predict`` with that k); ``cross_validate_k(X, y, ks, cv)``
scores every k on every fold of a splitter with it. ``chainrule knn`` is built on them.
"""

from __future__ import annotations

import math
import os
import sys
from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np

from chainrule.metrics import accuracy
from chainrule.tensor import Tensor

METRICS = ("euclidean", "manhattan", "cosine")
WEIGHTS = ("uniform", "distance")
MEMORY_BUDGET = 256 * 2**20
"""Bytes of distances and their temporaries per chunk of queries, when ``chunk_size=None``."""

_HEAP_METRICS = ("euclidean", "manhattan")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_TILE = 2048  # training points per tile of the manhattan sum
_TILE_BYTES = 32 * 2**20  # float32 training points converted to float64 at a time
_SKLEARN_CHUNK = 256  # scikit-learn's pairwise_dist_chunk_size: rows per block in ArgKmin


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (as ``sklearn.exceptions.NotFittedError``)."""


def _array(X: Any) -> np.ndarray:
    return X.data if isinstance(X, Tensor) else np.asarray(X)


class KNeighborsClassifier:
    """Classify by a vote of the ``n_neighbors`` nearest training points.

    Parameters: ``n_neighbors`` (k, default 5); ``metric`` — ``'euclidean'``,
    ``'manhattan'`` or ``'cosine'``; ``weights`` — ``'uniform'`` (one vote per
    neighbour) or ``'distance'`` (``1/d``); ``chunk_size`` — queries per chunk,
    ``None`` to derive it from ``MEMORY_BUDGET``.

    After ``fit``: ``classes_`` (the sorted labels), ``n_features_in_``,
    ``n_samples_fit_``.
    """

    _estimator_type = "classifier"  # what scikit-learn before 1.6 looks for

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        metric: str = "euclidean",
        weights: str = "uniform",
        chunk_size: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.weights = weights
        self.chunk_size = chunk_size

    # ----------------------------------------------------------------- parameters

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            "n_neighbors": self.n_neighbors,
            "metric": self.metric,
            "weights": self.weights,
            "chunk_size": self.chunk_size,
        }

    def set_params(self, **params: Any) -> KNeighborsClassifier:
        valid = self.get_params()
        for name in params:
            if name not in valid:
                raise ValueError(
                    f"KNeighborsClassifier.set_params: invalid parameter {name!r}; valid "
                    f"parameters are {sorted(valid)}"
                )
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags — a classifier of 2-D arrays — so that its tools
        (``cross_val_score``, ``GridSearchCV``, ``clone``, pipelines) take this one. Only
        scikit-learn calls it, so scikit-learn is importable then."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags())

    def __repr__(self) -> str:
        defaults = KNeighborsClassifier().get_params()
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]]
        return f"KNeighborsClassifier({', '.join(changed)})"

    def _check_params(self, where: str) -> None:
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(
                f"KNeighborsClassifier.{where}: n_neighbors must be a positive int, got {k!r}"
            )
        if self.metric not in METRICS:
            raise ValueError(
                f"KNeighborsClassifier.{where}: unknown metric {self.metric!r}; "
                f"choose one of {list(METRICS)}"
            )
        if self.weights not in WEIGHTS:
            raise ValueError(
                f"KNeighborsClassifier.{where}: unknown weights {self.weights!r}; "
                f"choose one of {list(WEIGHTS)}"
            )
        c = self.chunk_size
        if c is not None and (isinstance(c, bool) or not isinstance(c, Integral) or c < 1):
            raise ValueError(
                f"KNeighborsClassifier.{where}: chunk_size must be a positive int or None, "
                f"got {c!r}"
            )

    # ------------------------------------------------------------------- checking

    def _check_X(self, X: Any, where: str) -> np.ndarray:
        array = _array(X)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"KNeighborsClassifier.{where}: X must hold numbers, got dtype {array.dtype}"
            )
        if array.ndim != 2:
            raise ValueError(
                f"KNeighborsClassifier.{where}: X must be 2-D (n_samples, n_features), got "
                f"shape {array.shape}"
                + ("; reshape a single sample with X.reshape(1, -1)" if array.ndim == 1 else "")
            )
        if array.shape[0] == 0:
            raise ValueError(f"KNeighborsClassifier.{where}: X has no samples, shape {array.shape}")
        if array.shape[1] == 0:
            raise ValueError(
                f"KNeighborsClassifier.{where}: X has no features, shape {array.shape}"
            )
        if hasattr(self, "n_features_in_") and where != "fit":
            if array.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"KNeighborsClassifier.{where}: X has {array.shape[1]} features, but the "
                    f"classifier was fitted with {self.n_features_in_} features"
                )
        if array.dtype.kind == "f":
            step = max(1, 2**24 // array.shape[1])  # check in slices: no full-size temporary
            for start in range(0, array.shape[0], step):
                if not np.isfinite(array[start : start + step]).all():
                    raise ValueError(f"KNeighborsClassifier.{where}: X contains NaN or infinity")
        return array

    def _check_fitted(self, where: str) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(
                f"KNeighborsClassifier.{where}: this KNeighborsClassifier instance is not "
                "fitted yet. Call 'fit' with appropriate arguments before using this estimator."
            )

    # ------------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Remember (a copy of) the training points ``X`` (n_samples, n_features) and
        their labels ``y`` (any sortable values: ints, strings ...)."""
        self._check_params("fit")
        X = self._check_X(X, "fit")
        y = _array(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"KNeighborsClassifier.fit: y must be 1-D labels, got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(
                f"KNeighborsClassifier.fit: X has {len(X)} samples but y has {len(y)} labels"
            )
        if y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise ValueError("KNeighborsClassifier.fit: y contains NaN or infinity")
            if not np.array_equal(y, np.round(y)):
                raise ValueError(
                    "KNeighborsClassifier.fit: y holds non-integer floats (a regression "
                    "target?); a classifier needs class labels"
                )
        try:
            classes, encoded = np.unique(y, return_inverse=True)
        except TypeError as error:
            raise TypeError(
                f"KNeighborsClassifier.fit: the labels in y cannot be sorted ({error}); use "
                "labels of one type (all ints or all strings)"
            ) from None
        if self.n_neighbors > len(X):
            raise ValueError(
                f"KNeighborsClassifier.fit: n_neighbors={self.n_neighbors} is more than the "
                f"{len(X)} training samples"
            )
        self._fit_dtype = X.dtype
        # a copy (float32 stays float32: chunks are converted to float64 as they are used)
        self._X = np.array(X, X.dtype if X.dtype in _FLOATS else np.float64, order="C")
        self._sq_norms: dict[bool, np.ndarray] = {}  # by path: heap (BLAS dot) or not (einsum)
        self._normalized: dict[np.dtype, np.ndarray] = {}
        self._y = encoded.reshape(-1).astype(np.intp)
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        self.n_samples_fit_ = X.shape[0]
        return self

    # ----------------------------------------------------------------- neighbours

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        """Distances and indices of the ``n_neighbors`` nearest training points of each query.

        Both arrays are (n_queries, n_neighbors), nearest first. ``X=None``: the
        neighbours of each training point, the point itself excluded.
        """
        self._check_fitted("kneighbors")
        self._check_params("kneighbors")
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(
                f"KNeighborsClassifier.kneighbors: n_neighbors must be a positive int, got {k!r}"
            )
        dist, ind = self._neighbors(X, int(k), "kneighbors")
        return (dist, ind) if return_distance else ind

    def _neighbors(
        self, X: Any, k: int, where: str, voting: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._neighbors_each(X, [k], where, voting)[0]

    def _neighbors_each(
        self, X: Any, ks: list[int], where: str, voting: bool = False
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(dist, ind)`` for each k of ``ks``, as ``_neighbors(X, k)`` gives them: each
        chunk's distances are computed once and the neighbours of every k chosen from them.
        ``voting``: for a vote (predict, predict_proba), where scikit-learn counts uniform
        manhattan votes of queries given as a C-ordered array with its ``parallel_on_X``
        strategy whatever the sizes."""
        n_fit = self.n_samples_fit_
        self_query = X is None
        largest = max(ks)
        if self_query:
            if largest >= n_fit:
                raise ValueError(
                    f"KNeighborsClassifier.{where}: n_neighbors={largest} must be less than "
                    f"the {n_fit} training samples when the queries are the training points "
                    "(X=None: each point is not its own neighbour)"
                )
            Q, query_dtype, extra = self._X, self._fit_dtype, 1
        else:
            Q = self._check_X(X, where)
            if largest > n_fit:
                raise ValueError(
                    f"KNeighborsClassifier.{where}: n_neighbors={largest} is more than the "
                    f"{n_fit} training samples"
                )
            query_dtype, extra = Q.dtype, 0
        heap = (
            self.metric in _HEAP_METRICS
            and query_dtype == self._fit_dtype
            and query_dtype in _FLOATS
        )
        # sklearn's ArgKminClassMode counts uniform votes (parallel_on_X), except euclidean,
        # when the queries it is given are a C-ordered array (else it goes by kneighbors)
        given = X.data if isinstance(X, Tensor) else X
        class_mode = (voting and self.weights == "uniform" and self.metric != "euclidean"
                      and isinstance(given, np.ndarray) and given.flags.c_contiguous)
        threads = 0 if class_mode else _parallel_on_y_threads(len(Q), n_fit)
        # cosine keeps float32 when both sides are float32, as sklearn's pairwise path
        work = (
            np.dtype(np.float32)
            if self.metric == "cosine" and query_dtype == self._fit_dtype == np.float32
            else np.dtype(np.float64)
        )
        # bytes per (query, training point) in a chunk: the float64 distance, a boolean
        # mask (heap) or argpartition's intp output, manhattan's tile of differences
        pair = 8 + (1 if heap else 8) + (8 if self.metric == "manhattan" else 0)
        rows = self.chunk_size or max(1, MEMORY_BUDGET // (pair * n_fit))
        found: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in ks]
        for start in range(0, len(Q), rows):
            chunk = np.ascontiguousarray(Q[start : start + rows], dtype=np.float64)
            # all training points against themselves: sklearn's pairwise path multiplies
            # X by X.T, which NumPy computes with SYRK (its roundings differ from GEMM's)
            gram = self_query and not heap and len(chunk) == n_fit
            D = self._distances(chunk, work, heap, gram)
            if self_query and not heap:  # sklearn's pairwise path: d(x, x) = 0 exactly
                D[np.arange(len(chunk)), np.arange(start, start + len(chunk))] = 0
            for k, (dists, inds) in zip(ks, found):
                dist, ind = self._select(D, k + extra, heap, threads)
                dists.append(dist)
                inds.append(ind)
            del D  # before the next chunk's distances exist
        result = []
        for k, (dists, inds) in zip(ks, found):
            dist, ind = np.concatenate(dists), np.concatenate(inds)
            if self_query:  # drop each point from its own list (else its first neighbour)
                keep = ind != np.arange(len(ind))[:, None]
                keep[keep.all(axis=1), 0] = False
                ind = ind[keep].reshape(len(ind), k)
                dist = dist[keep].reshape(len(dist), k)
            result.append((dist, ind))
        return result

    def _select(
        self, D: np.ndarray, k: int, heap: bool, threads: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices of the ``k`` smallest of each row of ``D``, nearest first
        (``threads`` > 0: as scikit-learn's ``parallel_on_Y`` with that many threads)."""
        if heap:
            values, ind = _heap_argkmin(D, k) if not threads else _heap_argkmin_on_y(D, k, threads)
            if self._fit_dtype == np.float32:  # sklearn's float32 metric returns float32
                values = values.astype(np.float32)
            dist = np.sqrt(values) if self.metric == "euclidean" else values
            return dist.astype(np.float64), ind
        ind = _argpartition_argkmin(D, k)
        dist = np.take_along_axis(D, ind, axis=1)
        return (np.sqrt(dist) if self.metric == "euclidean" else dist), ind

    def _distances(
        self, Q: np.ndarray, work: np.dtype, heap: bool, gram: bool = False
    ) -> np.ndarray:
        """Distances (squared for euclidean) of the float64 queries ``Q`` to the training points."""
        Y = self._X
        if self.metric == "euclidean":  # ‖x‖² + ‖y‖² − 2 x·y, in sklearn's order
            if gram:
                D = Y @ Y.T  # (the pairwise path: Y is float64)
            elif Y.dtype == np.float64:
                D = Q @ Y.T
            else:  # float32 training points: a tile at a time in float64
                D = np.empty((len(Q), len(Y)))
                step = max(1, _TILE_BYTES // (8 * Y.shape[1]))
                for start in range(0, len(Y), step):
                    tile = Y[start : start + step].astype(np.float64)
                    np.matmul(Q, tile.T, out=D[:, start : start + step])
            D *= -2
            if heap not in self._sq_norms:
                self._sq_norms[heap] = _squared_norms(Y, heap)
            D += (self._sq_norms[heap] if gram else _squared_norms(Q, heap))[:, None]
            D += self._sq_norms[heap][None, :]
            np.maximum(D, 0, out=D)
            return D
        if self.metric == "manhattan":  # Σ_f |x_f − y_f|, one feature at a time
            D = np.zeros((len(Q), len(Y)))
            # sklearn's float32 heap subtracts in float32 and sums in float64
            diff = np.float32 if self._fit_dtype == np.float32 and heap else np.float64
            buffer = np.empty((len(Q), min(_TILE, len(Y))), diff)
            for start in range(0, len(Y), _TILE):  # a tile of training points, transposed
                YT = np.ascontiguousarray(Y[start : start + _TILE].T, dtype=np.float64)
                total, part = D[:, start : start + _TILE], buffer[:, : YT.shape[1]]
                for f in range(Q.shape[1]):
                    np.subtract(Q[:, f, None], YT[f], out=part, casting="same_kind")
                    np.abs(part, out=part)
                    total += part
                if diff is np.float32:  # and returns the sum as a float32
                    total[...] = total.astype(np.float32)
            return D
        # cosine: 1 − x̂·ŷ with x̂ = x/‖x‖ (a zero vector stays zero), clipped to [0, 2]
        if work not in self._normalized:
            self._normalized[work] = _normalize(self._X.astype(work))
        Yn = self._normalized[work]
        D = (Yn if gram else _normalize(Q.astype(work))) @ Yn.T
        D *= -1
        D += 1
        np.clip(D, 0, 2, out=D)
        return D

    # --------------------------------------------------------------------- voting

    def _votes(self, X: Any, where: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Encoded labels of the neighbours (n, k) and their weights (None: uniform)."""
        self._check_fitted(where)
        self._check_params(where)
        dist_ind = self._neighbors(X, int(self.n_neighbors), where, voting=True)
        return self._labels_and_weights(*dist_ind)

    def _labels_and_weights(
        self, dist: np.ndarray, ind: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if self.weights == "uniform":
            return self._y[ind], None
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        exact = np.isinf(w)
        rows = exact.any(axis=1)
        w[rows] = exact[rows]  # exact matches: only they vote, one vote each
        return self._y[ind], w

    def predict_proba(self, X: Any) -> np.ndarray:
        """Votes per class over all votes, (n_queries, n_classes), columns in ``classes_`` order."""
        labels, w = self._votes(X, "predict_proba")
        if w is None:
            w = np.ones(labels.shape)
        proba = np.zeros((len(labels), len(self.classes_)))
        rows = np.arange(len(labels))
        for i in range(labels.shape[1]):  # neighbour by neighbour, as sklearn sums
            proba[rows, labels[:, i]] += w[:, i]
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """The class with most votes (a tie goes to the first in ``classes_``)."""
        return self._elect(*self._votes(X, "predict"))

    def predict_each_k(self, X: Any, ks: Any) -> list[np.ndarray]:
        """``[predict(X) with n_neighbors=k for k in ks]``, the distances computed once.

        What choosing k by cross-validation needs: the queries' distances to the
        training points are the expensive part, and they do not depend on k. The
        predictions are exactly those of ``set_params(n_neighbors=k).predict(X)``.
        """
        self._check_fitted("predict_each_k")
        self._check_params("predict_each_k")
        ks = [ks] if isinstance(ks, Integral) else list(ks)
        for k in ks:
            if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
                raise ValueError(
                    f"KNeighborsClassifier.predict_each_k: each k must be a positive int, "
                    f"got {k!r} in ks={ks!r}"
                )
        if not ks:
            raise ValueError("KNeighborsClassifier.predict_each_k: ks is empty")
        found = self._neighbors_each(X, [int(k) for k in ks], "predict_each_k", voting=True)
        return [self._elect(*self._labels_and_weights(dist, ind)) for dist, ind in found]

    def _elect(self, labels: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        """The class with most (weighted) votes of each row of neighbour labels."""
        if w is None:
            counts = np.zeros((len(labels), len(self.classes_)), np.intp)
            rows = np.arange(len(labels))
            for i in range(labels.shape[1]):
                counts[rows, labels[:, i]] += 1
            return self.classes_[counts.argmax(axis=1)]
        # sklearn's weighted_mode: class by class, a strictly larger total takes over
        best = np.zeros(len(labels), np.intp)
        best_total = np.zeros(len(labels))
        for c in np.unique(labels):
            total = np.where(labels == c, w, 0).astype(np.float64).sum(axis=1)
            best = np.where(total > best_total, c, best)
            best_total = np.maximum(total, best_total)
        return self.classes_[best]

    def score(self, X: Any, y: Any) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``."""
        y = _array(y)
        predicted = self.predict(X)
        if (y.dtype.kind in "US") != (predicted.dtype.kind in "US") and y.dtype.kind != "O" \
                and predicted.dtype.kind != "O":
            raise TypeError(
                f"KNeighborsClassifier.score: y holds labels of dtype {y.dtype} but the "
                f"classifier was fitted with labels of dtype {self.classes_.dtype} "
                f"(classes {self.classes_[:5].tolist()}{' ...' if len(self.classes_) > 5 else ''}"
                "); give y the labels fit was given"
            )
        return accuracy(y, predicted)


def cross_validate_k(
    X: Any, y: Any, ks: Any, cv: Any, *, metric: str = "euclidean", weights: str = "uniform"
) -> np.ndarray:
    """Validation accuracy of each k on each fold, shape ``(len(ks), n_folds)``.

    ``scores[i, f]`` is the accuracy on fold ``f``'s validation part of
    ``KNeighborsClassifier(ks[i], metric=metric, weights=weights)`` fitted on the
    rest: ``cv`` is a splitter (``KFold``, ``StratifiedKFold``) whose
    ``split(X, y)`` yields (train indices, validation indices). Per fold the
    distances are computed once for all k (:meth:`KNeighborsClassifier.predict_each_k`).
    Choose k from the means over folds; never look at test data here.
    """
    X, y = _array(X), _array(y)
    ks = [ks] if isinstance(ks, Integral) else list(ks)
    if not ks:
        raise ValueError("cross_validate_k: ks is empty")
    columns = []
    for train, val in cv.split(X, y):
        knn = KNeighborsClassifier(max(ks), metric=metric, weights=weights).fit(X[train], y[train])
        columns.append([accuracy(y[val], p) for p in knn.predict_each_k(X[val], ks)])
    return np.array(columns, dtype=np.float64).T


# ---------------------------------------------------------------- neighbour selection


def _squared_norms(X: np.ndarray, blas: bool) -> np.ndarray:
    """``‖x‖²`` of each row in float64: a BLAS dot product per row (sklearn's ArgKmin) or
    einsum (its pairwise path)."""
    if blas:
        return np.array([np.dot(r, r) for r in (row.astype(np.float64) for row in X)])
    step = max(1, _TILE_BYTES // (8 * X.shape[1]))
    return np.concatenate(
        [
            np.einsum("ij,ij->i", tile, tile)
            for tile in (X[s : s + step].astype(np.float64) for s in range(0, len(X), step))
        ]
    )


def _normalize(X: np.ndarray) -> np.ndarray:
    """Rows over their L2 norms; rows of (near) zero norm unchanged — sklearn's ``normalize``."""
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    X /= norms[:, None]
    return X


def _argpartition_argkmin(D: np.ndarray, k: int) -> np.ndarray:
    """The k smallest of each row: argpartition, then argsort of those k (sklearn's pairwise)."""
    rows = np.arange(len(D))[:, None]
    ind = np.argpartition(D, k - 1, axis=1)[:, :k]
    return ind[rows, np.argsort(D[rows, ind])]


def _sklearn_threads() -> int:
    """The OpenMP threads scikit-learn's ArgKmin uses now: asked of scikit-learn if this
    process has loaded it (its ``_openmp_effective_n_threads``, which follows
    ``omp_set_num_threads`` calls, e.g. ``torch.set_num_threads`` when they share one
    OpenMP runtime); else as it would count them: ``OMP_NUM_THREADS`` if set, else the
    physical cores this process may use."""
    if "sklearn" in sys.modules:
        try:
            from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

            return int(_openmp_effective_n_threads())
        except (ImportError, AttributeError):  # a scikit-learn without it: count as it would
            pass
    return _default_threads()


@lru_cache(maxsize=1)
def _default_threads() -> int:
    """scikit-learn's count without asking it: ``OMP_NUM_THREADS``, else physical cores."""
    setting = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    from joblib import cpu_count

    return max(1, cpu_count(only_physical_cores=True))


def _parallel_on_y_threads(n_queries: int, n_fit: int) -> int:
    """scikit-learn's ``strategy='auto'``: the threads of ``parallel_on_Y`` when it picks
    that strategy for these sizes, else 0 (``parallel_on_X``)."""
    threads = _sklearn_threads()
    if n_fit < n_queries or 4 * _SKLEARN_CHUNK * threads < n_queries:
        return 0
    return threads


def _heap_argkmin(D: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest of each row of ``D``, nearest first, as sklearn's ArgKmin
    (``parallel_on_X``) finds and orders them: :func:`_heap_fill`, then :func:`_heap_sort`."""
    return _heap_sort(*_heap_fill(D, k))


def _heap_argkmin_on_y(D: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest of each row of ``D`` as sklearn's ArgKmin ``parallel_on_Y`` finds
    and orders them with ``threads`` threads: the columns in blocks of 256, thread t taking
    the t-th contiguous run of blocks (OpenMP's static schedule) into heaps of its own,
    whose entries are then pushed, thread after thread and in heap order, onto fresh
    heaps (value DBL_MAX, index 0), which are sorted."""
    n_rows, n = D.shape
    block = min(n, _SKLEARN_CHUNK)
    n_blocks = -(-n // block)
    workers = min(n_blocks, threads)
    per, extra = divmod(n_blocks, workers)
    values = np.full((n_rows, k), np.finfo(np.float64).max)
    indices = np.zeros((n_rows, k), np.intp)
    for t in range(workers):
        lo = (t * per + min(t, extra)) * block
        hi = min(n, ((t + 1) * per + min(t + 1, extra)) * block)
        own_values, own_indices = _heap_fill(D[:, lo:hi], k)
        own_indices[own_indices >= 0] += lo
        for j in range(k):
            rows = np.flatnonzero(own_values[:, j] < values[:, 0])
            if rows.size:
                _heap_push(values, indices, rows, own_values[rows, j], own_indices[rows, j])
    return _heap_sort(values, indices)


def _heap_fill(D: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Max-heaps (values, indices; unsorted, in heap order) of the k smallest of each row
    of ``D``, filled as sklearn's ArgKmin fills them.

    Each row's columns are pushed in order onto a max-heap of size k (root at 0)
    that rejects a value not strictly below its root. Only a value below the
    root at the start of a block of columns can be kept, so each block first
    filters its candidates with one comparison, and then replays the pushes of
    the candidates, the i-th candidates of all rows at once. Blocks double in
    width, as the root falls, so a row has about k·log₂(n/k) candidates.
    """
    n_rows, n = D.shape
    values = np.full((n_rows, k), np.finfo(np.float64).max)
    indices = np.full((n_rows, k), -1, np.intp)
    start = 0
    while start < n:
        stop = min(n, start + max(k, start))
        rows, cols = np.nonzero(D[:, start:stop] < values[:, :1])
        if rows.size:
            counts = np.bincount(rows, minlength=n_rows)
            rank = np.arange(rows.size) - (np.cumsum(counts) - counts)[rows]
            order = np.argsort(-counts, kind="stable")  # rows with most candidates first
            position = np.empty(n_rows, np.intp)
            position[order] = np.arange(n_rows)
            m = counts.max()
            cand = np.full((n_rows, m), np.inf)
            cand_index = np.zeros((n_rows, m), np.intp)
            cand[position[rows], rank] = D[rows, cols + start]
            cand_index[position[rows], rank] = cols + start
            alive = np.searchsorted(-counts[order], -np.arange(m), side="left")  # counts > i
            for i in range(m):
                live = alive[i]
                v = cand[:live, i]
                target = order[:live]
                push = v < values[target, 0]
                if push.any():
                    _heap_push(values, indices, target[push], v[push], cand_index[:live, i][push])
        start = stop
    return values, indices


def _heap_push(
    values: np.ndarray, indices: np.ndarray, rows: np.ndarray, v: np.ndarray, j: np.ndarray
) -> None:
    """Put ``(v, j)`` at the root of the heaps ``rows`` and sift it down (sklearn's heap_push)."""
    k = values.shape[1]
    cur = np.zeros(len(rows), np.intp)
    moving = np.arange(len(rows))
    while moving.size:
        left = 2 * cur[moving] + 1
        moving, left = moving[left < k], left[left < k]
        r, c = rows[moving], cur[moving]
        right = left + 1
        lv = values[r, left]
        rv = values[r, np.minimum(right, k - 1)]
        take_left = (right >= k) | (lv >= rv)
        child = np.where(take_left, left, right)
        cv = np.where(take_left, lv, rv)
        down = cv > v[moving]
        moving, r, c, child, cv = moving[down], r[down], c[down], child[down], cv[down]
        values[r, c] = cv
        indices[r, c] = indices[r, child]
        cur[moving] = child
    values[rows, cur] = v
    indices[rows, cur] = j


def _heap_sort(values: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's simultaneous_sort of each heap: for k <= 15 an insertion sort, which is a
    stable sort; beyond, an introsort, replayed for the rows where equal values make it matter."""
    order = np.argsort(values, axis=1, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=1)
    sorted_indices = np.take_along_axis(indices, order, axis=1)
    if values.shape[1] > 15:
        for r in np.flatnonzero((np.diff(sorted_values, axis=1) == 0).any(axis=1)):
            v, ix = values[r].tolist(), indices[r].tolist()  # in heap order
            _introsort(v, ix)
            sorted_values[r], sorted_indices[r] = v, ix
    return sorted_values, sorted_indices


def _introsort(v: list, ix: list) -> None:
    """sklearn.utils._sorting.simultaneous_sort (introsort_2way), in place, on lists."""
    _introsort_2way(v, ix, 0, len(v), 2 * int(math.log2(len(v))))


def _swap(v: list, ix: list, i: int, j: int) -> None:
    v[i], v[j] = v[j], v[i]
    ix[i], ix[j] = ix[j], ix[i]


def _introsort_2way(v: list, ix: list, lo: int, n: int, maxd: int) -> None:
    while n > 15:
        if maxd <= 0:
            _heapsort(v, ix, lo, n)
            return
        maxd -= 1
        # median of three: smallest to the front, median (the pivot) to the end
        mid, last = lo + n // 2, lo + n - 1
        if v[lo] > v[last]:
            _swap(v, ix, lo, last)
        if v[last] > v[mid]:
            _swap(v, ix, last, mid)
            if v[lo] > v[last]:
                _swap(v, ix, lo, last)
        pivot = v[last]
        i, j = 1, n - 2
        while True:
            while i <= j and v[lo + i] < pivot:
                i += 1
            while i <= j and v[lo + j] > pivot:
                j -= 1
            if i >= j:
                break
            _swap(v, ix, lo + i, lo + j)
            i += 1
            j -= 1
        _swap(v, ix, lo + i, last)
        _introsort_2way(v, ix, lo, i, maxd)
        lo, n = lo + i + 1, n - i - 1
    for a in range(lo + 1, lo + n):  # insertion sort
        value, index = v[a], ix[a]
        b = a
        while b > lo and v[b - 1] > value:
            v[b], ix[b] = v[b - 1], ix[b - 1]
            b -= 1
        v[b], ix[b] = value, index


def _heapsort(v: list, ix: list, lo: int, n: int) -> None:
    def sift_down(start: int, end: int) -> None:
        root = start
        while True:
            child = 2 * root + 1
            largest = root
            if child < end and v[lo + largest] < v[lo + child]:
                largest = child
            if child + 1 < end and v[lo + largest] < v[lo + child + 1]:
                largest = child + 1
            if largest == root:
                return
            _swap(v, ix, lo + root, lo + largest)
            root = largest

    for start in range((n - 2) // 2, -1, -1):
        sift_down(start, n)
    for end in range(n - 1, 0, -1):
        _swap(v, ix, lo, lo + end)
        sift_down(0, end)
