"""Ensembles: average the class probabilities of several trained classifiers.

    ensemble = Ensemble([model_a, model_b, model_c])
    ensemble.predict_proba(X_test)   # (n, classes): the mean of the members' softmax
    ensemble.score(X_test, y_test)   # accuracy of its argmax
    compare_with_members(ensemble, X_test, y_test)
    # {'members': [...], 'best_member': i, 'best_member_accuracy': ..., 'ensemble_accuracy': ...}

For M members with logits ``z_m(x)`` (the models output logits, as for
``cross_entropy``), the ensemble's probabilities and prediction are

    p(c | x) = (1/M) Σ_m softmax(z_m(x))_c        ŷ(x) = argmax_c p(c | x)

Averaging helps when the members err on different samples: networks trained
from different seeds (initialisation, batch order, dropout masks) reach
different minima, so their mistakes are partly independent, while they agree
where the data are clear. The average keeps the agreement and dilutes each
member's confident mistakes; it also reduces the variance of the prediction
(a member's error = bias + variance; averaging M members with correlated
errors of correlation ρ scales the variance term by ρ + (1 - ρ)/M).

Members are run with :func:`chainrule.train.predict`: in eval mode (dropout off,
batch-norm with its running statistics) under ``no_grad``, their mode restored
afterwards. Probabilities are computed in float64 from the logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.metrics import accuracy
from chainrule.ops._numerics import log_softmax, logsumexp
from chainrule.tensor import Tensor
from chainrule.train.fit import predict

__all__ = ["Ensemble", "compare_with_members"]


class Ensemble:
    """The average of the predicted class probabilities of ``models``.

    ``p(c | x) = (1/M) Σ_m softmax(z_m(x))_c`` over the M models (each mapping a
    batch of inputs to logits of shape (n, classes)); ``predict`` is its argmax,
    ``score`` its accuracy. All members must give the same number of classes.
    """

    def __init__(self, models: Sequence[Any]) -> None:
        if isinstance(models, (str, bytes)) or not isinstance(models, Sequence):
            raise TypeError(f"Ensemble: models must be a list of models, got "
                            f"{type(models).__name__}")
        if len(models) == 0:
            raise ValueError("Ensemble: models is empty; give at least one trained model")
        for i, model in enumerate(models):
            if not callable(model) or not hasattr(model, "eval"):
                raise TypeError(f"Ensemble: models[{i}] is a {type(model).__name__}, not a "
                                "model (a callable with eval(), such as an nn.Module)")
        self.models = list(models)

    def __len__(self) -> int:
        return len(self.models)

    def __repr__(self) -> str:
        return f"Ensemble({len(self.models)} models)"

    def member_log_probabilities(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """``log softmax(z_m(x))`` of every member, shape (M, n, classes), float64."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"Ensemble: batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"Ensemble: batch_size must be a positive int, got {batch_size}")
        log_probabilities, classes = [], None
        for i, model in enumerate(self.models):
            logits = np.asarray(predict(model, X, batch_size=batch_size), dtype=np.float64)
            if logits.ndim != 2:
                raise ValueError(f"Ensemble: models[{i}] gives outputs of shape "
                                 f"{logits.shape}; expected logits of shape (n, classes)")
            if logits.shape[1] < 2:
                raise ValueError(f"Ensemble: models[{i}] gives 1 output per sample; the "
                                 "ensemble averages class probabilities softmax(logits) over "
                                 ">= 2 classes, and the softmax of one output is always 1. Give "
                                 "a binary classifier two logits (for a sigmoid logit z: [0, z])")
            if classes is None:
                classes = logits.shape[1]
            elif logits.shape[1] != classes:
                raise ValueError(f"Ensemble: models[{i}] gives {logits.shape[1]} classes but "
                                 f"models[0] gives {classes}; all members must classify into "
                                 "the same classes")
            log_probabilities.append(log_softmax(logits, axis=1))
        return np.stack(log_probabilities)

    def predict_log_proba(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """``log p(c | x) = logsumexp_m log softmax(z_m(x))_c - log M`` (stable: a class no
        member gives any probability is ``-inf``, never a NaN)."""
        return _mean_in_log_space(self.member_log_probabilities(X, batch_size))

    def predict_proba(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """``p(c | x) = (1/M) Σ_m softmax(z_m(x))_c``, shape (n, classes), rows summing to 1."""
        return np.exp(self.member_log_probabilities(X, batch_size)).mean(axis=0)

    def predict(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """``argmax_c p(c | x)`` (a tie goes to the smaller class index)."""
        return self.predict_proba(X, batch_size).argmax(axis=1)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` against the labels ``y`` (class indices; integer-valued
        floats such as 2.0 are accepted)."""
        proba = self.predict_proba(X)
        return accuracy(_class_labels(y, proba.shape, "Ensemble.score"), proba.argmax(axis=1))


def _class_labels(y: Any, shape: tuple[int, ...], fn: str) -> np.ndarray:
    """``y`` as int64 class indices, one per sample, for predictions of ``shape`` (n, classes):
    ints (or integer-valued floats) in ``0..classes-1``; anything else raises, naming ``fn``."""
    n, classes = shape[-2:]
    labels = y.data if isinstance(y, Tensor) else np.asarray(y)
    if labels.shape != (n,):
        raise ValueError(f"{fn}: y must hold one label per sample of X ({n}), got shape "
                         f"{labels.shape}")
    expected = f"the models output {classes} classes, so labels must be integers 0..{classes - 1}"
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: labels must be class indices ({expected}), got dtype "
                        f"{labels.dtype}: {labels[:3].tolist()}")
    bad = (labels < 0) | (labels >= classes)
    if labels.dtype.kind == "f":
        bad |= labels != np.round(labels)  # also NaN
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{fn}: label y[{i}] = {labels[i].item()!r} is not a class index; "
                         f"{expected}")
    return labels.astype(np.int64)


def _mean_in_log_space(log_p: np.ndarray) -> np.ndarray:
    return logsumexp(log_p, axis=0) - np.log(len(log_p))


def _log_loss(labels: np.ndarray, log_p: np.ndarray) -> float:
    """Cross-entropy ``-(1/n) Σ_i log p(y_i | x_i)``."""
    return float(-log_p[np.arange(len(labels)), labels].mean())


def compare_with_members(ensemble: Ensemble | Sequence[Any], X: Any, y: Any) -> dict[str, Any]:
    """Accuracy and log-loss of each member, of the best single member and of the ensemble.

    Returns ``{"members": [acc_0, ...], "best_member": i, "best_member_accuracy": acc_i,
    "ensemble_accuracy": acc, "members_log_loss": [...], "ensemble_log_loss": ...}``
    (``best_member``: the first of equally accurate members; log-loss: the mean
    cross-entropy ``-(1/n) Σ_i log p(y_i | x_i)``, which for the ensemble is never
    above the members' mean, since ``-log`` is convex). Each member runs once. The best
    member is picked on these very samples, which favours it: an ensemble that still
    beats it gains for real.
    """
    if not isinstance(ensemble, Ensemble):
        ensemble = Ensemble(ensemble)
    log_p = ensemble.member_log_probabilities(X)
    labels = _class_labels(y, log_p.shape, "compare_with_members")
    members = [accuracy(labels, p.argmax(axis=1)) for p in log_p]
    best = int(np.argmax(members))
    joint = _mean_in_log_space(log_p)
    return {"members": members, "best_member": best, "best_member_accuracy": members[best],
            "ensemble_accuracy": accuracy(labels, joint.argmax(axis=1)),
            "members_log_loss": [_log_loss(labels, p) for p in log_p],
            "ensemble_log_loss": _log_loss(labels, joint)}
