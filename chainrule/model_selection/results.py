"""The result of a search: its trials ranked by mean validation accuracy, the chosen
configuration and its single test score, as a table, CSV or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule.model_selection.space import DISTRIBUTIONS

__all__ = ["SearchResult", "Trial"]


@dataclass
class Trial:
    """One configuration's cross-validation: ``scores`` (accuracy) and ``losses`` per fold,
    or ``error`` (``status`` ``'failed'``: the first fold that raised, as
    ``'ValueError: ...'``). ``index`` is its place in the search's order (from 0; shown
    as ``trial`` from 1), ``rank`` its place by score (from 1; None when it failed)."""

    index: int
    config: dict[str, Any]
    scores: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    rank: int | None = None

    @property
    def status(self) -> str:
        return "failed" if self.error is not None else "ok"

    @property
    def mean(self) -> float:
        """Mean validation accuracy over the folds, ``Σ s_k / K`` (nan if failed)."""
        return float(np.mean(self.scores)) if self.error is None else math.nan

    @property
    def std(self) -> float:
        """``√(Σ (s_k - mean)² / K)``, the population std (as scikit-learn's cv_results_)."""
        return float(np.std(self.scores)) if self.error is None else math.nan

    @property
    def mean_loss(self) -> float:
        return float(np.mean(self.losses)) if self.error is None else math.nan

    @property
    def std_loss(self) -> float:
        return float(np.std(self.losses)) if self.error is None else math.nan

    def to_dict(self) -> dict[str, Any]:
        ok = self.error is None
        return {"rank": self.rank, "trial": self.index + 1, "status": self.status,
                "mean_accuracy": self.mean if ok else None,
                "std_accuracy": self.std if ok else None,
                "mean_loss": self.mean_loss if ok else None,
                "std_loss": self.std_loss if ok else None, "accuracy": self.scores,
                "loss": self.losses, "seconds": self.seconds, "error": self.error,
                "config": self.config}


def rank_trials(trials: list[Trial]) -> list[Trial]:
    """The trials ranked: by mean validation accuracy (highest first), then mean loss
    (lowest first), then trial number; failed trials last, unranked."""
    ok = sorted((t for t in trials if t.error is None),
                key=lambda t: (-t.mean, t.mean_loss, t.index))
    for rank, trial in enumerate(ok, start=1):
        trial.rank = rank
    failed = sorted((t for t in trials if t.error is not None), key=lambda t: t.index)
    for trial in failed:
        trial.rank = None
    return ok + failed


def _describe(candidates: Any) -> Any:
    if isinstance(candidates, DISTRIBUTIONS):
        kind = {"Uniform": "uniform", "LogUniform": "log_uniform",
                "IntUniform": "int_log_uniform" if getattr(candidates, "log", False)
                else "int_uniform"}[type(candidates).__name__]
        return {kind: [candidates.low, candidates.high]}
    return candidates


def format_value(value: Any) -> str:
    """A configuration value in a table cell: floats to 4 significant digits, lists compact."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


@dataclass
class SearchResult:
    """What :func:`grid_search`, :func:`random_search` and :func:`optuna_search` return.

    ``trials`` are ranked (:func:`rank_trials`); ``best_config`` is the first one's
    configuration (None if every trial failed). ``test_score``/``test_loss``: the
    accuracy and loss on the test split of ``best_model`` — the best configuration
    trained again on all the search data — computed once (None without a test
    split). ``table`` is the ranked trials as dicts; ``to_csv`` and ``to_json`` write
    them; ``str(result)`` is a readable table.
    """

    kind: str
    trials: list[Trial]
    space: dict[str, Any]
    fixed: dict[str, Any]
    seed: int
    folds: int
    samples: int
    best_config: dict[str, Any] | None = None
    test_score: float | None = None
    test_loss: float | None = None
    test_samples: int | None = None
    best_model: Any = field(default=None, repr=False)
    study: Any = field(default=None, repr=False)  # optuna_search: the Optuna study

    @property
    def best(self) -> Trial | None:
        return self.trials[0] if self.trials and self.trials[0].error is None else None

    @property
    def table(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.trials]

    def to_dict(self) -> dict[str, Any]:
        test = None if self.test_score is None else {
            "accuracy": self.test_score, "loss": self.test_loss, "samples": self.test_samples}
        return {"kind": self.kind, "seed": self.seed, "folds": self.folds,
                "samples": self.samples, "fixed": self.fixed,
                "space": {k: _describe(v) for k, v in self.space.items()},
                "best_config": self.best_config, "test": test, "trials": self.table}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The result as JSON text (written to ``path`` if given)."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """One row per trial, ranked: rank, trial, status, mean/std accuracy and loss, the
        accuracy of each fold, seconds, error, then each configuration key (lists as
        JSON). Returns the text (written to ``path`` if given)."""
        keys = sorted({k for t in self.trials for k in t.config})
        header = ["rank", "trial", "status", "mean_accuracy", "std_accuracy", "mean_loss",
                  "std_loss", *(f"accuracy_fold{k + 1}" for k in range(self.folds)), "seconds",
                  "error", *keys]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for t in self.trials:
            ok = t.error is None
            folds = t.scores if ok else [""] * self.folds
            writer.writerow([t.rank if ok else "", t.index + 1, t.status,
                             *((t.mean, t.std, t.mean_loss, t.std_loss) if ok else [""] * 4),
                             *folds, f"{t.seconds:.3f}", t.error or "",
                             *(_cell(t.config.get(k, "")) for k in keys)])
        text = buffer.getvalue()
        if path is not None:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        return text

    def __str__(self) -> str:
        names = list(self.space)
        fixed = "  ".join(f"{k}={format_value(v)}" for k, v in sorted(self.fixed.items()))
        lines = [f"{self.kind} search: {len(self.trials)} configurations, {self.folds}-fold "
                 f"cross-validation on {self.samples} samples, seed {self.seed}"
                 + (f"; fixed: {fixed}" if fixed else "")]
        rows = [["rank", "trial", "accuracy (mean ± std)", "loss (mean ± std)", *names,
                 "seconds", ""]]
        for t in self.trials:
            ok = t.error is None
            rows.append([str(t.rank) if ok else "-", str(t.index + 1),
                         f"{t.mean:.4f} ± {t.std:.4f}" if ok else "failed",
                         f"{t.mean_loss:.4f} ± {t.std_loss:.4f}" if ok else "",
                         *(format_value(t.config.get(n, "")) for n in names),
                         f"{t.seconds:.1f}", "" if ok else t.error or ""])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(c.rjust(w) if i < len(r) - 1 else c
                            for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
        if self.best_config is None:
            lines.append("every trial failed: no configuration chosen, the test split untouched")
            return "\n".join(lines)
        chosen = "  ".join(f"{n}={format_value(self.best_config[n])}" for n in names)
        lines.append(f"best: {chosen}  (validation accuracy {self.trials[0].mean:.4f} ± "
                     f"{self.trials[0].std:.4f})")
        if self.test_score is not None:
            lines.append(f"test accuracy {self.test_score:.4f}  loss {self.test_loss:.4f}  (the "
                         f"best configuration trained on all {self.samples} samples, scored "
                         f"once on {self.test_samples} test samples)")
        return "\n".join(lines)
