"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict`, :func:`resume`.

One epoch of :func:`fit` is::

    model.train()
    for x, y in train_loader:            # verbose=1: a progress bar (tqdm.auto)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)      # not finite: NonFiniteLossError, before any step
        loss.backward()
        optimizer.step()
    evaluate(model, val_loader)          # model.eval() under chainrule.no_grad()
    scheduler.step()                     # ReduceLROnPlateau: scheduler.step(val_loss)
    print(one line of the epoch's logs)  # verbose=1 or 2

The epoch's losses are means over samples; its metrics are computed from the
predictions made during the epoch (training) or after it (validation). Metrics
are names from :mod:`chainrule.metrics` (``"accuracy"``, ``"f1_macro"``) or
callables ``metric(y_true, y_pred)``; classification outputs are logits, so the
predicted class is ``argmax`` over dim 1 (or ``logit > 0`` for one output).

Divergence: each batch's loss is checked (``math.isfinite(loss.item())``) before
its backward pass. A loss that is ``nan`` or ``inf`` raises
:class:`NonFiniteLossError` (naming the epoch, the batch and the learning rate)
with the weights as they were before that batch; ``on_nonfinite="stop"`` or a
:class:`~chainrule.train.callbacks.TerminateOnNaN` callback only ends training
(``history.nonfinite`` holds the error). NumPy's overflow warnings, which would
precede the error, are not printed during training.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import io
from chainrule import metrics as _metrics
from chainrule.factory import from_numpy
from chainrule.function import no_grad
from chainrule.tensor import Tensor
from chainrule.train.callbacks import (
    Callback,
    TerminateOnNaN,
    callback_states,
    format_epoch_logs,
    load_callback_states,
)

__all__ = ["History", "NonFiniteLossError", "fit", "evaluate", "predict", "resume"]

Metric = str | Callable[[np.ndarray, np.ndarray], float]


class History:
    """The per-epoch logs of :func:`fit`.

    ``history.epochs`` is a list of dicts (``epoch``, ``train_loss``, ``train_<metric>``,
    ``val_loss``, ``val_<metric>``, ``lr``, ``seconds``); ``history["val_loss"]`` is
    one column as a list.
    """

    def __init__(self, epochs: Iterable[Mapping[str, float]] = ()) -> None:
        self.epochs: list[dict[str, float]] = [dict(e) for e in epochs]
        self.nonfinite: NonFiniteLossError | None = None  # set when training stopped on one

    def append(self, logs: Mapping[str, float]) -> None:
        self.epochs.append(dict(logs))

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[float]:
        if not self.epochs or key not in self.epochs[-1]:
            raise KeyError(f"History: no {key!r} in the logs "
                           f"{sorted(self.epochs[-1]) if self.epochs else []}")
        return [e[key] for e in self.epochs]

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict[str, float]:
        """The logs of the epoch with the best ``monitor`` (the first one on ties)."""
        values = self[monitor]
        index = int(np.argmin(values) if mode == "min" else np.argmax(values))
        return self.epochs[index]

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": [dict(e) for e in self.epochs]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> History:
        return cls(json.loads(text)["epochs"])

    def __repr__(self) -> str:
        return f"History({len(self.epochs)} epochs)"


class NonFiniteLossError(FloatingPointError):
    """The loss became ``nan`` or ``inf``: training diverged.

    ``epoch`` and ``batch`` (1-based; ``None`` for the validation loss) locate it,
    ``loss`` is the value and ``lr`` the learning rate of the first parameter group.
    Raised before the backward pass of that batch, so the model holds the weights
    of the previous batch.
    """

    def __init__(self, epoch: int, batch: int | None, batches: int | None, loss: float,
                 lr: float) -> None:
        self.epoch, self.batch, self.batches, self.loss, self.lr = epoch, batch, batches, loss, lr
        if batch is None:
            where = f"the validation loss is {loss} after epoch {epoch}"
        else:
            of = f" of {batches}" if batches else ""
            where = f"the training loss is {loss} at epoch {epoch}, batch {batch}{of}"
        super().__init__(f"fit: {where} (lr {lr:g}): training diverged; a smaller learning "
                         f"rate usually fixes this (or clip the gradients with "
                         f"nn.utils.clip_grad_norm_)")


def _metric_fn(metric: Metric) -> tuple[str, Callable[[np.ndarray, np.ndarray], float]]:
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if metric == "accuracy":
        return "accuracy", _metrics.accuracy
    if metric in ("f1_macro", "f1"):
        return metric, lambda y_true, y_pred: _metrics.f1_score(y_true, y_pred, average="macro")
    raise ValueError(f"fit: unknown metric {metric!r}; use 'accuracy', 'f1_macro' or a "
                     f"callable metric(y_true, y_pred)")


def _predicted_class(output: np.ndarray) -> np.ndarray:
    if output.ndim == 2 and output.shape[1] > 1:
        return output.argmax(axis=1)
    return (output.reshape(len(output)) > 0).astype(np.int64)


def _split(batch: Any, caller: str) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"{caller}: the loader must yield (input, target) pairs, got "
                        f"{type(batch).__name__}"
                        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    return batch[0], batch[1]


def _as_numpy(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


class _EpochStats:
    """Sample-weighted mean loss and the predictions collected over an epoch."""

    def __init__(self) -> None:
        self.loss_sum, self.count = 0.0, 0
        self.targets: list[np.ndarray] = []
        self.predictions: list[np.ndarray] = []

    def add(self, output: Tensor, target: Any, loss: float | None) -> None:
        n = len(output.data)
        if loss is not None:
            self.loss_sum += loss * n
        self.count += n
        self.targets.append(_as_numpy(target))
        self.predictions.append(_predicted_class(output.data))

    def logs(self, prefix: str, metric_fns: Sequence[tuple[str, Callable]],
             with_loss: bool) -> dict[str, float]:
        if self.count == 0:
            raise ValueError(f"{prefix or 'evaluate'}: the loader yielded no batches")
        out = {f"{prefix}loss": self.loss_sum / self.count} if with_loss else {}
        if metric_fns:
            y_true, y_pred = np.concatenate(self.targets), np.concatenate(self.predictions)
            for name, fn in metric_fns:
                out[f"{prefix}{name}"] = float(fn(y_true, y_pred))
        return out


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"  # Jupyter, not a terminal IPython


def _verbosity(verbose: int | str, progress: bool | None) -> int:
    if verbose == "auto":
        interactive = _in_notebook()
        try:
            interactive = interactive or sys.stdout.isatty()
        except (AttributeError, ValueError):  # a replaced or closed stdout
            pass
        verbose = 1 if interactive else 2
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"fit: verbose must be 0 (silent), 1 (progress bar and one line per "
                         f"epoch), 2 (one line per epoch) or 'auto', got {verbose!r}")
    if progress is False and verbose == 1:
        verbose = 2
    return verbose


def _progress_bar(loader: Any, description: str) -> Any:
    from tqdm.auto import tqdm  # a widget in Jupyter, text on a terminal

    return tqdm(loader, desc=description, leave=False, file=sys.stdout, dynamic_ncols=True)


def evaluate(
    model: Any,
    loader: Iterable[Any],
    loss_fn: Callable[[Tensor, Any], Tensor] | None = None,
    metrics: Sequence[Metric] = ("accuracy",),
) -> dict[str, float]:
    """``{"loss": ..., "<metric>": ...}`` of ``model`` over ``loader``.

    Runs in eval mode under :func:`chainrule.no_grad`; the model's mode is restored.
    ``loss`` is the sample-weighted mean of ``loss_fn`` (left out without ``loss_fn``).
    """
    return _evaluate(model, loader, loss_fn, [_metric_fn(m) for m in metrics], "")


def _evaluate(model: Any, loader: Iterable[Any], loss_fn: Any,
              metric_fns: Sequence[tuple[str, Callable]], prefix: str) -> dict[str, float]:
    was_training = model.training
    model.eval()
    stats = _EpochStats()
    try:
        with no_grad():
            for batch in loader:
                x, y = _split(batch, "evaluate")
                output = model(x)
                loss = None if loss_fn is None else float(loss_fn(output, y).item())
                stats.add(output, y, loss)
    finally:
        model.train(was_training)
    return stats.logs(prefix, metric_fns, loss_fn is not None)


def predict(model: Any, data: Any, batch_size: int = 256) -> np.ndarray:
    """The model's outputs (e.g. logits) for ``data``, in eval mode under ``no_grad``.

    ``data`` is an array/Tensor of inputs (batched by ``batch_size``) or a loader
    yielding inputs or (input, target) pairs.
    """
    if isinstance(data, (np.ndarray, Tensor)):
        array = _as_numpy(data)
        batches: Iterable[Any] = (from_numpy(array[i : i + batch_size])
                                  for i in range(0, len(array), batch_size))
    else:
        batches = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [model(x).data for x in batches]
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: no inputs")
    return np.concatenate(outputs)


def _is_plateau(scheduler: Any) -> bool:
    from chainrule.optim.lr_scheduler import ReduceLROnPlateau

    return isinstance(scheduler, ReduceLROnPlateau)


def fit(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Any,
    train_loader: Iterable[Any],
    val_loader: Iterable[Any] | None = None,
    epochs: int = 10,
    scheduler: Any = None,
    callbacks: Sequence[Callback] = (),
    metrics: Sequence[Metric] = ("accuracy",),
    verbose: int | str = "auto",
    history: History | None = None,
    on_nonfinite: str = "raise",
    progress: bool | None = None,
) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return the :class:`History`.

    ``verbose`` (as Keras): 0 prints nothing, 1 a progress bar per epoch
    (``tqdm.auto``: a widget in Jupyter) and one line per epoch, 2 one line per
    epoch; ``"auto"`` (the default) is 1 on a terminal or in Jupyter, else 2.
    ``progress=False`` turns the bar off (1 becomes 2).

    ``history`` continues a run (see :func:`resume`): training starts at epoch
    ``len(history) + 1`` and ``epochs`` is the total. A ``ReduceLROnPlateau``
    scheduler is stepped with the epoch's ``val_loss`` (``train_loss`` without a
    ``val_loader``), any other scheduler once per epoch. Callbacks see each epoch's
    logs and may stop training (see :mod:`chainrule.train.callbacks`).

    A batch whose loss is not finite raises :class:`NonFiniteLossError` before its
    backward pass (``on_nonfinite="raise"``); with ``on_nonfinite="stop"`` or a
    :class:`~chainrule.train.callbacks.TerminateOnNaN` callback, training ends there
    instead: the unfinished epoch is not recorded, ``history.nonfinite`` holds the
    error and the callbacks' ``on_train_end`` runs.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"fit: on_nonfinite must be 'raise' or 'stop', got {on_nonfinite!r}")
    verbose = _verbosity(verbose, progress)
    metric_fns = [_metric_fn(m) for m in metrics]
    history = History() if history is None else history
    history.nonfinite = None
    callbacks = list(callbacks)
    stop_on_nonfinite = on_nonfinite == "stop" or any(isinstance(cb, TerminateOnNaN)
                                                      for cb in callbacks)
    try:
        batches: int | None = len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        batches = None
    for cb in callbacks:
        cb.set_context(model=model, optimizer=optimizer, scheduler=scheduler,
                       train_loader=train_loader, val_loader=val_loader, history=history,
                       callbacks=callbacks, epochs=epochs, verbose=verbose)
    for cb in callbacks:
        cb.on_train_begin()
    for epoch in range(len(history) + 1, epochs + 1):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        start = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        model.train()
        stats = _EpochStats()
        bar = _progress_bar(train_loader, f"epoch {epoch}/{epochs}") if verbose == 1 \
            else train_loader
        nonfinite = None
        # overflow shows up as a non-finite loss, reported below: no raw NumPy warnings
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for index, batch in enumerate(bar, start=1):
                x, y = _split(batch, "fit")
                optimizer.zero_grad()
                output = model(x)
                loss = loss_fn(output, y)
                value = float(loss.item())
                if not math.isfinite(value):
                    nonfinite = NonFiniteLossError(epoch, index, batches, value, lr)
                    break
                loss.backward()
                optimizer.step()
                stats.add(output.detach(), y, value)
                if bar is not train_loader:
                    bar.set_postfix(loss=f"{stats.loss_sum / stats.count:.4f}", refresh=False)
            if bar is not train_loader:
                bar.close()
            if nonfinite is None:
                logs: dict[str, float] = {"epoch": epoch}
                logs.update(stats.logs("train_", metric_fns, True))
                if val_loader is not None:
                    logs.update(_evaluate(model, val_loader, loss_fn, metric_fns, "val_"))
                    if not math.isfinite(logs["val_loss"]):
                        nonfinite = NonFiniteLossError(epoch, None, batches, logs["val_loss"],
                                                       lr)
        if nonfinite is not None:
            if not stop_on_nonfinite:
                raise nonfinite
            history.nonfinite = nonfinite
            if verbose:
                print(f"stopped: {nonfinite}", file=sys.stdout, flush=True)
            break
        if scheduler is not None:
            if _is_plateau(scheduler):
                scheduler.step(logs["val_loss" if val_loader is not None else "train_loss"])
            else:
                scheduler.step()
        logs["lr"] = lr
        logs["seconds"] = time.perf_counter() - start
        history.append(logs)
        if verbose:
            print(format_epoch_logs(epoch, epochs, logs), file=sys.stdout, flush=True)
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if any(cb.stop_training for cb in callbacks):
            break
    for cb in callbacks:
        cb.on_train_end()
    return history


def resume(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    train_loader: Any = None,
    callbacks: Sequence[Callback] = (),
) -> tuple[History, bool]:
    """Restore a :class:`~chainrule.train.callbacks.ModelCheckpoint` file.

    Loads model, optimizer, scheduler and the global random state, the train
    loader's shuffling state and each callback's state (``callbacks`` given as to the
    checkpointed :func:`fit`). Returns ``(history, stopped)``: pass
    ``history=history`` to :func:`fit` to continue exactly; ``stopped`` tells that a
    callback had ended the run.
    """
    extra = io.checkpoint_extra(path)  # verified; nothing has changed yet
    loader_before = None if train_loader is None else train_loader.state_dict()
    callbacks_before = callback_states(callbacks)
    try:  # the loader and callbacks first: a state that does not fit leaves the model as it was
        if train_loader is not None and extra.get("train_loader") is not None:
            train_loader.load_state_dict(extra["train_loader"])
        load_callback_states(callbacks, extra.get("callbacks", {}))
        io.load_checkpoint(path, model, optimizer, scheduler)
    except BaseException:
        if train_loader is not None:
            train_loader.load_state_dict(loader_before)
        load_callback_states(callbacks, callbacks_before)
        raise
    return History(extra.get("history", [])), bool(extra.get("stopped", False))
