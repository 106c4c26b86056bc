"""Training: the fit loop, callbacks, metrics and plots.

>>> from chainrule.train import fit, EarlyStopping, ModelCheckpoint
>>> history = fit(model, F.cross_entropy, optimizer, train_loader, val_loader,
...               epochs=40, callbacks=[EarlyStopping(patience=5)])   # doctest: +SKIP

``chainrule.train.metrics`` is :mod:`chainrule.metrics` (the scikit-learn-style
metrics, also used outside training); the plots (``chainrule.train.plots``, needs
matplotlib) are imported on use.
"""

from chainrule import metrics
from chainrule.train.callbacks import (
    Callback,
    EarlyStopping,
    ModelCheckpoint,
    PrintLogs,
    TerminateOnNaN,
)
from chainrule.train.diagnostics import DiagnosticWarning, Finding, GradientFlow
from chainrule.train.ensemble import Ensemble, compare_with_members
from chainrule.train.fit import History, NonFiniteLossError, evaluate, fit, predict, resume
from chainrule.train.lr_find import LRFinderResult, lr_find

__all__ = [
    "Callback",
    "DiagnosticWarning",
    "EarlyStopping",
    "Ensemble",
    "Finding",
    "GradientFlow",
    "History",
    "LRFinderResult",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "PrintLogs",
    "TerminateOnNaN",
    "compare_with_members",
    "evaluate",
    "fit",
    "lr_find",
    "metrics",
    "predict",
    "resume",
]
