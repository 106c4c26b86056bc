"""chainrule.metrics against scikit-learn on random labels."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm

import chainrule as cr
from chainrule import metrics

AVERAGES = ["macro", "micro", "weighted", None]
SK = {"precision": skm.precision_score, "recall": skm.recall_score, "f1_score": skm.f1_score}


def _sk(name, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SK[name](*args, **kwargs)


def _check(name, t, p, **kwargs):
    ours = getattr(metrics, name)(t, p, **kwargs)
    theirs = _sk(name, t, p, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    if kwargs.get("average", "binary") is not None:
        assert isinstance(ours, float)


@pytest.mark.parametrize("name", list(SK))
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("seed", range(6))
def test_multiclass_equals_sklearn(name, average, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    t = rng.integers(0, k, size=40)
    p = np.where(rng.random(40) < 0.5, t, rng.integers(0, k + 1, size=40))  # extra label k
    for zero_division in (0, 1):
        _check(name, t, p, average=average, zero_division=zero_division)


@pytest.mark.parametrize("name", list(SK))
@pytest.mark.parametrize("average", ["binary", *AVERAGES])
@pytest.mark.parametrize("seed", range(4))
def test_binary_equals_sklearn(name, average, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, size=30)
    p = rng.integers(0, 2, size=30)
    _check(name, t, p, average=average)
    if average == "binary":
        _check(name, t, p, average=average, pos_label=0)
        _check(name, 2 * t + 3, 2 * p + 3, average=average, pos_label=5)


@pytest.mark.parametrize("name", list(SK))
@pytest.mark.parametrize("average", ["binary", *AVERAGES])
def test_zero_division_like_sklearn(name, average):
    # class 1 is never predicted, class 2 never occurs in y_true
    t = np.array([0, 0, 1, 1, 0])
    p = np.array([0, 2, 0, 0, 2])
    for zero_division in (0, 1):
        if average == "binary":
            continue  # three labels: binary is an error (tested below)
        _check(name, t, p, average=average, zero_division=zero_division)
    # nothing positive at all
    _check(name, np.zeros(4, int), np.zeros(4, int), average="binary", zero_division=0)
    _check(name, np.zeros(4, int), np.zeros(4, int), average="binary", zero_division=1)


def test_known_values():
    t = [0, 1, 1, 1, 0, 0, 1]
    p = [0, 1, 0, 1, 1, 0, 1]
    # tp=3, fp=1, fn=1
    assert metrics.precision(t, p) == 0.75
    assert metrics.recall(t, p) == 0.75
    assert metrics.f1_score(t, p) == 0.75
    assert metrics.accuracy(t, p) == 5 / 7
    assert metrics.precision_score(t, p) == 0.75 and metrics.recall_score(t, p) == 0.75
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), [[2, 1], [1, 3]])


@pytest.mark.parametrize("seed", range(4))
def test_accuracy_and_confusion_matrix_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 5, size=50)
    p = rng.integers(0, 5, size=50)
    assert metrics.accuracy(t, p) == skm.accuracy_score(t, p)
    cm = metrics.confusion_matrix(t, p)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, skm.confusion_matrix(t, p))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(t, p, num_classes=7), skm.confusion_matrix(t, p, labels=range(7))
    )
    # non-contiguous labels: sorted union, as sklearn
    np.testing.assert_array_equal(
        metrics.confusion_matrix(t * 3, p * 3), skm.confusion_matrix(t * 3, p * 3)
    )


def test_string_labels():
    t = np.array(["cat", "dog", "dog", "bird"])
    p = np.array(["cat", "cat", "dog", "dog"])
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), skm.confusion_matrix(t, p))
    _check("f1_score", t, p, average="macro")
    spam_t = np.array(["spam", "ham", "spam", "spam", "ham"])
    spam_p = np.array(["spam", "spam", "ham", "spam", "ham"])
    for name in SK:
        _check(name, spam_t, spam_p, average="binary", pos_label="spam")


def test_tensors_and_scores_are_accepted():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(30, 4))
    t = rng.integers(0, 4, size=30)
    labels = logits.argmax(1)
    assert metrics.accuracy(cr.tensor(t), cr.tensor(logits)) == skm.accuracy_score(t, labels)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(t, cr.tensor(logits), num_classes=4),
        skm.confusion_matrix(t, labels, labels=range(4)),
    )
    np.testing.assert_allclose(
        metrics.f1_score(cr.tensor(t), logits, average="macro"),
        _sk("f1_score", t, labels, average="macro"),
    )


def test_metric_errors():
    with pytest.raises(ValueError, match=r"different lengths \(3 and 2\)"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])
    with pytest.raises(ValueError, match=r"one score column; threshold"):
        metrics.accuracy([0, 1], np.array([[0.2], [0.9]]))
    with pytest.raises(ValueError, match=r"y_true must be 1-D labels, got shape \(2, 2\)"):
        metrics.accuracy(np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="average='binary' needs at most 2 classes, got 3"):
        metrics.precision([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"pos_label=2 is not a valid label.*\[0, 1\]"):
        metrics.recall([0, 1], [1, 0], pos_label=2)
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.f1_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division must be 0 or 1"):
        metrics.f1_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\).*from 0 to 3"):
        metrics.confusion_matrix([0, 3], [1, 2], num_classes=3)
