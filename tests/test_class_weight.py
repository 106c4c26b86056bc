"""compute_class_weight / compute_sample_weight (scikit-learn is the oracle) and their use
as the losses' weight / pos_weight."""

import numpy as np
import pytest
import sklearn.utils.class_weight as skw
import torch

import chainrule as cr
from chainrule import nn
from chainrule.data import compute_class_weight, compute_sample_weight

LABELS = [
    np.array([1, 1, 1, 1, 0, 0]),
    np.random.default_rng(0).choice(5, 200, p=[0.5, 0.2, 0.15, 0.1, 0.05]),
    np.array([3, 7, 7, 9, 9, 9, 9]),  # non-contiguous labels
    np.array(["cat", "dog", "dog", "dog", "emu"]),
]


@pytest.mark.parametrize("y", LABELS)
def test_balanced_equals_sklearn(y):
    classes = np.unique(y)
    ours = compute_class_weight("balanced", classes=classes, y=y)
    theirs = skw.compute_class_weight("balanced", classes=classes, y=y)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    # the formula: n_samples / (n_classes * bincount)
    counts = np.array([np.sum(y == c) for c in classes])
    np.testing.assert_allclose(ours, len(y) / (len(classes) * counts), rtol=1e-15)
    # classes in another order give the weights in that order
    np.testing.assert_allclose(compute_class_weight("balanced", classes=classes[::-1], y=y),
                               ours[::-1], rtol=1e-15)
    np.testing.assert_allclose(compute_sample_weight("balanced", y),
                               skw.compute_sample_weight("balanced", y), rtol=1e-15)


def test_balanced_with_sample_weight_equals_sklearn():
    y = LABELS[1]
    sw = np.random.default_rng(1).random(len(y))
    classes = np.unique(y)
    np.testing.assert_allclose(
        compute_class_weight("balanced", classes=classes, y=y, sample_weight=sw),
        skw.compute_class_weight("balanced", classes=classes, y=y, sample_weight=sw),
        rtol=1e-14,
    )


def test_dict_and_none_equal_sklearn():
    y = np.array([0, 1, 1, 2, 2, 2])
    classes = np.array([0, 1, 2])
    for cw in ({0: 2.0, 1: 0.5, 2: 1.0}, {1: 3.0}, None, {}):
        np.testing.assert_array_equal(compute_class_weight(cw, classes=classes, y=y),
                                      skw.compute_class_weight(cw, classes=classes, y=y))
        np.testing.assert_array_equal(compute_sample_weight(cw, y),
                                      skw.compute_sample_weight(cw, y))
    # Tensors and lists are accepted
    np.testing.assert_array_equal(
        compute_class_weight("balanced", classes=[0, 1, 2], y=cr.tensor(y)),
        skw.compute_class_weight("balanced", classes=classes, y=y))


def test_errors_as_sklearn():
    y = np.array([0, 1, 1, 2])
    with pytest.raises(ValueError, match="classes should include all valid labels"):
        skw.compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    with pytest.raises(ValueError, match=r"classes should include all valid labels .* \[2\]"):
        compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    with pytest.raises(ValueError, match="classes should have valid labels that are in y"):
        skw.compute_class_weight("balanced", classes=np.array([0, 1, 2, 3]), y=y)
    with pytest.raises(ValueError, match=r"classes should have valid labels that are in y; "
                                         r"\[3\] never occur"):
        compute_class_weight("balanced", classes=np.array([0, 1, 2, 3]), y=y)
    with pytest.raises(ValueError, match=r"The classes, \[1, 2\], are not in class_weight"):
        skw.compute_class_weight({0: 1.0, 5: 2.0}, classes=np.array([0, 1, 2]), y=y)
    with pytest.raises(ValueError, match=r"The classes, \[1, 2\], are not in class_weight"):
        compute_class_weight({0: 1.0, 5: 2.0}, classes=np.array([0, 1, 2]), y=y)
    with pytest.raises(ValueError, match="'balanced', a dict or None"):
        compute_class_weight("auto", classes=np.array([0, 1, 2]), y=y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        compute_class_weight("balanced", classes=np.array([0, 1]), y=np.zeros((2, 2)))
    with pytest.raises(TypeError, match="takes 1 positional argument"):  # keyword-only
        compute_class_weight("balanced", np.array([0, 1]), y)


def test_balanced_weights_feed_cross_entropy_weight():
    """weight=compute_class_weight('balanced', ...) in CrossEntropyLoss equals torch's and
    Σ_i w_{y_i} ℓ_i / Σ_i w_{y_i}: every class counts as much in the mean."""
    rng = np.random.default_rng(0)
    y = rng.choice(3, 64, p=[0.8, 0.15, 0.05])
    z = rng.standard_normal((64, 3))
    w = compute_class_weight("balanced", classes=np.arange(3), y=y)
    zt = cr.tensor(z, requires_grad=True)
    loss = nn.CrossEntropyLoss(weight=cr.tensor(w))(zt, cr.tensor(y))
    loss.backward()
    tz = torch.tensor(z, requires_grad=True)
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))(tz, torch.tensor(y))
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(zt.grad.numpy(), tz.grad.numpy(), rtol=1e-10, atol=1e-15)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    per_sample = -log_p[np.arange(64), y]
    np.testing.assert_allclose(loss.item(), np.sum(w[y] * per_sample) / np.sum(w[y]),
                               rtol=1e-12)
    # each class's total weight is the same: n / C
    np.testing.assert_allclose([w[y][y == c].sum() for c in range(3)], 64 / 3, rtol=1e-12)


def test_balanced_weights_feed_bce_pos_weight():
    """For binary labels, pos_weight = w[1] / w[0] (= n_neg / n_pos) with weight = w[0]
    is the class-weighted BCE, Σ_i w_{y_i} ℓ_i / n."""
    rng = np.random.default_rng(1)
    y = (rng.random(100) < 0.1).astype(np.float64)
    z = rng.standard_normal(100)
    w = compute_class_weight("balanced", classes=np.array([0.0, 1.0]), y=y)
    np.testing.assert_allclose(w[1] / w[0], np.sum(y == 0) / np.sum(y == 1), rtol=1e-12)
    pos_weight = cr.tensor([w[1] / w[0]])
    zt = cr.tensor(z, requires_grad=True)
    loss = nn.BCEWithLogitsLoss(weight=cr.tensor(w[0]), pos_weight=pos_weight)(zt, cr.tensor(y))
    loss.backward()
    per_sample = np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)
    np.testing.assert_allclose(loss.item(), np.mean(w[y.astype(int)] * per_sample), rtol=1e-12)
    tz = torch.tensor(z, requires_grad=True)
    ref = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w[0]),
                                     pos_weight=torch.tensor([w[1] / w[0]]))(tz, torch.tensor(y))
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(zt.grad.numpy(), tz.grad.numpy(), rtol=1e-10, atol=1e-15)
