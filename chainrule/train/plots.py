"""Learning curves and confusion matrices as PNG files (matplotlib, Agg).

matplotlib is an optional dependency (``pip install chainrule[plot]``), imported
only when a plot is drawn; without it the functions raise ``ImportError`` saying
so. Figures are drawn on a bare :class:`matplotlib.figure.Figure` (Agg canvas),
never through pyplot, so no window opens and no global state changes. Files are
written atomically (:func:`chainrule.io.atomic_write`), as checkpoints are.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.io import atomic_write

__all__ = ["plot_learning_curves", "plot_confusion_matrix"]

_TRAIN, _VAL, _BEST = "#1f77b4", "#d62728", "#2ca02c"


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib, which is not installed: pip install 'chainrule[plot]'"
        ) from exc
    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, path: str | os.PathLike) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue())


def _logs(history: Any) -> list[Mapping[str, float]]:
    epochs = getattr(history, "epochs", history)
    if not epochs:
        raise ValueError("plot_learning_curves: the history has no epochs")
    return list(epochs)


def plot_learning_curves(
    history: Any,
    path: str | os.PathLike,
    monitor: str = "val_loss",
    mode: str = "min",
    title: str | None = None,
) -> None:
    """Save loss and accuracy per epoch, train vs validation, best epoch marked.

    ``history`` is a :class:`~chainrule.train.History` or its list of epoch dicts.
    The best epoch is the one with the best ``monitor`` (falls back to
    ``train_loss`` when there is no validation).
    """
    logs = _logs(history)
    epochs = [e["epoch"] for e in logs]
    if monitor not in logs[0]:
        monitor, mode = "train_loss", "min"
    values = [e[monitor] for e in logs]
    best = int(np.argmin(values) if mode == "min" else np.argmax(values))
    panels = [("loss", "loss")] + ([("accuracy", "accuracy")] if "train_accuracy" in logs[0]
                                   else [])
    fig = _figure(5.2 * len(panels), 4.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels):
        for split, color in (("train", _TRAIN), ("val", _VAL)):
            name = f"{split}_{key}"
            if name in logs[0]:
                series = [e[name] for e in logs]
                ax.plot(epochs, series, color=color, marker="o", markersize=3, linewidth=1.6,
                        label="train" if split == "train" else "validation")
                if split == monitor.split("_")[0]:  # the star sits on the monitored curve
                    ax.plot(epochs[best], series[best], marker="*", markersize=13,
                            color=_BEST, markeredgecolor="black", zorder=5)
        ax.axvline(epochs[best], color=_BEST, linestyle="--", linewidth=1.2,
                   label=f"best epoch {epochs[best]} ({monitor} {values[best]:.4g})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        if key == "loss" and min(min(e[f"{s}_loss"] for e in logs if f"{s}_loss" in e)
                                 for s in ("train", "val") if f"{s}_loss" in logs[0]) > 0:
            ax.set_yscale("log")
    if title:
        fig.suptitle(title)
    _save(fig, path)


def plot_confusion_matrix(
    cm: Any,
    path: str | os.PathLike,
    labels: Sequence[Any] | None = None,
    normalize: bool = False,
    title: str = "Confusion matrix",
) -> None:
    """Save a confusion matrix (rows: true class, columns: predicted) as a heatmap.

    Each cell shows its count (or, with ``normalize=True``, the row fraction).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square 2-D matrix, got shape "
                         f"{cm.shape}")
    n = cm.shape[0]
    labels = list(range(n)) if labels is None else list(labels)
    if len(labels) != n:
        raise ValueError(f"plot_confusion_matrix: {len(labels)} labels for a {n}x{n} matrix")
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    size = max(4.5, 0.5 * n + 2.5)
    fig = _figure(size + 0.8, size)
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    threshold = shown.max() / 2 if shown.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8 if n > 12 else 10,
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_xticks(range(n), [str(x) for x in labels])
    ax.set_yticks(range(n), [str(x) for x in labels])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _save(fig, path)
