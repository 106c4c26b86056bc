"""The training loop: :func:`fit`, :func:`evaluate`, :func:`predict`, :func:`resume`.

One epoch of :func:`fit` is::

    model.train()
    for x, y in train_loader:            # a tqdm bar when stdout is a terminal
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    evaluate(model, val_loader)          # model.eval() under chainrule.no_grad()
    scheduler.step()                     # ReduceLROnPlateau: scheduler.step(val_loss)

The epoch's losses are means over samples; its metrics are computed from the
predictions made during the epoch (training) or after it (validation). Metrics
are names from :mod:`chainrule.metrics` (``"accuracy"``, ``"f1_macro"``) or
callables ``metric(y_true, y_pred)``; classification outputs are logits, so the
predicted class is ``argmax`` over dim 1 (or ``logit > 0`` for one output).
"""

from __future__ import annotations

import json
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
from chainrule.train.callbacks import Callback, load_callback_states

__all__ = ["History", "fit", "evaluate", "predict", "resume"]

Metric = str | Callable[[np.ndarray, np.ndarray], float]


class History:
    """The per-epoch logs of :func:`fit`.

    ``history.epochs`` is a list of dicts (``epoch``, ``train_loss``, ``train_<metric>``,
    ``val_loss``, ``val_<metric>``, ``lr``, ``seconds``); ``history["val_loss"]`` is
    one column as a list.
    """

    def __init__(self, epochs: Iterable[Mapping[str, float]] = ()) -> None:
        self.epochs: list[dict[str, float]] = [dict(e) for e in epochs]

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

    def add(self, output: Tensor, target: Any, loss: Tensor | None) -> None:
        n = len(output.data)
        if loss is not None:
            self.loss_sum += float(loss.item()) * n
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


def _progress_bar(loader: Any, enabled: bool, description: str) -> Any:
    if not enabled or not sys.stdout.isatty():
        return loader
    from tqdm.auto import tqdm

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
                stats.add(output, y, None if loss_fn is None else loss_fn(output, y))
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
    progress: bool = True,
    history: History | None = None,
) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return the :class:`History`.

    ``history`` continues a run (see :func:`resume`): training starts at epoch
    ``len(history) + 1`` and ``epochs`` is the total. A ``ReduceLROnPlateau``
    scheduler is stepped with the epoch's ``val_loss`` (``train_loss`` without a
    ``val_loader``), any other scheduler once per epoch. Callbacks see each epoch's
    logs and may stop training (see :mod:`chainrule.train.callbacks`).
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    metric_fns = [_metric_fn(m) for m in metrics]
    history = History() if history is None else history
    callbacks = list(callbacks)
    for cb in callbacks:
        cb.set_context(model=model, optimizer=optimizer, scheduler=scheduler,
                       train_loader=train_loader, val_loader=val_loader, history=history,
                       callbacks=callbacks, epochs=epochs)
    for cb in callbacks:
        cb.on_train_begin()
    for epoch in range(len(history) + 1, epochs + 1):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        start = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        model.train()
        stats = _EpochStats()
        bar = _progress_bar(train_loader, progress, f"epoch {epoch}/{epochs}")
        for batch in bar:
            x, y = _split(batch, "fit")
            optimizer.zero_grad()
            output = model(x)
            loss = loss_fn(output, y)
            loss.backward()
            optimizer.step()
            stats.add(output.detach(), y, loss)
            if bar is not train_loader:
                bar.set_postfix(loss=f"{stats.loss_sum / stats.count:.4f}", refresh=False)
        logs: dict[str, float] = {"epoch": epoch}
        logs.update(stats.logs("train_", metric_fns, True))
        if val_loader is not None:
            logs.update(_evaluate(model, val_loader, loss_fn, metric_fns, "val_"))
        if scheduler is not None:
            if _is_plateau(scheduler):
                scheduler.step(logs["val_loss" if val_loader is not None else "train_loss"])
            else:
                scheduler.step()
        logs["lr"] = lr
        logs["seconds"] = time.perf_counter() - start
        history.append(logs)
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
    extra = io.load_checkpoint(path, model, optimizer, scheduler)
    if train_loader is not None and extra.get("train_loader") is not None:
        train_loader.load_state_dict(extra["train_loader"])
    load_callback_states(callbacks, extra.get("callbacks", {}))
    return History(extra.get("history", [])), bool(extra.get("stopped", False))
