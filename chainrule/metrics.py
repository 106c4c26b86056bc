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

Verification (a score per pair, higher meaning "more likely genuine"; labels +1/-1
or 1/0): :func:`roc_curve` and :func:`roc_auc_score` (scikit-learn's, ties
included), :func:`equal_error_rate`, and :func:`best_threshold` /
:func:`threshold_accuracy` for the rule "genuine when score ≥ threshold".
"""

from __future__ import annotations

import warnings
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


# ------------------------------------------------------------------ verification
def _binary(y_true: Any, y_score: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    """(positives as bools, scores as float64) of labels in {-1, +1} or {0, 1}."""
    t = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    s = y_score.data if isinstance(y_score, Tensor) else np.asarray(y_score)
    if t.ndim != 1 or s.ndim != 1:
        raise ValueError(f"{fn}: y_true and y_score must be 1-D, got shapes {t.shape} and "
                         f"{s.shape}")
    if len(t) != len(s):
        raise ValueError(f"{fn}: y_true and y_score have different lengths ({len(t)} and "
                         f"{len(s)})")
    if len(t) == 0:
        raise ValueError(f"{fn}: y_true and y_score are empty")
    if s.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: y_score must hold numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError(f"{fn}: y_score holds {np.sum(~np.isfinite(s))} non-finite values")
    labels = set(np.unique(t).tolist())
    if not (labels <= {-1, 1} or labels <= {0, 1}):
        raise ValueError(f"{fn}: y_true must hold labels in {{-1, +1}} or {{0, 1}} (1 is the "
                         f"positive, genuine class), got {sorted(labels)}")
    return t == 1, s


def _counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, ...]:
    """(fps, tps, thresholds): false and true positives when accepting score ≥ threshold,
    for each distinct score as threshold, highest first (scikit-learn's algorithm)."""
    order = np.argsort(-score, kind="stable")
    score, positive = score[order], positive[order]
    # end of each tie group (compared, not subtracted: a difference of huge scores overflows)
    last = np.r_[np.flatnonzero(score[1:] != score[:-1]), len(score) - 1]
    tps = np.cumsum(positive, dtype=np.float64)[last]
    fps = 1 + last - tps
    return fps, tps, score[last]


def roc_curve(y_true: Any, y_score: Any, drop_intermediate: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve ``(fpr, tpr, thresholds)``, equal to ``sklearn.metrics.roc_curve``.

    ``thresholds`` decrease: the distinct scores, preceded by ``inf``; point ``k`` is
    the rule "positive when score ≥ thresholds[k]", with

        tpr_k = tp_k / P,   fpr_k = fp_k / N   (P positives, N negatives)

    so the curve runs from (0, 0) (threshold ``inf``) to (1, 1). Tied scores move the
    curve diagonally in one step. ``drop_intermediate`` drops the points on a straight
    line between their neighbours (invisible on the plot; the AUC is unchanged). With
    no positive (negative) label, tpr (fpr) is nan and a RuntimeWarning says why.
    """
    positive, score = _binary(y_true, y_score, "roc_curve")
    fps, tps, thresholds = _counts(positive, score)
    if drop_intermediate and len(fps) > 2:
        corner = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    rates = []
    for count, what in ((fps, "negative"), (tps, "positive")):
        if count[-1] <= 0:
            warnings.warn(f"roc_curve: y_true holds no {what} label; its rate is undefined "
                          f"(nan)", RuntimeWarning, stacklevel=2)
            rates.append(np.full(count.shape, np.nan))
        else:
            rates.append(count / count[-1])
    return rates[0], rates[1], thresholds


def _both_classes(positive: np.ndarray, fn: str) -> None:
    """Refuse labels of one class, for which the metric ``fn`` is undefined."""
    if positive.all() or not positive.any():
        which = "positive" if positive.all() else "negative"
        raise ValueError(f"{fn}: y_true holds only {which} labels; it is undefined without "
                         f"both classes (genuine and impostor pairs)")


def roc_auc_score(y_true: Any, y_score: Any) -> float:
    """The area under the ROC curve, equal to ``sklearn.metrics.roc_auc_score`` (binary):
    the trapezoidal rule on :func:`roc_curve`,

        AUC = Σ_k (fpr_k - fpr_(k-1)) (tpr_k + tpr_(k-1)) / 2

    which is the probability that a random positive scores above a random negative, a
    tie counting ½. Raises ValueError when y_true holds one class only (scikit-learn
    warns and returns nan).
    """
    positive, score = _binary(y_true, y_score, "roc_auc_score")
    _both_classes(positive, "roc_auc_score")
    fpr, tpr, _ = roc_curve(positive.astype(np.int64), score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def equal_error_rate(y_true: Any, y_score: Any) -> tuple[float, float]:
    """``(eer, threshold)``: where the false-acceptance rate equals the false-rejection
    rate, FPR = FNR = 1 - TPR, on the ROC curve joined by straight lines.

    Along the curve of every distinct threshold (highest first), g = FPR - FNR rises
    from -1 to +1; between the last point k-1 with g < 0 and the first point k with
    g ≥ 0, at the fraction α = -g_(k-1) / (g_k - g_(k-1)) of the segment,

        eer = fpr_(k-1) + α (fpr_k - fpr_(k-1)) = 1 - [tpr_(k-1) + α (tpr_k - tpr_(k-1))]
        threshold = t_(k-1) + α (t_k - t_(k-1))     (t_k itself when t_(k-1) = inf)

    (the same α interpolates the thresholds; no single threshold need reach the
    interpolated point exactly). Labels +1/-1 or 1/0; raises ValueError for one class.
    """
    positive, score = _binary(y_true, y_score, "equal_error_rate")
    _both_classes(positive, "equal_error_rate")
    fps, tps, thresholds = _counts(positive, score)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    thresholds = np.r_[np.inf, thresholds]
    gap = fpr - (1 - tpr)
    k = int(np.argmax(gap >= 0))  # gap[0] = -1 < 0 <= gap[-1] = 1, so 1 <= k
    alpha = -gap[k - 1] / (gap[k] - gap[k - 1])
    eer = fpr[k - 1] + alpha * (fpr[k] - fpr[k - 1])
    low, high = thresholds[k], thresholds[k - 1]
    with np.errstate(over="ignore"):
        step = low - high  # -inf when huge scores of both signs overflow it
    if np.isinf(high):
        threshold = low
    elif np.isfinite(step):
        threshold = high + alpha * step
    else:  # the same point as a weighted mean, whose terms cannot overflow
        threshold = (1 - alpha) * high + alpha * low
    return float(eer), float(threshold)


def threshold_accuracy(y_true: Any, y_score: Any, threshold: float) -> float:
    """The accuracy of the rule "positive (genuine) when score ≥ threshold".

    ``threshold`` is a real number; ``inf`` (accept none, as :func:`best_threshold` may
    return) and ``-inf`` (accept all) are allowed, NaN is not.
    """
    if isinstance(threshold, np.ndarray) and threshold.ndim == 0:
        threshold = threshold[()]  # a 0-d array, as NumPy reductions give
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(
        threshold, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"threshold_accuracy: threshold must be a real number, got "
                        f"{threshold!r} ({type(threshold).__name__})")
    if np.isnan(threshold):
        raise ValueError("threshold_accuracy: threshold is nan; give a number (inf accepts "
                         "no pair, -inf every pair)")
    positive, score = _binary(y_true, y_score, "threshold_accuracy")
    return float(np.mean((score >= threshold) == positive))


def best_threshold(y_true: Any, y_score: Any) -> float:
    """The threshold of highest :func:`threshold_accuracy` on these (validation) pairs.

    Accepting the scores ≥ s_k (s_1 > s_2 > ... the distinct scores) is correct for
    tp_k + (N - fp_k) pairs; among the best k (the highest threshold on ties) the
    threshold returned lies halfway between the lowest accepted score s_k and the
    highest rejected one s_(k+1), so it generalises as a margin does. Accepting none is
    ``inf``; accepting all is the lowest score.
    """
    positive, score = _binary(y_true, y_score, "best_threshold")
    fps, tps, scores = _counts(positive, score)
    correct = np.r_[0.0, tps] + (fps[-1] - np.r_[0.0, fps])
    k = int(np.argmax(correct))  # 0: accept none; k: accept the scores >= scores[k - 1]
    if k == 0:
        return float(np.inf)
    if k == len(scores):
        return float(scores[-1])
    middle = scores[k - 1] / 2 + scores[k] / 2  # (a + b) / 2 overflows for huge scores
    return float(middle if middle > scores[k] else scores[k - 1])
