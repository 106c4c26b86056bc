"""Verification metrics (chainrule.metrics) against scikit-learn, with tied scores and both
label conventions; the equal error rate and the validation threshold against hand-checked
numbers and independent computations."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from scipy.optimize import brentq

import chainrule as cr
from chainrule.metrics import (
    best_threshold,
    equal_error_rate,
    roc_auc_score,
    roc_curve,
    threshold_accuracy,
)


def random_problems(seed, count=60):
    """(labels, scores): sizes 2..80, scores with many ties or none, +1/-1 or 1/0 labels."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        n = int(rng.integers(2, 81))
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]  # both classes
        y = rng.permutation(y)
        if k % 3 == 0:
            score = rng.standard_normal(n) + y  # no ties
        elif k % 3 == 1:
            score = rng.integers(0, 5, n) / 4.0  # heavy ties
        else:
            score = np.round(rng.random(n) + 0.3 * y, 1)  # some ties
        yield (2 * y - 1 if k % 2 else y), score


@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_equals_sklearn(drop_intermediate):
    for y, score in random_problems(0):
        ours = roc_curve(y, score, drop_intermediate=drop_intermediate)
        theirs = skm.roc_curve(y, score, drop_intermediate=drop_intermediate)
        for name, a, b in zip(("fpr", "tpr", "thresholds"), ours, theirs):
            assert a.dtype == np.float64
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_roc_curve_by_hand():
    fpr, tpr, thresholds = roc_curve([1, -1, 1, -1], [0.8, 0.8, 0.6, 0.1])
    # a tie (0.8) moves diagonally; thresholds start at inf, as sklearn >= 1.3
    np.testing.assert_array_equal(fpr, [0, 0.5, 0.5, 1])
    np.testing.assert_array_equal(tpr, [0, 0.5, 1, 1])
    np.testing.assert_array_equal(thresholds, [np.inf, 0.8, 0.6, 0.1])


def test_roc_auc_score_equals_sklearn_with_ties():
    for y, score in random_problems(1, count=90):
        assert roc_auc_score(y, score) == pytest.approx(skm.roc_auc_score(y, score),
                                                        rel=1e-14, abs=1e-15)
    # a tie between a positive and a negative counts one half
    assert roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.1]) == 0.875


def test_inputs_may_be_tensors_and_lists():
    y, score = [1, -1, 1, -1, 1], [0.3, 0.2, 0.9, 0.5, 0.5]
    assert roc_auc_score(cr.tensor(y), cr.tensor(score)) == \
        pytest.approx(skm.roc_auc_score(y, score), rel=1e-7)  # float32 scores
    assert roc_auc_score(y, score) == skm.roc_auc_score(y, score)


def test_equal_error_rate_by_hand():
    # sorted scores .9 .8 .6 .5 .1 with labels 1 1 0 1 0 (P = 3, N = 2): the curve
    # (0,0) (0,⅓) (0,⅔) (½,⅔) (½,1) (1,1); FPR + TPR - 1 turns from -⅓ to ⅙ between
    # thresholds .8 and .6, at α = ⅔: EER = ⅔·½ = ⅓, threshold .8 + ⅔(.6 - .8)
    eer, threshold = equal_error_rate([1, 1, 1, 0, 0], [0.9, 0.8, 0.5, 0.6, 0.1])
    assert eer == pytest.approx(1 / 3, abs=1e-15)
    assert threshold == pytest.approx(0.8 - 0.2 * 2 / 3, abs=1e-15)
    # the crossing exactly at a point of the curve: that point's rate and threshold
    assert equal_error_rate([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1]) == (0.5, 0.6)
    # perfect separation: EER 0, reached at the lowest positive score
    assert equal_error_rate([-1, 1, 1], [0.1, 0.7, 0.9]) == (0.0, 0.7)


def gap(v, s, fpr, tpr):
    """FPR + TPR - 1 at the point v of the curve, its points joined by straight lines."""
    return np.interp(v, s, fpr) + np.interp(v, s, tpr) - 1


def test_equal_error_rate_equals_a_root_of_the_interpolated_curve():
    """Solve FPR(s) + TPR(s) = 1 along the curve s ∈ [0, K] (points joined linearly)
    with Brent's method, from sklearn's full ROC curve."""
    for y, score in random_problems(2, count=40):
        fpr, tpr, thresholds = skm.roc_curve(y, score, drop_intermediate=False)
        s = np.arange(len(fpr), dtype=np.float64)
        root = brentq(gap, 0, len(fpr) - 1, args=(s, fpr, tpr), xtol=1e-14)
        eer, threshold = equal_error_rate(y, score)
        assert eer == pytest.approx(np.interp(root, s, fpr), abs=1e-9)
        assert eer == pytest.approx(1 - np.interp(root, s, tpr), abs=1e-9)
        # the thresholds interpolated alike, except on the first segment (from inf)
        expected = thresholds[1] if root <= 1 else np.interp(root, s[1:], thresholds[1:])
        assert threshold == pytest.approx(expected, abs=1e-8)


def test_best_threshold_by_hand():
    y, score = [1, 1, 1, 0, 0], [0.9, 0.8, 0.5, 0.6, 0.1]
    # accepting >= .8 and >= .5 are both right 4 times in 5; the higher one wins, and
    # the threshold goes halfway to the next score: (.8 + .6) / 2
    assert best_threshold(y, score) == pytest.approx(0.7)
    assert threshold_accuracy(y, score, 0.7) == 0.8
    assert best_threshold([1, 1, 1], [0.2, 0.5, 0.4]) == 0.2  # accept all
    assert best_threshold([-1, -1], [0.2, 0.5]) == np.inf  # accept none


def test_best_threshold_reaches_the_best_accuracy_of_any_threshold():
    for y, score in random_problems(3, count=40):
        candidates = np.r_[np.unique(score), np.inf]
        best = max(threshold_accuracy(y, score, c) for c in candidates)
        threshold = best_threshold(y, score)
        assert threshold_accuracy(y, score, threshold) == best
        expected = skm.accuracy_score(np.asarray(y) == 1, np.asarray(score) >= threshold)
        assert threshold_accuracy(y, score, threshold) == expected


def test_one_class():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = skm.roc_curve([1, 1, 1], [0.2, 0.4, 0.3])
    with pytest.warns(RuntimeWarning, match="no negative label"):
        ours = roc_curve([1, 1, 1], [0.2, 0.4, 0.3])
    for a, b in zip(ours, expected):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="roc_auc_score: y_true holds only positive labels"):
        roc_auc_score([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="equal_error_rate: y_true holds only negative"):
        equal_error_rate([0, 0], [0.1, 0.2])


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"labels in \{-1, \+1\} or \{0, 1\} .* got \[0, 2\]"):
        roc_curve([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"got \[-1, 0, 1\]"):
        roc_auc_score([-1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"different lengths \(3 and 2\)"):
        best_threshold([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="y_score holds 1 non-finite values"):
        equal_error_rate([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match=r"must be 1-D, got shapes \(2,\) and \(2, 1\)"):
        threshold_accuracy([0, 1], [[0.1], [0.2]], 0.5)
    with pytest.raises(TypeError, match="y_score must hold numbers"):
        roc_curve([0, 1], ["a", "b"])


def test_huge_scores_do_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        # (a + b) / 2 was inf, which accepted no pair: accuracy 0.5 instead of 1
        threshold = best_threshold([1, 0], [1.7e308, 1.6e308])
        assert 1.6e308 < threshold <= 1.7e308
        assert threshold == pytest.approx(1.65e308, rel=1e-15)
        assert threshold_accuracy([1, 0], [1.7e308, 1.6e308], threshold) == 1.0
        assert best_threshold([0, 1], [-1.7e308, 1.7e308]) == 0.0
        # the EER crosses between 1.6e308 and -1.6e308 at α = 1/3: low - high was -inf
        y = [1, 0, 1, 0, 0]
        score = np.array([1.7e308, 1.6e308, -1.6e308, -1.65e308, -1.7e308])
        eer, threshold = equal_error_rate(y, score)
        assert eer == pytest.approx(1 / 3, rel=1e-15)
        assert threshold == pytest.approx(1.6e308 / 3, rel=1e-12)
        assert threshold == pytest.approx(equal_error_rate(y, score / 1e300)[1] * 1e300,
                                          rel=1e-12)
        # the same curve as for the scores scaled down (the tie groups were found by np.diff)
        fpr, tpr, thresholds = roc_curve(y, score)
        small = roc_curve(y, score / 1e300)
        np.testing.assert_array_equal(fpr, small[0])
        np.testing.assert_array_equal(tpr, small[1])
        np.testing.assert_array_equal(thresholds, [np.inf, *np.delete(score, 3)])  # collinear
        np.testing.assert_array_equal(fpr, [0, 0, 1 / 3, 1 / 3, 1])
        np.testing.assert_array_equal(tpr, [0, 0.5, 0.5, 1, 1])
        assert roc_auc_score(y, score) == pytest.approx(5 / 6, rel=1e-15)


def test_threshold_accuracy_checks_the_threshold():
    y, score = [1, 0, 1], [0.9, 0.2, 0.4]
    with pytest.raises(ValueError, match=r"^threshold_accuracy: threshold is nan; give a "
                                         r"number"):
        threshold_accuracy(y, score, float("nan"))
    with pytest.raises(TypeError, match=r"^threshold_accuracy: threshold must be a real "
                                        r"number, got '0.5' \(str\)"):
        threshold_accuracy(y, score, "0.5")
    for flag in (True, np.True_):
        with pytest.raises(TypeError, match=r"^threshold_accuracy: threshold must be a real "
                                            r"number, got .*True"):
            threshold_accuracy(y, score, flag)
    with pytest.raises(TypeError, match=r"got array\(\[0.5\]\) \(ndarray\)"):
        threshold_accuracy(y, score, np.array([0.5]))
    # numbers of any kind, and ±inf (best_threshold's "accept none"), are thresholds
    assert threshold_accuracy(y, score, 0.3) == 1.0
    assert threshold_accuracy(y, score, 1) == 1 / 3
    assert threshold_accuracy(y, score, np.float32(0.5)) == 2 / 3
    assert threshold_accuracy(y, score, np.int64(0)) == 2 / 3
    assert threshold_accuracy(y, score, np.inf) == 1 / 3
    assert threshold_accuracy(y, score, -np.inf) == 2 / 3
    assert threshold_accuracy(y, score, np.array(0.3)) == 1.0  # a 0-d array, as np.mean gives
