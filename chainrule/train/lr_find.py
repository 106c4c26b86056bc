"""The learning-rate range test (Smith 2017; fastai's ``lr_find``): :func:`lr_find`.

>>> result = lr_find(model, F.cross_entropy, optimizer, train_loader)   # doctest: +SKIP
>>> result.suggestion, result.plot("lr_find.png")                        # doctest: +SKIP

Batch i of the sweep (i = 0 … n − 1, at most one epoch of ``loader``) trains with

    lrᵢ = start_lr · (end_lr / start_lr)^(i / (n − 1))        (every param group)

and records the exponentially smoothed, bias-corrected loss (fastai's)::

    avgᵢ = s · avgᵢ₋₁ + (1 − s) · lossᵢ        smoothedᵢ = avgᵢ / (1 − sⁱ⁺¹)

The sweep stops early, after recording it, at the first batch whose smoothed loss
exceeds ``diverge`` × the best smoothed loss so far, and before any batch whose loss
is not finite. Suggestion: the learning rate of the lowest smoothed loss divided by
10 (fastai's "minimum / 10", Smith's rule of thumb: the loss is still falling fast an
order of magnitude below where it bottoms out), raised to the first lr of the sweep
if it would fall below it.

Afterwards everything the sweep touched is as it was, bit for bit: parameters, their
``.grad``, buffers (BatchNorm's running statistics and batch counts), each module's
training flag, the optimizer's state and param groups (lr included), the global
random generator (dropout), and the loader's shuffling state when it has
``state_dict`` (:class:`~chainrule.data.DataLoader`). Such a loader must be between
epochs (before training, or after a complete epoch); one in the middle of an epoch is
refused with a ``ValueError``, before anything changes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule import random as _random
from chainrule.io import atomic_write
from chainrule.tensor import Tensor

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured.

    ``lrs[i]`` is the learning rate of batch i, ``losses[i]`` the smoothed loss after it
    and ``raw_losses[i]`` its loss; ``best_lr`` is the lr of the lowest smoothed loss,
    ``suggestion`` = max(best_lr / 10, lrs[0]); ``stopped_early`` tells that the loss
    diverged before the sweep ended.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    best_lr: float
    suggestion: float
    stopped_early: bool

    def plot(self, path: str | os.PathLike | None) -> Any:
        """Smoothed (and raw) loss against the learning rate, log x, the suggestion and
        the minimum marked; a PNG to ``path`` (atomically) unless None. Returns the Figure."""
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError("plotting needs matplotlib, which is not installed: "
                              "pip install 'chainrule[plot]'") from exc
        import io

        fig = Figure(figsize=(6.4, 4.4), dpi=100)
        ax = fig.subplots()
        ax.plot(self.lrs, self.raw_losses, color="#1f77b4", alpha=0.3, linewidth=1,
                label="batch loss")
        ax.plot(self.lrs, self.losses, color="#1f77b4", linewidth=1.8, label="smoothed loss")
        at = float(np.interp(np.log(self.suggestion), np.log(self.lrs), self.losses))
        ax.plot([self.suggestion], [at], "o", color="#d62728", markersize=8,
                label=f"suggestion {self.suggestion:.2g} (minimum / 10)")
        ax.axvline(self.best_lr, color="#7f7f7f", linestyle="--", linewidth=1,
                   label=f"minimum at lr {self.best_lr:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        top = max(float(self.losses[0]), float(np.min(self.losses))) * 1.5
        low = float(np.min(self.raw_losses))
        ax.set_ylim(low - 0.05 * (top - low), top)
        ax.legend(fontsize=8)
        ax.set_title("learning-rate range test" + (" (stopped: the loss diverged)"
                                                   if self.stopped_early else ""))
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.9)
        if path is not None:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            atomic_write(path, buffer.getvalue())
        return fig


class _Snapshot:
    """Everything :func:`lr_find` changes, copied, and put back in place by ``restore``."""

    def __init__(self, model: Any, optimizer: Any, loader: Any) -> None:
        self.tensors = _tensors(model)
        self.values = [t.data.copy() for t in self.tensors]
        self.grads = [None if t.grad is None else t.grad.data.copy() for t in self.tensors]
        self.modes = [(m, m.training) for m in model.modules()]
        self.optimizer, self.optimizer_state = optimizer, optimizer.state_dict()
        self.rng = _random.get_rng_state()
        self.loader = loader if callable(getattr(loader, "state_dict", None)) else None
        self.loader_state = None if self.loader is None else self.loader.state_dict()

    def restore(self) -> None:
        for t, value, grad in zip(self.tensors, self.values, self.grads):
            np.copyto(t.data, value)  # in place: the optimizer keeps the same arrays
            t.grad = grad  # a copy of the old gradient, or None
        for module, mode in self.modes:
            module.training = mode
        self.optimizer.load_state_dict(self.optimizer_state)
        _random.set_rng_state(self.rng)
        if self.loader is not None:
            self.loader.load_state_dict(self.loader_state)


def _tensors(model: Any) -> list[Tensor]:
    """Parameters and buffers (persistent or not), each once."""
    seen: set[int] = set()
    out = []
    for t in [*model.parameters(), *(b for _, b in model.named_buffers())]:
        if t is not None and id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def _split(batch: Any) -> tuple[Any, Any]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"lr_find: the loader must yield (input, target) pairs, got "
                        f"{type(batch).__name__}")
    return batch[0], batch[1]


def _check(name: str, value: Any, valid: bool, expected: str) -> None:
    if not valid:
        raise ValueError(f"lr_find: {name} must be {expected}, got {value!r}")


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))


def lr_find(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Any,
    loader: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10,
    num_iter: int | None = None,
    smooth: float = 0.98,
    diverge: float = 4.0,
) -> LRFinderResult:
    """Sweep the learning rate exponentially from ``start_lr`` to ``end_lr`` over
    ``num_iter`` batches (default and at most: one epoch of ``loader``), training
    ``model`` with ``optimizer`` on ``loss_fn(model(x), y)``; then restore model,
    optimizer, random state and loader exactly. See the module docstring for the
    schedule, the smoothing, the early stop and the suggestion.
    """
    _check("start_lr", start_lr, _is_number(start_lr) and start_lr > 0, "a number > 0")
    _check("end_lr", end_lr, _is_number(end_lr) and end_lr > start_lr,
           f"a number > start_lr={start_lr!r}")
    _check("smooth", smooth, _is_number(smooth) and 0 <= smooth < 1, "in [0, 1)")
    _check("diverge", diverge, _is_number(diverge) and diverge > 1, "a number > 1")
    try:
        batches = len(loader)  # type: ignore[arg-type]
    except TypeError:
        batches = None
    if num_iter is None:
        if batches is None:
            raise ValueError("lr_find: the loader has no len(); give num_iter")
        num_iter = batches
    _check("num_iter", num_iter, isinstance(num_iter, int) and not isinstance(num_iter, bool)
           and num_iter >= 2, "an int >= 2")
    if batches is not None and num_iter > batches:
        raise ValueError(f"lr_find: num_iter={num_iter} is more than one epoch of the loader "
                         f"({batches} batches)")
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_iter) / (num_iter - 1))

    loader_state = getattr(loader, "state_dict", None)
    done = loader_state().get("batches_done", 0) if callable(loader_state) else 0
    if done:
        raise ValueError(f"lr_find: the loader is in the middle of an epoch ({done} batches "
                         f"done), whose shuffling state cannot be put back; run lr_find "
                         f"before training or between epochs, or give it a new loader")
    snapshot = _Snapshot(model, optimizer, loader)
    smoothed: list[float] = []
    raw: list[float] = []
    stopped = False
    try:
        model.train()
        avg, best = 0.0, math.inf
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i, batch in zip(range(num_iter), loader):
                x, y = _split(batch)
                for group in optimizer.param_groups:
                    group["lr"] = float(lrs[i])
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                value = float(loss.item())
                if not math.isfinite(value):
                    stopped = True
                    break
                loss.backward()
                optimizer.step()
                avg = smooth * avg + (1 - smooth) * value
                smoothed.append(avg / (1 - smooth ** (i + 1)))
                raw.append(value)
                best = min(best, smoothed[-1])
                if smoothed[-1] > diverge * best:
                    stopped = True
                    break
    finally:
        snapshot.restore()
    if not smoothed:
        raise ValueError(f"lr_find: the loss was not finite at the first batch "
                         f"(lr {start_lr:g}); nothing to suggest")
    losses = np.array(smoothed)
    best_lr = float(lrs[int(np.argmin(losses))])
    return LRFinderResult(lrs[: len(losses)].copy(), losses, np.array(raw), best_lr,
                          max(best_lr / 10, float(lrs[0])), stopped)
