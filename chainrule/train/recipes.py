"""Recipes: a model, an optimizer and a learning-rate schedule built from their names.

The ``chainrule`` command builds its runs with these, and a hyper-parameter search
can build its candidates the same way:

>>> model = build_model("mlp", "digits", hidden=[128], dropout=0.2)
>>> optimizer = build_optimizer("adam", model.parameters(), DEFAULT_LR["adam"], 0.0)
>>> scheduler = build_scheduler("cosine", optimizer, epochs=30, patience=5)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule import nn, optim
from chainrule.data.datasets import load_digits
from chainrule.models import mlp

DATASETS: dict[str, tuple[Callable[[], tuple[np.ndarray, np.ndarray]], tuple[int, ...], int]] = {
    "digits": (load_digits, (1, 8, 8), 10),  # loader, input shape, number of classes
}
MODELS = ("mlp",)
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05,
              "rmsprop": 1e-3, "adam": 1e-3, "adamw": 1e-3}
SCHEDULES = ("none", "step", "cosine", "plateau")


def build_model(name: str, dataset: str, hidden: Sequence[int], dropout: float) -> nn.Module:
    """The model ``name`` sized for ``dataset``."""
    _, shape, classes = DATASETS[dataset]
    if name == "mlp":
        return mlp(int(np.prod(shape)), hidden=tuple(hidden), num_classes=classes,
                   dropout=dropout)
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}")


def parameter_count(name: str, dataset: str, hidden: Sequence[int]) -> int:
    """The number of parameters :func:`build_model` would give, computed without building it
    (so an impossible size can be refused before any memory is allocated)."""
    _, shape, classes = DATASETS[dataset]
    if name == "mlp":
        sizes = [int(np.prod(shape)), *map(int, hidden), classes]
        return sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    raise ValueError(f"unknown model {name!r}; choose from {MODELS}")


def build_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> optim.Optimizer:
    """sgd, momentum/nesterov (SGD with momentum 0.9), adagrad, rmsprop, adam or adamw
    (whose ``weight_decay`` is decoupled; the others add it to the gradient as L2)."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay,
                         nesterov=name == "nesterov")
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")


def build_scheduler(name: str, optimizer: optim.Optimizer, epochs: int, patience: int) -> Any:
    """``step`` (×0.1 every third of the run), ``cosine`` (to 0 over the run),
    ``plateau`` (×0.5 after patience/2 epochs without val-loss improvement);
    ``none`` gives ``None``."""
    sched = optim.lr_scheduler
    if name == "none":
        return None
    if name == "step":
        return sched.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                       patience=max(1, patience // 2))
    raise ValueError(f"unknown schedule {name!r}; choose from {SCHEDULES}")
