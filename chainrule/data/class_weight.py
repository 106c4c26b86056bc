"""Class weights for imbalanced data, as ``sklearn.utils.class_weight``.

Two remedies for a rare class, both fed by these weights:

* weigh the loss: ``nn.CrossEntropyLoss(weight=cr.tensor(w))`` with
  ``w = compute_class_weight('balanced', classes=np.arange(C), y=y_train)``; for
  binary targets, ``nn.BCEWithLogitsLoss(pos_weight=...)`` with
  ``pos_weight = w[1] / w[0]`` (= ``n_negative / n_positive``) weighs the positive term
  the same relative amount;
* resample: ``WeightedRandomSampler(compute_sample_weight('balanced', y), len(y))``
  draws every class equally often on average.

>>> import numpy as np
>>> compute_class_weight("balanced", classes=np.array([0, 1]), y=[1, 1, 1, 1, 0, 0])
array([1.5 , 0.75])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule.tensor import Tensor

__all__ = ["compute_class_weight", "compute_sample_weight"]


def _labels(y: Any, name: str, owner: str) -> np.ndarray:
    array = np.asarray(y.data if isinstance(y, Tensor) else y)
    if array.ndim != 1:
        raise ValueError(f"{owner}: {name} must be 1-D (one label per sample), got shape "
                         f"{array.shape}")
    return array


def _key(c: Any) -> Any:
    """A label as a dict key: NumPy ints and strings as their Python values (sklearn)."""
    try:
        return int(c)
    except (TypeError, ValueError):
        return str(c)


def compute_class_weight(
    class_weight: str | Mapping[Any, float] | None,
    *,
    classes: Any,
    y: Any,
    sample_weight: Any = None,
) -> np.ndarray:
    """One weight per entry of ``classes`` (float64), as scikit-learn's function.

    Args:
        class_weight: ``'balanced'``: ``n_samples / (n_classes * np.bincount(y))``, i.e.
            each class weighs its inverse frequency and the weights average to 1 over the
            samples (``n_classes`` counts the classes present in ``y``; with
            ``sample_weight``, the counts are sums of sample weights); a dict
            ``{class: weight}`` (classes left out weigh 1); None: all 1.
        classes: the classes, e.g. ``np.unique(y)`` or ``np.arange(C)``; every label of
            ``y`` must be one of them, and with ``'balanced'`` every class must occur in
            ``y`` (its weight would be infinite).
        y: the labels, one per sample.
        sample_weight: optional weight per sample (``'balanced'`` only).

    Returns ``w`` with ``w[i]`` the weight of ``classes[i]``.
    """
    owner = "compute_class_weight"
    classes = _labels(classes, "classes", owner)
    y = _labels(y, "y", owner)
    unique_y = np.unique(y)
    unknown = set(unique_y.tolist()) - set(classes.tolist())
    if unknown:
        raise ValueError(f"{owner}: classes should include all valid labels that can be in y; "
                         f"y has {sorted(unknown)}, which are not in classes")
    if class_weight is None or (isinstance(class_weight, Mapping) and not class_weight):
        return np.ones(len(classes), dtype=np.float64)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"{owner}: class_weight must be 'balanced', a dict or None, got "
                             f"{class_weight!r}")
        missing = np.setdiff1d(classes, unique_y)
        if missing.size:
            raise ValueError(f"{owner}: classes should have valid labels that are in y; "
                             f"{missing.tolist()} never occur in y")
        if sample_weight is None:
            weights = np.ones(len(y), dtype=np.float64)
        else:
            weights = np.asarray(sample_weight.data if isinstance(sample_weight, Tensor)
                                 else sample_weight, dtype=np.float64)
            if weights.ndim == 0:
                weights = np.full(len(y), float(weights))
            if weights.shape != y.shape:
                raise ValueError(f"{owner}: sample_weight has shape {weights.shape}, expected "
                                 f"{y.shape} (one per sample)")
        y_index = np.searchsorted(unique_y, y)
        counts = np.bincount(y_index, weights=weights, minlength=len(unique_y))
        recip_freq = counts.sum() / (len(unique_y) * counts)
        return recip_freq[np.searchsorted(unique_y, classes)]
    if not isinstance(class_weight, Mapping):
        raise TypeError(f"{owner}: class_weight must be 'balanced', a dict or None, got "
                        f"{type(class_weight).__name__}")
    weight = np.ones(len(classes), dtype=np.float64)
    unweighted = []
    for i, c in enumerate(classes):
        c = _key(c)
        if c in class_weight:
            weight[i] = class_weight[c]
        else:
            unweighted.append(c)
    if unweighted and len(classes) - len(unweighted) != len(class_weight):
        raise ValueError(f"The classes, {unweighted}, are not in class_weight")
    return weight


def compute_sample_weight(class_weight: str | Mapping[Any, float] | None, y: Any) -> np.ndarray:
    """The weight of each sample's class (float64), as scikit-learn's function for one
    output: ``compute_class_weight(class_weight, classes=np.unique(y), y=y)`` looked up
    at every label. Feeds :class:`~chainrule.data.WeightedRandomSampler`."""
    y = _labels(y, "y", "compute_sample_weight")
    classes = np.unique(y)
    weight = compute_class_weight(class_weight, classes=classes, y=y)
    return weight[np.searchsorted(classes, y)]
