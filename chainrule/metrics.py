"""Classification metrics with scikit-learn's semantics and argument order ``(y_true, y_pred)``.

Inputs are arrays, lists or Tensors. ``y_pred`` may be labels (1-D) or scores of
shape ``(N, C)`` with ``C >= 2`` (logits or probabilities), which are reduced to
labels by ``argmax`` over the last axis (so the label set is ``0..C-1``). Binary
probabilities of shape ``(N,)`` or ``(N, 1)`` are *not* thresholded: compare them
with your threshold first.

Everything is computed from the confusion matrix, itself one ``np.bincount``:
with ``tp_c`` the diagonal, ``fp_c`` the column sums minus ``tp_c`` and ``fn_c``
the row sums minus ``tp_c``,

    precision_c = tp_c / (tp_c + fp_c)      recall_c = tp_c / (tp_c + fn_c)
    F1_c = 2 tp_c / (2 tp_c + fp_c + fn_c)

and a 0/0 is ``zero_division`` (0 by default, as sklearn's ``zero_division=0``).

``average`` of precision, recall and F1: ``'binary'`` scores the class
``pos_label`` (at most two classes); ``'macro'`` is the unweighted mean over the
classes present in ``y_true`` or ``y_pred``; ``'weighted'`` weights each class by
its support (true count); ``'micro'`` pools ``tp, fp, fn`` over the classes
first; ``None`` returns the per-class array in sorted label order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.tensor import Tensor

_AVERAGES = ("binary", "macro", "micro", "weighted", None)


def _labels_of(y: Any, name: str, fn: str) -> np.ndarray:
    array = y.data if isinstance(y, Tensor) else np.asarray(y)
    if array.ndim == 2 and name == "y_pred":
        if array.shape[1] < 2:
            raise ValueError(
                f"{fn}: y_pred of shape {array.shape} has one score column; threshold binary "
                "probabilities into labels first"
            )
        return array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(
            f"{fn}: {name} must be 1-D labels"
            + (" or 2-D scores (N, C)" if name == "y_pred" else "")
            + f", got shape {array.shape}"
        )
    return array


def _pair(y_true: Any, y_pred: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels_of(y_true, "y_true", fn), _labels_of(y_pred, "y_pred", fn)
    if len(t) != len(p):
        raise ValueError(
            f"{fn}: y_true and y_pred have different lengths ({len(t)} and {len(p)})"
        )
    if len(t) == 0:
        raise ValueError(f"{fn}: y_true and y_pred are empty")
    return t, p


def _confusion(
    t: np.ndarray, p: np.ndarray, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, matrix) with rows = true label, columns = predicted label."""
    if labels is None:
        labels, codes = np.unique(np.concatenate([t, p]), return_inverse=True)
        ti, pi = codes[: len(t)], codes[len(t) :]
    else:
        ti, pi = t.astype(np.int64), p.astype(np.int64)
    k = len(labels)
    matrix = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    return labels, matrix


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = number of samples of true class ``i`` predicted as class ``j``.

    With ``num_classes`` the labels must be ints in ``0..num_classes-1`` and the matrix
    is ``num_classes × num_classes``; without, the classes are the sorted union of the
    labels in ``y_true`` and ``y_pred`` (as ``sklearn.metrics.confusion_matrix``).
    Returns an int64 array.
    """
    t, p = _pair(y_true, y_pred, "confusion_matrix")
    labels = None
    if num_classes is not None:
        if t.dtype.kind not in "iub" or p.dtype.kind not in "iub":
            raise TypeError(
                "confusion_matrix: with num_classes the labels must be ints, got dtypes "
                f"{t.dtype} and {p.dtype}"
            )
        low, high = min(t.min(), p.min()), max(t.max(), p.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"confusion_matrix: labels must lie in [0, {num_classes}) for "
                f"num_classes={num_classes}, got values from {low} to {high}"
            )
        labels = np.arange(num_classes)
    return _confusion(t, p, labels)[1].astype(np.int64)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true label."""
    t, p = _pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def _divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, float(zero_division), num / safe)


def _scores(
    kind: str,
    y_true: Any,
    y_pred: Any,
    average: str | None,
    pos_label: Any,
    zero_division: float,
) -> float | np.ndarray:
    if average not in _AVERAGES:
        raise ValueError(f"{kind}: average must be one of {list(_AVERAGES)}, got {average!r}")
    if zero_division not in (0, 1):
        raise ValueError(f"{kind}: zero_division must be 0 or 1, got {zero_division!r}")
    labels, cm = _confusion(*_pair(y_true, y_pred, kind))
    tp = np.diag(cm)
    fp, fn = cm.sum(0) - tp, cm.sum(1) - tp
    support = cm.sum(1)
    if average == "binary":
        if len(labels) > 2:
            raise ValueError(
                f"{kind}: average='binary' needs at most 2 classes, got {len(labels)} "
                f"({labels.tolist()}); choose average='macro', 'micro' or 'weighted'"
            )
        match = np.flatnonzero(labels == pos_label)
        if len(match) == 0:
            if len(labels) == 2:
                raise ValueError(
                    f"{kind}: pos_label={pos_label!r} is not a valid label; it should be one "
                    f"of {labels.tolist()}"
                )
            tp = fp = fn = np.zeros(1, np.int64)  # the positive class never occurs
        else:
            tp, fp, fn = tp[match], fp[match], fn[match]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    if kind == "precision":
        per_class = _divide(tp, tp + fp, zero_division)
    elif kind == "recall":
        per_class = _divide(tp, tp + fn, zero_division)
    else:
        per_class = _divide(2 * tp, 2 * tp + fp + fn, zero_division)
    if average is None:
        return per_class
    if average == "weighted":
        if support.sum() == 0:
            return float(zero_division)
        return float(np.average(per_class, weights=support))
    return float(per_class.mean())


def precision(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0,
) -> float | np.ndarray:
    """Precision ``tp / (tp + fp)``
    (as ``sklearn.metrics.precision_score``).
    See the module docstring for ``average`` and ``zero_division``.
    """
    return _scores("precision", y_true, y_pred, average, pos_label, zero_division)


def recall(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0,
) -> float | np.ndarray:
    """Recall ``tp / (tp + fn)``
    (as ``sklearn.metrics.recall_score``).
    See the module docstring for ``average`` and ``zero_division``.
    """
    return _scores("recall", y_true, y_pred, average, pos_label, zero_division)


def f1_score(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0,
) -> float | np.ndarray:
    """F1 ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall
    (as ``sklearn.metrics.f1_score``).
    See the module docstring for ``average`` and ``zero_division``.
    """
    return _scores("f1_score", y_true, y_pred, average, pos_label, zero_division)


# scikit-learn's names
precision_score = precision
recall_score = recall
