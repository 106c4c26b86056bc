"""Learning curves and confusion matrices as PNG files (matplotlib, Agg).

matplotlib is an optional dependency (``pip install chainrule[plot]``), imported
only when a plot is drawn; without it the functions raise ``ImportError`` saying
so. Figures are drawn on a bare :class:`matplotlib.figure.Figure` (Agg canvas),
never through pyplot, so no window opens and no global state changes. Files are
written atomically (:func:`chainrule.io.atomic_write`), as checkpoints are.
Each function returns its ``Figure`` (Jupyter shows it when it is a cell's value).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.io import atomic_write

__all__ = ["plot_learning_curves", "plot_confusion_matrix"]

_TRAIN, _VAL, _BEST, _TESTED, _LR = "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib, which is not installed: pip install 'chainrule[plot]'"
        ) from exc
    # margins set by hand (below): a layout engine would triple the drawing time
    return Figure(figsize=(width, height), dpi=110)


def _save(fig: Any, path: str | os.PathLike) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue())


def _integer_epochs(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _log_scale(ax: Any) -> None:
    """A log y axis labelled 0.05, 0.1, 0.2 (not 5×10⁻²); over more than a decade only
    the ticks at 1, 2 and 5 times a power of ten are labelled."""
    from matplotlib.ticker import FuncFormatter

    ax.set_yscale("log")

    def label(value: float, _: Any) -> str:
        low, high = ax.get_ylim()
        if value <= 0 or high / max(low, 1e-300) < 10:
            return f"{value:.3g}"
        mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
        return f"{value:.3g}" if round(mantissa, 6) in (1, 2, 5) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(label))
    ax.yaxis.set_minor_formatter(FuncFormatter(label))


def _logs(history: Any) -> list[Mapping[str, float]]:
    epochs = getattr(history, "epochs", history)
    if not epochs:
        raise ValueError("plot_learning_curves: the history has no epochs")
    return list(epochs)


def plot_learning_curves(
    history: Any,
    path: str | os.PathLike | None,
    monitor: str = "val_loss",
    mode: str = "min",
    title: str | None = None,
    tested_epoch: int | None = None,
    lr_panel: bool | None = None,
) -> Any:
    """Save loss and accuracy per epoch, train vs validation, best epoch marked.

    ``history`` is a :class:`~chainrule.train.History` or its list of epoch dicts.
    The best epoch is the one with the best ``monitor`` (falls back to
    ``train_loss`` when there is no validation). ``tested_epoch`` marks the epoch
    whose weights were tested. ``lr_panel`` adds a panel of the learning rate per
    epoch (default: when the logged ``lr`` changes). Epoch ticks are integers.
    ``path=None`` only returns the figure.
    """
    logs = _logs(history)
    epochs = [e["epoch"] for e in logs]
    if monitor not in logs[0]:
        monitor, mode = "train_loss", "min"
    values = [e[monitor] for e in logs]
    best = int(np.argmin(values) if mode == "min" else np.argmax(values))
    panels = [("loss", "loss")] + ([("accuracy", "accuracy")] if "train_accuracy" in logs[0]
                                   else [])
    rates = [e["lr"] for e in logs if "lr" in e]
    if len(rates) < len(logs):
        lr_panel = False
    elif lr_panel is None:
        lr_panel = len(set(rates)) > 1
    if lr_panel:
        panels.append(("lr", "learning rate"))
    fig = _figure(5.2 * len(panels), 4.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    tested_is_best = tested_epoch is not None and tested_epoch == epochs[best]
    for ax, (key, label) in zip(axes, panels):
        if key == "lr":
            ax.plot(epochs, rates, color=_LR, marker="o", markersize=3, linewidth=1.6,
                    label="lr (during the epoch)")
            if min(rates) > 0 and max(rates) / min(rates) > 20:
                _log_scale(ax)
        for split, color in (("train", _TRAIN), ("val", _VAL)):
            name = f"{split}_{key}"
            if name in logs[0]:
                series = [e[name] for e in logs]
                ax.plot(epochs, series, color=color, marker="o", markersize=3, linewidth=1.6,
                        label="train" if split == "train" else "validation")
                if split == monitor.split("_")[0]:  # the star sits on the monitored curve
                    ax.plot(epochs[best], series[best], marker="*", markersize=13,
                            color=_BEST, markeredgecolor="black", zorder=5)
        what = "best and tested epoch" if tested_is_best else "best epoch"
        ax.axvline(epochs[best], color=_BEST, linestyle="--", linewidth=1.2,
                   label=f"{what} {epochs[best]} ({monitor} {values[best]:.4g})")
        if tested_epoch is not None and not tested_is_best:
            ax.axvline(tested_epoch, color=_TESTED, linestyle=":", linewidth=1.8,
                       label=f"tested epoch {tested_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        _integer_epochs(ax)
        if key == "loss" and min(min(e[f"{s}_loss"] for e in logs if f"{s}_loss" in e)
                                 for s in ("train", "val") if f"{s}_loss" in logs[0]) > 0:
            _log_scale(ax)
    if title:
        fig.suptitle(title)
    inch = 1 / fig.get_figwidth()  # margins in inches, whatever the number of panels
    fig.subplots_adjust(left=0.85 * inch, right=1 - 0.2 * inch, bottom=0.13,
                        top=0.84 if title else 0.9, wspace=0.25)
    if path is not None:
        _save(fig, path)
    return fig


def plot_confusion_matrix(
    cm: Any,
    path: str | os.PathLike | None,
    labels: Sequence[Any] | None = None,
    normalize: bool = False,
    title: str = "Confusion matrix",
    show_accuracy: bool = True,
) -> Any:
    """Save a confusion matrix (rows: true class, columns: predicted) as a heatmap.

    Each cell shows its count (or, with ``normalize=True``, the row fraction).
    ``show_accuracy`` adds to the title the accuracy the matrix holds (diagonal
    over total: ``accuracy 0.9750 (351/360)``). ``path=None`` only returns the
    figure.
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
    total = cm.sum()
    if show_accuracy and total > 0:
        correct = np.trace(cm)
        counts = (f" ({int(correct)}/{int(total)})"
                  if np.issubdtype(cm.dtype, np.integer) else "")
        title = f"{title}\naccuracy {correct / total:.4f}{counts}"
    ax.set_title(title)
    fig.subplots_adjust(left=0.1, right=0.95, bottom=0.1, top=0.88)
    if path is not None:
        _save(fig, path)
    return fig
