"""Callbacks for :func:`chainrule.train.fit`: early stopping, checkpoints, printing, NaN.

:func:`fit` hands every callback its context (``model``, ``optimizer``,
``scheduler``, ``train_loader``, ``history``, ``callbacks``, ``epochs``) through
:meth:`Callback.set_context`, then calls ``on_train_begin()``, per epoch
``on_epoch_begin(epoch)`` and ``on_epoch_end(epoch, logs)``, and last
``on_train_end()``. A callback ends training by setting ``self.stop_training``.
A callback with state (counters, best values, weights) exposes ``state_dict()`` /
``load_state_dict()`` so a checkpointed run resumes exactly.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from chainrule import io

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "PrintLogs", "TerminateOnNaN"]


class Callback:
    """Base class: every hook does nothing."""

    stop_training: bool = False

    def set_context(self, **context: Any) -> None:
        """Receive the training context from :func:`fit` (model, optimizer, ...)."""
        self.context = context
        self.stop_training = False

    def on_train_begin(self) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Called before each epoch (epochs count from 1)."""

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Called after each epoch with its logs (``train_loss``, ``val_loss``, ...)."""

    def on_train_end(self) -> None:
        """Called once after the last epoch."""

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to continue this callback exactly."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


def _is_better(mode: str, value: float, best: float, min_delta: float) -> bool:
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _check_mode(name: str, monitor: str, mode: str) -> None:
    if not isinstance(monitor, str) or not monitor:
        raise TypeError(f"{name}: monitor must be a log name such as 'val_loss', got {monitor!r}")
    if mode not in ("min", "max"):
        raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")


def _monitored(name: str, monitor: str, logs: Mapping[str, float]) -> float:
    if monitor not in logs:
        raise KeyError(f"{name}: monitor {monitor!r} is not in the epoch logs {sorted(logs)}; "
                       f"validation metrics need a val_loader")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the model gets back, at the end of training,
    the weights of its best epoch (a copy of ``state_dict()`` taken then).
    ``stopped_epoch`` is the epoch training stopped at (0 if it did not stop early),
    ``best_epoch`` the epoch with the best monitored value.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "min",
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        _check_mode("EarlyStopping", monitor, mode)
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.min_delta, self.restore_best_weights = float(min_delta), restore_best_weights
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        value = _monitored("EarlyStopping", self.monitor, logs)
        if _is_better(self.mode, value, self.best, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                model = self.context["model"]
                self.best_weights = {k: v.copy() for k, v in model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.context["model"].load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        weights = state["best_weights"]
        self.best_weights = None if weights is None else {k: v.copy() for k, v in weights.items()}


class ModelCheckpoint(Callback):
    """Write a resumable checkpoint (:func:`chainrule.io.save_checkpoint`) to ``path``.

    With ``save_best_only=True`` only when ``monitor`` improves on every earlier
    epoch of the run (the history, so a resumed run decides as the uninterrupted
    one), else after every epoch. The file holds the model, optimizer and scheduler
    state, the global and data-loader random states, the history, every callback's
    state and ``extra`` (a JSON-like dict, e.g. the run's configuration); resume
    from it with :func:`chainrule.train.resume`. With ``save_weights_only=True`` it
    is a plain :func:`chainrule.save` file of ``model.state_dict()`` whose metadata
    holds ``epoch``, ``monitor`` and the monitored value (read it with
    :func:`chainrule.io.load_metadata`). Put it after the callbacks whose state it
    should record (e.g. after :class:`EarlyStopping`). ``saved_epoch`` is the epoch
    last written by this callback (0: none yet).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        monitor: str = "val_loss",
        mode: str = "min",
        save_best_only: bool = True,
        extra: Mapping[str, Any] | None = None,
        save_weights_only: bool = False,
    ) -> None:
        _check_mode("ModelCheckpoint", monitor, mode)
        self.path, self.monitor, self.mode = os.fspath(path), monitor, mode
        self.save_best_only, self.extra = save_best_only, dict(extra or {})
        self.save_weights_only = save_weights_only
        self.best = math.inf if mode == "min" else -math.inf
        self.saved_epoch = 0

    def _best_so_far(self) -> float:
        """The better of the recorded best and the best of the history's earlier epochs."""
        best = self.best
        history = getattr(self, "context", {}).get("history")
        for logs in (history.epochs[:-1] if history is not None else ()):
            value = logs.get(self.monitor)
            if value is not None and _is_better(self.mode, float(value), best, 0.0):
                best = float(value)
        return best

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        value = None
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            if not _is_better(self.mode, value, self._best_so_far(), 0.0):
                return
            self.best = value
        if self.save_weights_only:
            metadata = {"epoch": str(epoch), "monitor": self.monitor}
            if self.monitor in logs:
                metadata["value"] = repr(float(logs[self.monitor]))
            io.save(self.context["model"].state_dict(), self.path, metadata=metadata)
        else:
            save_training_checkpoint(self.path, self.context, epoch, self.extra)
        self.saved_epoch = epoch

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.best = state["best"]


class TerminateOnNaN(Callback):
    """Stop training, instead of raising, when the loss becomes ``nan`` or ``inf``.

    :func:`chainrule.train.fit` checks every batch's loss; without this callback
    (or ``on_nonfinite="stop"``) a non-finite loss raises
    :class:`~chainrule.train.fit.NonFiniteLossError`. With it, training ends at
    that batch: the unfinished epoch is not recorded, the model keeps the weights
    from before the batch and ``history.nonfinite`` holds the error (as Keras's
    ``TerminateOnNaN``).
    """


def format_epoch_logs(epoch: int, epochs: int, logs: Mapping[str, float]) -> str:
    """``epoch  3/40  train_loss 0.1234  ...  lr 0.001  0.4s``: one epoch's logs on a line."""
    width = len(str(epochs))
    parts = [f"epoch {epoch:>{width}}/{epochs}"]
    for key, value in logs.items():
        if key == "epoch":
            continue
        if key == "seconds":
            parts.append(f"{value:.1f}s")
        elif key == "lr":
            parts.append(f"lr {value:.3g}")
        else:
            parts.append(f"{key} {value:.4f}")
    return "  ".join(parts)


class PrintLogs(Callback):
    """Print one line per epoch: ``epoch  3/40  train_loss 0.1234  ...  lr 0.001  0.4s``.

    :func:`chainrule.train.fit` prints these lines itself (``verbose=1`` or ``2``);
    this callback writes them elsewhere, e.g. to a log file (``file=``).
    """

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        print(format_epoch_logs(epoch, self.context["epochs"], logs),
              file=self.file or sys.stdout, flush=True)


def callback_states(callbacks: Sequence[Callback]) -> dict[str, dict[str, Any]]:
    """The non-empty ``state_dict()`` of each callback, keyed by class name (``Name#2`` for a
    second one of the same class)."""
    states: dict[str, dict[str, Any]] = {}
    for key, cb in _keyed(callbacks):
        state = cb.state_dict()
        if state:
            states[key] = state
    return states


def load_callback_states(callbacks: Sequence[Callback],
                         states: Mapping[str, Mapping[str, Any]]) -> None:
    """Restore :func:`callback_states` into callbacks given in the same order."""
    for key, cb in _keyed(callbacks):
        if key in states:
            cb.load_state_dict(states[key])


def _keyed(callbacks: Sequence[Callback]) -> list[tuple[str, Callback]]:
    seen: dict[str, int] = {}
    keyed = []
    for cb in callbacks:
        name = type(cb).__name__
        seen[name] = seen.get(name, 0) + 1
        keyed.append((name if seen[name] == 1 else f"{name}#{seen[name]}", cb))
    return keyed


def save_training_checkpoint(path: str | os.PathLike, context: Mapping[str, Any],
                             epoch: int, extra: Mapping[str, Any] | None = None) -> None:
    """Checkpoint everything :func:`fit` needs to continue after ``epoch``, plus ``extra``."""
    callbacks = context["callbacks"]
    extra = {
        **(extra or {}),
        "epoch": epoch,
        "history": context["history"].epochs,
        "train_loader": context["train_loader"].state_dict()
        if hasattr(context["train_loader"], "state_dict") else None,
        "callbacks": callback_states(callbacks),
        "stopped": any(cb.stop_training for cb in callbacks),
    }
    io.save_checkpoint(path, context["model"], context["optimizer"], context["scheduler"],
                       extra=extra)
