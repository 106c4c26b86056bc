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
from chainrule.train.fit import History, NonFiniteLossError, evaluate, fit, predict, resume

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "NonFiniteLossError",
    "PrintLogs",
    "TerminateOnNaN",
    "evaluate",
    "fit",
    "metrics",
    "predict",
    "resume",
]
