"""Gradient flow: a :func:`~chainrule.train.fit` callback that watches every layer and
says in plain words when a network cannot learn.

>>> flow = GradientFlow("flow.png")                                       # doctest: +SKIP
>>> fit(model, F.cross_entropy, opt, loader, epochs=5, callbacks=[flow])  # doctest: +SKIP
>>> print(flow.summary())                                                 # doctest: +SKIP

What it records, per epoch, over the epoch's training batches (never the
validation passes, which run in eval mode):

- each weight layer (``Linear``, ``Conv1d``, ``Conv2d``; a hook on its weight):
  ``grad_norm``, the mean over batches of ‖∂L/∂W‖ = √(Σ (∂L/∂W)²), and
  ``update_ratio``, the mean over the optimizer's steps of ‖Δw‖/‖w‖ (Δw the
  change a step made, w the weight before it; about 1e-3 is the usual rule of
  thumb, far above means a learning rate too high, far below one too low);
- each activation module (``ReLU``, ``Sigmoid``, ``Tanh``, ``LeakyReLU``, ``ELU``,
  ``GELU``, ``Softplus``, ``PReLU``; a forward hook, and a hook on its output):
  ``mean`` and ``std`` of all its outputs, ``grad_norm``, the mean over batches of
  ‖∂L/∂a‖ for its output a (the back-propagated signal), and

  - ReLU: ``dead``, the fraction of units never positive during the epoch (a
    unit is one feature of a ``Linear`` output, one channel of a feature map);
  - Tanh: ``saturated``, the fraction of outputs with |tanh| > 0.99 (where
    1 − tanh² < 0.02); Sigmoid: of outputs with σ < 0.01 or σ > 0.99 (where
    σ(1 − σ) < 0.0099).

A module called several times in one forward pass is recorded once per call
(``act``, ``act#2``, ...); activations computed with ``F.relu`` and friends
instead of modules are not seen.

What it reports, each kind of problem the first time it is seen in a run (naming
the layers, the likely cause and a remedy); the thresholds are arguments:

- ``vanishing``: the gradient reaching the first activation layer is less than
  ``vanishing_ratio`` (1e-3) times the one reaching the last, or the first
  weight layer's gradient less than ``vanishing_ratio`` times the last one's,
  or a weight layer's gradient norm is below ``tiny`` (1e-7);
- ``exploding``: the gradient reaching the first activation layer is more than
  ``exploding_ratio`` (1e3) times the one reaching the last, or a weight
  gradient's norm is above ``huge`` (1e3) or not finite;
- ``dead``: more than ``dead`` (0.5) of a ReLU layer's units never fired;
- ``saturated``: more than ``saturated`` (0.3) of a sigmoid/tanh layer's
  outputs are saturated;
- ``symmetric``: all units of a weight layer have identical weights and
  biases, so they get identical gradients and never become different.

(Why the activations' gradients and not only the weights'? In a deep network
whose initial weights are too small, ∂L/∂W_l = δ_l h_{l-1}ᵀ: the back-propagated
δ_l shrinks towards the input as fast as the activations h_l shrink towards the
output, so every layer's weight gradient is about equally tiny, and only the
ratio of the δs shows where the signal dies.)

``report="warn"`` (the default) issues a :class:`DiagnosticWarning`;
``report="print"`` prints a line after the epoch's line, unless :func:`fit` runs
with ``verbose=0``; ``report="off"`` only records (``findings``). With ``path``
a PNG of the records is written at the end of training (:meth:`GradientFlow.plot`).

It costs nothing when not used, and removes its hooks at the end of training
(:func:`fit` calls ``on_train_end`` unless it raises: then call ``close()``, or
use the callback as a context manager, ``with GradientFlow() as flow: fit(...)``);
the hooks only read, so training gives bit for bit the same weights with it. An
epoch cut short by a non-finite loss (``on_nonfinite="stop"``) is recorded and
diagnosed too, since that is when gradients explode.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from chainrule import nn
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback
from chainrule.train.plots import _figure, _integer_epochs, _log_scale, _save

__all__ = ["DiagnosticWarning", "Finding", "GradientFlow"]

WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d)
ACTIVATIONS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.LeakyReLU: "other",
               nn.ELU: "other", nn.GELU: "other", nn.Softplus: "other", nn.PReLU: "other"}
SATURATION = {"tanh": "|tanh| > 0.99", "sigmoid": "σ < 0.01 or σ > 0.99"}

REMEDY_INIT = "nn.init.xavier_normal_ for tanh/sigmoid layers, nn.init.kaiming_normal_ for ReLU"


class DiagnosticWarning(UserWarning):
    """What :class:`GradientFlow` found wrong with a network's training."""


class Finding(NamedTuple):
    """One problem: the epoch, its kind (``'vanishing'``, ``'exploding'``, ``'dead'``,
    ``'saturated'``, ``'symmetric'``), the layer's name and the message in plain words."""

    epoch: int
    kind: str
    layer: str
    message: str


def _norm(array: np.ndarray) -> float:
    """‖a‖ = √(a·a), one BLAS dot in the array's dtype (float32: relative error ~1e-7)."""
    flat = np.ravel(array)
    with np.errstate(over="ignore", invalid="ignore"):  # exploding: inf, reported as such
        return math.sqrt(float(np.dot(flat, flat)))


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


class _WeightWatch:
    """‖∂L/∂W‖ of each backward and ‖Δw‖/‖w‖ of each step, over one epoch. Two buffers of
    the weight's shape, allocated once, hold w before the step and Δw."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.weight: Tensor = module.weight
        self.before = np.empty_like(self.weight.data)  # w when the last gradient came
        self.change = np.empty_like(self.weight.data)
        self.before_norm: float | None = None  # None: no step to measure
        self.norms: list[float] = []
        self.ratios: list[float] = []

    def on_grad(self, grad: Tensor) -> None:
        self.norms.append(_norm(grad.data))
        self.stepped()
        np.copyto(self.before, self.weight.data)
        self.before_norm = _norm(self.before)

    def stepped(self) -> None:
        """Record ‖Δw‖/‖w‖ of the step made since the last gradient, if any."""
        if self.before_norm is not None:
            np.subtract(self.weight.data, self.before, out=self.change)
            change = _norm(self.change)
            self.ratios.append(change / self.before_norm if self.before_norm > 0 else math.nan)
            self.before_norm = None

    def epoch(self) -> dict[str, float]:
        self.stepped()
        out = {"grad_norm": _mean(self.norms), "update_ratio": _mean(self.ratios)}
        self.norms, self.ratios = [], []
        return out


class _ActivationWatch:
    """Count, mean and M2 = Σ (a - mean)² of the outputs (batches merged by Chan's
    parallel update, in float64), which units fired, how many outputs saturated, and
    ‖∂L/∂a‖ per batch, over one epoch."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.reset()

    def reset(self) -> None:
        self.n, self.mean, self.m2, self.saturated = 0, 0.0, 0.0, 0
        self.fired: np.ndarray | None = None
        self.grad_norms: list[float] = []

    def on_output(self, a: np.ndarray) -> None:
        n = a.size
        mean = float(a.mean()) if n else 0.0  # pairwise summation
        m2 = _norm(a - np.asarray(mean, dtype=a.dtype)) ** 2
        total = self.n + n
        if total:
            delta = mean - self.mean
            self.m2 += m2 + delta * delta * self.n * n / total
            self.mean += delta * n / total
            self.n = total
        if self.kind == "relu":
            units = a.reshape(len(a), -1) if a.ndim < 2 else a
            axes = (0, *range(2, units.ndim))
            fired = (units > 0).any(axis=axes)
            self.fired = fired if self.fired is None else self.fired | fired
        elif self.kind == "tanh":
            self.saturated += int(np.count_nonzero(np.abs(a) > 0.99))
        elif self.kind == "sigmoid":
            self.saturated += int(np.count_nonzero((a < 0.01) | (a > 0.99)))

    def on_grad(self, grad: Tensor) -> None:
        self.grad_norms.append(_norm(grad.data))

    def epoch(self) -> dict[str, float]:
        out = {"grad_norm": _mean(self.grad_norms),
               "mean": self.mean if self.n else math.nan,
               "std": math.sqrt(self.m2 / self.n) if self.n else math.nan}
        if self.kind == "relu":
            out["dead"] = float(np.mean(~self.fired)) if self.fired is not None else math.nan
        elif self.kind in SATURATION:
            out["saturated"] = self.saturated / self.n if self.n else math.nan
        self.reset()
        return out


class GradientFlow(Callback):
    """Record, per layer and epoch, gradient norms, update ratios and activation
    statistics; warn when gradients vanish or explode or units die, saturate or stay
    identical; save a PNG (see :mod:`chainrule.train.diagnostics` for the formulas).

    After training: ``weights[name]`` and ``activations[name]`` map each statistic to
    its per-epoch list (``epochs`` gives the epoch numbers), ``kinds[name]`` is the
    layer's class, ``findings`` the problems found (:class:`Finding`).
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        report: str = "warn",
        vanishing_ratio: float = 1e-3,
        exploding_ratio: float = 1e3,
        tiny: float = 1e-7,
        huge: float = 1e3,
        dead: float = 0.5,
        saturated: float = 0.3,
    ) -> None:
        if report not in ("warn", "print", "off"):
            raise ValueError(f"GradientFlow: report must be 'warn', 'print' or 'off', "
                             f"got {report!r}")
        for name, value, low, high in (("vanishing_ratio", vanishing_ratio, 0, 1),
                                       ("exploding_ratio", exploding_ratio, 1, math.inf),
                                       ("tiny", tiny, 0, math.inf), ("huge", huge, 0, math.inf),
                                       ("dead", dead, 0, 1), ("saturated", saturated, 0, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not low <= value <= high:
                raise ValueError(f"GradientFlow: {name} must be a number in [{low}, {high}], "
                                 f"got {value!r}")
        self.path = None if path is None else os.fspath(path)
        self.report = report
        self.vanishing_ratio, self.exploding_ratio = float(vanishing_ratio), float(exploding_ratio)
        self.tiny, self.huge = float(tiny), float(huge)
        self.dead, self.saturated = float(dead), float(saturated)
        self._handles: list[Any] = []
        self._reset()

    def _reset(self) -> None:
        self.epochs: list[int] = []
        self.weights: dict[str, dict[str, list[float]]] = {}
        self.activations: dict[str, dict[str, list[float]]] = {}
        self.kinds: dict[str, str] = {}
        self.findings: list[Finding] = []
        self._weight_watches: dict[str, _WeightWatch] = {}
        self._activation_watches: dict[str, _ActivationWatch] = {}
        self._calls: dict[str, int] = {}
        self._order: dict[str, int] = {}  # module name -> its place in named_modules()

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self) -> None:
        self.close()
        self._reset()
        model = self.context["model"]
        if not isinstance(model, nn.Module):
            raise TypeError(f"GradientFlow: the model must be a chainrule.nn.Module, got "
                            f"{type(model).__name__}")
        for name, module in model.named_modules():
            name = name or type(module).__name__
            self._order[name] = len(self._order)
            if isinstance(module, WEIGHT_LAYERS) and module.weight.requires_grad:
                watch = self._weight_watches[name] = _WeightWatch(module)
                self.kinds[name] = type(module).__name__
                self._handles.append(module.weight.register_hook(watch.on_grad))
            elif type(module) in ACTIVATIONS:
                self._handles.append(module.register_forward_hook(self._activation_hook(name)))
        self._handles.append(model.register_forward_hook(self._forward_done))

    def _activation_hook(self, name: str) -> Any:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if not module.training or not isinstance(output, Tensor):
                return  # validation, evaluation
            call = self._calls[name] = self._calls.get(name, 0) + 1
            key = name if call == 1 else f"{name}#{call}"
            watch = self._activation_watches.get(key)
            if watch is None:
                watch = self._activation_watches[key] = _ActivationWatch(
                    ACTIVATIONS[type(module)])
                self.kinds[key] = type(module).__name__
            watch.on_output(output.data)
            if output.requires_grad:
                output.register_hook(watch.on_grad)

        return hook

    def _forward_done(self, module: nn.Module, args: Any, output: Any) -> None:
        self._calls.clear()  # the next forward pass counts calls from 1 again

    def close(self) -> None:
        """Remove every hook (done by ``on_train_end``; safe to call twice)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> GradientFlow:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def on_train_end(self) -> None:
        """Record an epoch cut short (a non-finite loss stopped training), remove the hooks,
        save the PNG."""
        if any(w.norms for w in self._weight_watches.values()) or \
                any(a.n for a in self._activation_watches.values()):
            history = self.context.get("history")
            self.on_epoch_end(len(history) + 1 if history is not None else
                              (self.epochs[-1] if self.epochs else 0) + 1, {})
        self.close()
        if self.path is not None and self.epochs:
            self.plot(self.path)

    # ---------------------------------------------------------------- records
    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        done = len(self.epochs)
        self.epochs.append(epoch)
        for name, watch in self._weight_watches.items():
            _append(self.weights, name, watch.epoch(), done)
        for name, watch in self._activation_watches.items():
            _append(self.activations, name, watch.epoch(), done)
        for finding in self._diagnose(epoch):
            if all(f.kind != finding.kind for f in self.findings):
                self.findings.append(finding)
                self._report(finding)

    def _report(self, finding: Finding) -> None:
        if self.report == "warn":
            warnings.warn(f"GradientFlow, epoch {finding.epoch}: {finding.message}",
                          DiagnosticWarning, stacklevel=4)
        elif self.report == "print" and self.context.get("verbose", 2) != 0:
            print(f"  diagnose: {finding.message}", file=sys.stdout, flush=True)

    # ------------------------------------------------------------- diagnosis
    def _last(self, table: dict[str, dict[str, list[float]]], key: str) -> list[tuple[str, float]]:
        """(layer, this epoch's value of ``key``) of the layers that have one, in order."""
        found = []
        for name, columns in table.items():
            values = columns.get(key)
            if values and not math.isnan(values[-1]):
                found.append((name, values[-1]))
        return found

    def _place(self, key: str) -> tuple[int, int]:
        """Where layer ``key`` (``name`` or ``name#call``) sits in the model."""
        name, _, call = key.partition("#")
        return self._order[name], int(call or 1)

    def _layer(self, name: str) -> str:
        return f"layer '{name}' ({self.kinds[name]})"

    def _diagnose(self, epoch: int) -> list[Finding]:
        findings = []
        flow = self._flow(epoch)
        if flow is not None:
            findings.append(flow)
        dead = [(n, f) for n, f in self._last(self.activations, "dead") if f > self.dead]
        if dead:
            findings.append(Finding(epoch, "dead", dead[0][0], (
                f"{dead[0][1]:.0%} of the units of {self._layer(dead[0][0])} were never positive "
                f"in epoch {epoch}{_also(dead, ' (also {})')}: a dead ReLU passes no gradient, "
                f"so it never recovers. Likely cause: a learning rate too high, large negative "
                f"biases or a poor initialisation; try a smaller learning rate, "
                f"nn.init.kaiming_normal_ or LeakyReLU.")))
        saturated = [(n, f) for n, f in self._last(self.activations, "saturated")
                     if f > self.saturated]
        if saturated:
            name = saturated[0][0]
            kind = "tanh" if self.kinds[name] == "Tanh" else "sigmoid"
            slope = "1 - tanh² < 0.02" if kind == "tanh" else "σ(1 - σ) < 0.0099"
            findings.append(Finding(epoch, "saturated", name, (
                f"{saturated[0][1]:.0%} of the outputs of {self._layer(name)} are saturated "
                f"({SATURATION[kind]}{_also(saturated, '; also {}')}): there the slope {slope} "
                f"lets almost no gradient through. Likely cause: initial weights too large or "
                f"inputs not standardised; use nn.init.xavier_normal_ and standardise the "
                f"inputs.")))
        symmetric = [(n, _identical_units(w.module)) for n, w in self._weight_watches.items()]
        symmetric = [(n, units) for n, units in symmetric if units is not None]
        if symmetric:
            name, units = symmetric[0]
            findings.append(Finding(epoch, "symmetric", name, (
                f"the {units} units of {self._layer(name)} have identical weights and biases"
                f"{_also(symmetric, ' (and so do those of {})', spec='')}: they compute the "
                f"same function and get the same gradient, so training can never make them "
                f"differ (the symmetry is never broken). Likely cause: an all-zero or all-equal "
                f"initialisation; initialise the weights randomly (the layers' default, or "
                f"{REMEDY_INIT}).")))
        return findings

    def _flow(self, epoch: int) -> Finding | None:
        """The first sign of vanishing or exploding gradients, or None."""
        signal = self._last(self.activations, "grad_norm")
        weights = self._last(self.weights, "grad_norm")
        if len(signal) >= 2 and signal[-1][1] > 0:
            (first, g_first), (last, g_last) = signal[0], signal[-1]
            ratio = g_first / g_last
            between = (f"the gradient reaching {self._layer(first)} is {ratio:.1e} times the "
                       f"one reaching {self._layer(last)}")
            if ratio < self.vanishing_ratio:
                return Finding(epoch, "vanishing", first, (
                    f"gradients vanish: {between}, so the layers near the input hardly learn. "
                    f"{self._vanishing_cause()}"))
            if ratio > self.exploding_ratio:
                return Finding(epoch, "exploding", first, f"gradients explode: {between}. "
                               f"{_EXPLODING_CAUSE}")
        for name, norm in weights:
            if not math.isfinite(norm) or norm > self.huge:
                return Finding(epoch, "exploding", name, (
                    f"gradients explode: the weights of {self._layer(name)} get a gradient of "
                    f"norm {norm:.3g}. {_EXPLODING_CAUSE}"))
        if len(weights) >= 2 and weights[-1][1] > 0:
            (first, g_first), (last, g_last) = weights[0], weights[-1]
            if g_first < self.vanishing_ratio * g_last:
                return Finding(epoch, "vanishing", first, (
                    f"gradients vanish: the weights of {self._layer(first)} get a gradient "
                    f"{g_first / g_last:.1e} times that of {self._layer(last)}. "
                    f"{self._vanishing_cause()}"))
        for name, norm in weights:
            if norm < self.tiny:
                return Finding(epoch, "vanishing", name, (
                    f"gradients vanish: the weights of {self._layer(name)} get (almost) no "
                    f"gradient (norm {norm:.1e}, below {self.tiny:g}). "
                    f"{self._vanishing_cause()}"))
        return None

    def _vanishing_cause(self) -> str:
        zero = [name for name, w in self._weight_watches.items() if not np.any(w.weight.data)]
        if zero:
            layers = " and ".join(self._layer(name) for name in zero)
            return (f"Likely cause: the weights of {layers} are all zero: no gradient flows back "
                    f"through a zero matrix, nor to a matrix whose inputs are all zero; "
                    f"initialise the weights randomly.")
        saturated = [name for name, s in self._last(self.activations, "saturated")
                     if s > self.saturated]
        if saturated:
            return (f"Likely cause: saturated units in {self._layer(saturated[0])}, whose slope "
                    f"is almost 0; use smaller initial weights ({REMEDY_INIT}).")
        gains = [_gain(w.weight.data) for w in self._weight_watches.values()]
        if gains and np.median(gains) < 0.5:
            return (f"Likely cause: initial weights too small: std(W)·√fan_in is "
                    f"{min(gains):.2g} to {max(gains):.2g} in the weight layers, so each of them "
                    f"shrinks the gradient passing back through it (about 1 keeps its size; "
                    f"use {REMEDY_INIT}).")
        spread = self._last(self.activations, "std")
        if len(spread) >= 2 and spread[-1][1] < 0.1 * spread[0][1]:
            (first, s_first), (last, s_last) = spread[0], spread[-1]
            return (f"Likely cause: initial weights too small: the activations shrink from std "
                    f"{s_first:.2g} in {self._layer(first)} to {s_last:.2g} in "
                    f"{self._layer(last)}, and the gradients shrink the same way on their way "
                    f"back; use {REMEDY_INIT}.")
        return ("Likely causes: initial weights too small, saturated sigmoid/tanh units, or "
                "many layers without normalisation or skip connections.")

    # ---------------------------------------------------------------- output
    def summary(self) -> str:
        """The last epoch's records, one line per layer, and the findings."""
        if not self.epochs:
            return "GradientFlow: nothing recorded yet"
        width = max(len(name) for name in [*self.kinds, 'layer']) + 2
        rows = [f"{'layer':<{width}}{'kind':<9}{'‖grad‖':>10}{'‖Δw‖/‖w‖':>11}{'mean':>10}"
                f"{'std':>10}{'dead':>7}{'satur.':>7}"]
        for name in sorted(self.kinds, key=self._place):
            values = {**self.weights.get(name, {}), **self.activations.get(name, {})}
            cell = {key: values[key][-1] if key in values else None for key in
                    ("grad_norm", "update_ratio", "mean", "std", "dead", "saturated")}
            rows.append(f"{name:<{width}}{self.kinds[name]:<9}{_cell(cell['grad_norm'], '.2e', 10)}"
                        f"{_cell(cell['update_ratio'], '.2e', 11)}{_cell(cell['mean'], '.3g', 10)}"
                        f"{_cell(cell['std'], '.3g', 10)}{_cell(cell['dead'], '.0%', 7)}"
                        f"{_cell(cell['saturated'], '.0%', 7)}")
        rows += [f"epoch {f.epoch}, {f.kind}: {f.message}" for f in self.findings] or \
            ["no problem found"]
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """The records as plain lists and dicts (JSON-ready; missing values are NaN)."""
        return {"epochs": list(self.epochs), "kinds": dict(self.kinds),
                "weights": {k: {s: list(v) for s, v in d.items()} for k, d in self.weights.items()},
                "activations": {k: {s: list(v) for s, v in d.items()}
                                for k, d in self.activations.items()},
                "findings": [f._asdict() for f in self.findings]}

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """A 2 × 3 figure: the gradient norms layer by layer (the gradient flow: first and
        last epoch), ‖∂L/∂W‖, ‖Δw‖/‖w‖ and ‖∂L/∂a‖ per layer over the epochs, the
        activations' std and |mean| layer by layer, and the fractions of dead and
        saturated units over the epochs. Saved as PNG at ``path`` if given; returns the
        matplotlib ``Figure`` (needs ``pip install "chainrule[plot]"``)."""
        if not self.epochs:
            raise ValueError("GradientFlow.plot: nothing recorded yet (train with it first)")
        fig = _figure(14, 7.5)
        axes = fig.subplots(2, 3)
        fig.subplots_adjust(left=0.06, right=0.99, top=0.94, bottom=0.1, hspace=0.4,
                            wspace=0.22)
        self._plot_by_layer(axes[0, 0], axes[1, 0])
        for ax, table, key, title in (
                (axes[0, 1], self.weights, "grad_norm", "weights: ‖∂L/∂W‖"),
                (axes[0, 2], self.weights, "update_ratio", "‖Δw‖/‖w‖ per step, ≈ 1e-3 usual"),
                (axes[1, 1], self.activations, "grad_norm", "activations: ‖∂L/∂a‖")):
            for (name, columns), color in zip(table.items(), _colors(len(table))):
                ax.plot(self.epochs, columns[key], "o-", color=color, ms=3, label=name)
            ax.set_title(f"{title} (input → output: light → dark)", fontsize=9)
        axes[0, 2].axhline(1e-3, color="grey", lw=0.8, ls="--")
        ax = axes[1, 2]
        fractions = [(n, key) for n in self.activations for key in ("dead", "saturated")
                     if key in self.activations[n]]
        for (name, key), color in zip(fractions, _colors(len(fractions))):
            ax.plot(self.epochs, self.activations[name][key], "o-", color=color, ms=3,
                    label=f"{name} {key}")
        ax.set_ylim(-0.03, 1.03)
        ax.set_title("fraction of dead ReLUs / saturated sigmoid, tanh", fontsize=9)
        for ax in (axes[0, 1], axes[0, 2], axes[1, 1], axes[1, 2]):
            ax.set_xlabel("epoch")
            _integer_epochs(ax)
        for ax in axes.flat:
            if ax.lines and len(ax.lines) <= 12:
                ax.legend(fontsize=7, ncol=2)
            if ax is not axes[1, 2] and any(v > 0 for line in ax.lines
                                             for v in line.get_ydata()):
                _log_scale(ax)
        if path is not None:
            _save(fig, path)
        return fig

    def _plot_by_layer(self, flow: Any, spread: Any) -> None:
        """Gradient norms (first and last epoch) and activation std and |mean| (last epoch)
        against the layers' places in the model."""
        names = sorted(self.kinds, key=self._place)
        place = {name: i for i, name in enumerate(names)}
        epochs = sorted({0, len(self.epochs) - 1})
        for table, marker, what in ((self.weights, "s", "‖∂L/∂W‖"),
                                    (self.activations, "o", "‖∂L/∂a‖")):
            for e in epochs:
                layers = [n for n in names if n in table]
                flow.plot([place[n] for n in layers], [table[n]["grad_norm"][e] for n in layers],
                          marker + ("-" if e else ":"), ms=4, alpha=1.0 if e else 0.5,
                          color="#d62728" if table is self.weights else "#1f77b4",
                          label=f"{what}, epoch {self.epochs[e]}")
        flow.set_title("gradient flow, layer by layer", fontsize=9)
        acts = [n for n in names if n in self.activations]
        for key, marker, label in (("std", "o-", "std"), ("mean", "x:", "|mean|")):
            values = [self.activations[n][key][-1] for n in acts]
            spread.plot([place[n] for n in acts], np.abs(values), marker, ms=4, color=_ACT,
                        label=f"{label}, epoch {self.epochs[-1]}")
        spread.set_title("activations, layer by layer", fontsize=9)
        for ax in (flow, spread):
            ax.set_xticks(range(len(names)), [f"{n}\n{self.kinds[n]}" for n in names],
                          fontsize=6)


_EXPLODING_CAUSE = ("Likely cause: a learning rate too high or initial weights too large; "
                    "lower the learning rate, clip the gradients (nn.utils.clip_grad_norm_) or "
                    "use nn.init.xavier_normal_ / kaiming_normal_.")


def _append(table: dict[str, dict[str, list[float]]], name: str, values: Mapping[str, float],
            done: int) -> None:
    """Add one epoch's ``values`` to ``table[name]`` (NaN for the epochs before it appeared)."""
    columns = table.setdefault(name, {})
    for key, value in values.items():
        columns.setdefault(key, [math.nan] * done).append(value)


def _also(layers: list[tuple[str, Any]], template: str, spec: str = ".0%") -> str:
    """``template`` filled with the layers after the first (``'5': 60%, '7': 70%``, or
    ``'5', '7'`` with ``spec=''``), or ``''`` if there are none."""
    if len(layers) < 2:
        return ""
    return template.format(", ".join(f"'{n}'" + (f": {v:{spec}}" if spec else "")
                                     for n, v in layers[1:]))


def _gain(w: np.ndarray) -> float:
    """std(W)·√fan_in: how much a layer scales a signal passing through it (Xavier gives
    about 1, He √2)."""
    return float(w.std() * math.sqrt(w[0].size)) if len(w) else 0.0


def _identical_units(module: nn.Module) -> int | None:
    """The number of units of a weight layer if it has two or more and all have the same
    weights and bias, else None."""
    w = module.weight.data
    if len(w) < 2:
        return None
    rows = w.reshape(len(w), -1)
    bias = getattr(module, "bias", None)
    if np.any(rows != rows[0]) or (bias is not None and np.any(bias.data != bias.data[0])):
        return None
    return len(w)


_ACT = "#1f77b4"


def _colors(n: int) -> list[Any]:
    """``n`` shades from light (near the input) to dark (near the output)."""
    from matplotlib import colormaps

    return [colormaps["viridis_r"](0.15 + 0.8 * i / max(n - 1, 1)) for i in range(n)]


def _cell(value: float | None, spec: str, width: int) -> str:
    if value is None:
        return " " * width
    return f"{value:>{width}{spec}}" if math.isfinite(value) else f"{'nan':>{width}}"
