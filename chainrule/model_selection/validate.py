"""k-fold cross-validation of a model built from a configuration.

A *configuration* is a dict. ``build(config)`` makes the model (an ``nn.Module``)
from it — reading what it needs, such as ``dropout``, ``width`` or ``depth`` — and
the training takes these keys from it (:data:`TRAINING`, defaults in brackets):
``optimizer`` (``'adam'``; any name of :func:`chainrule.train.recipes.build_optimizer`),
``lr`` (that optimizer's default, :data:`~chainrule.train.recipes.DEFAULT_LR`),
``weight_decay`` (0: L2 added to the gradient, decoupled for ``adamw``),
``batch_size`` (32) and ``epochs`` (10).

One fold::

    chainrule.manual_seed(s); model = build(config)        # s = trial_seed(config, seed, k)
    fit(model, loss_fn, optimizer, DataLoader(train folds, shuffle=True, seed=s), epochs=...)
    evaluate(model, validation fold) -> accuracy, loss

so a fold's result depends only on the configuration, the search ``seed`` and the
fold number, never on the worker that ran it or on global random state; the caller's
global generator is left as it was. Trials in the same process run one at a time
(the global generator that dropout and initialisation draw from is per process):
threaded workers give no speed-up, processes do.

The mean and standard deviation over the folds are ``mean = Σ_k s_k / K`` and
``std = √(Σ_k (s_k - mean)² / K)`` (the population std, as scikit-learn's
``cv_results_``).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chainrule import nn
from chainrule.data import DataLoader, Dataset, KFold, TensorDataset
from chainrule.data.dataset import array_view, as_batch_array
from chainrule.model_selection.backends import check_backend, check_picklable, run_tasks
from chainrule.model_selection.space import plain, trial_seed
from chainrule.random import get_rng_state, manual_seed, set_rng_state
from chainrule.train.fit import evaluate, fit
from chainrule.train.recipes import DEFAULT_LR, OPTIMIZERS, build_optimizer

__all__ = ["TRAINING", "CrossValidation", "cross_validate"]

#: The training settings read from a configuration, with their defaults (None: the
#: optimizer's default learning rate).
TRAINING: dict[str, Any] = {"optimizer": "adam", "lr": None, "weight_decay": 0.0,
                            "batch_size": 32, "epochs": 10}
_LOCK = threading.Lock()  # one trial at a time per process: the global generator is shared


def training_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The training settings of ``config`` (:data:`TRAINING` for those it lacks), checked."""
    s = {key: config.get(key, default) for key, default in TRAINING.items()}
    if s["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"config: unknown optimizer {s['optimizer']!r}; choose from {OPTIMIZERS}")
    if s["lr"] is None:
        s["lr"] = DEFAULT_LR[s["optimizer"]]
    for key in ("lr", "weight_decay"):
        value = s[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                key == "lr" and value == 0):
            rule = "a positive number" if key == "lr" else "a number >= 0"
            raise ValueError(f"config: {key} must be {rule}, got {value!r}")
    for key in ("batch_size", "epochs"):
        value = s[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"config: {key} must be a positive int, got {value!r}")
    return s


def train_model(build: Callable[[dict[str, Any]], Any], X: np.ndarray, y: np.ndarray,
                config: Mapping[str, Any], seed: int,
                loss_fn: Callable[..., Any]) -> nn.Module:
    """``build(config)`` trained on ``(X, y)`` as the configuration says, seeded by ``seed``
    (the global generator, then the loader's shuffling)."""
    settings = training_settings(config)
    manual_seed(seed)
    model = build(dict(config))
    if not isinstance(model, nn.Module):
        raise TypeError(f"build(config) must return an nn.Module, got {type(model).__name__}")
    optimizer = build_optimizer(settings["optimizer"], model.parameters(), settings["lr"],
                                settings["weight_decay"])
    loader = DataLoader(TensorDataset(X, y), batch_size=settings["batch_size"], shuffle=True,
                        seed=seed)
    fit(model, loss_fn, optimizer, loader, epochs=settings["epochs"], metrics=(), verbose=0)
    return model


def score(model: nn.Module, X: np.ndarray, y: np.ndarray,
          loss_fn: Callable[..., Any]) -> dict[str, float]:
    """``{"accuracy": ..., "loss": ...}`` of ``model`` on ``(X, y)`` (eval mode, no_grad)."""
    logs = evaluate(model, DataLoader(TensorDataset(X, y), batch_size=1024), loss_fn,
                    metrics=("accuracy",))
    return {"accuracy": logs["accuracy"], "loss": logs["loss"]}


def fit_and_score(build: Callable[[dict[str, Any]], Any], loss_fn: Callable[..., Any],
                  X: np.ndarray, y: np.ndarray, config: dict[str, Any], seed: int,
                  train: np.ndarray, val: np.ndarray) -> dict[str, Any]:
    """One fold of one trial: train on ``train``, score on ``val``. Returns
    ``{"accuracy", "loss", "seconds"}``, or ``{"error", "seconds"}`` if it raised (the
    error is reported, never raised, so the other trials go on)."""
    with _LOCK:
        state = get_rng_state()
        start = time.perf_counter()
        try:
            model = train_model(build, X[train], y[train], config, seed, loss_fn)
            result: dict[str, Any] = score(model, X[val], y[val], loss_fn)
        except Exception as exc:
            result = {"error": traceback.format_exception_only(type(exc), exc)[-1].strip()}
        finally:
            set_rng_state(state)
        result["seconds"] = time.perf_counter() - start
    return result


def as_arrays(dataset: Any, owner: str, name: str = "dataset") -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` arrays of ``dataset``: a pair of arrays/Tensors, or a chainrule Dataset
    whose samples are ``(x, y)`` pairs."""
    if isinstance(dataset, Dataset):
        view = array_view(dataset)
        if view is not None and len(view[0]) == 2:
            arrays, index = view
            X, y = arrays if index is None else (a[index] for a in arrays)
        else:
            samples = [dataset[i] for i in range(len(dataset))]
            if not samples or not all(isinstance(s, (tuple, list)) and len(s) == 2
                                      for s in samples):
                raise ValueError(f"{owner}: {name} must yield (input, target) pairs")
            X, y = (np.stack([as_batch_array(s[j], name) for s in samples]) for j in (0, 1))
    elif isinstance(dataset, (tuple, list)) and len(dataset) == 2:
        X, y = (as_batch_array(a, name) for a in dataset)
    else:
        raise TypeError(f"{owner}: {name} must be (X, y) arrays or a chainrule Dataset of "
                        f"(input, target) pairs, got {type(dataset).__name__}")
    if len(X) != len(y):
        raise ValueError(f"{owner}: {name} has {len(X)} inputs but {len(y)} targets")
    if len(X) < 2:
        raise ValueError(f"{owner}: {name} needs at least 2 samples, got {len(X)}")
    return X, y


def make_splits(cv: Any, X: np.ndarray, y: np.ndarray,
                owner: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, validation)`` indices of every fold of ``cv`` (None: ``KFold(5)``; an
    int: ``KFold(cv)``; or a splitter with ``split(X, y)``, as scikit-learn's). The
    folds are made here, once, so every backend trains on the same ones."""
    if cv is None:
        cv = KFold(5)
    elif isinstance(cv, int) and not isinstance(cv, bool):
        cv = KFold(cv)
    if not hasattr(cv, "split"):
        raise TypeError(f"{owner}: cv must be a number of folds or a splitter such as "
                        f"KFold(5), got {cv!r}")
    if getattr(cv, "shuffle", False) and getattr(cv, "random_state", 0) is None:
        raise ValueError(f"{owner}: cv={type(cv).__name__}(shuffle=True) needs a random_state "
                         f"(e.g. random_state=0), so that the folds do not depend on the "
                         f"global random state")
    return [(np.asarray(train), np.asarray(val)) for train, val in cv.split(X, y)]


def evaluate_configs(build: Callable[[dict[str, Any]], Any], X: np.ndarray, y: np.ndarray,
                     splits: Sequence[tuple[np.ndarray, np.ndarray]],
                     configs: Sequence[dict[str, Any]], seed: int, loss_fn: Callable[..., Any],
                     backend: str, n_jobs: int | None, address: Any, client: Any,
                     owner: str) -> list[list[dict[str, Any]]]:
    """For each configuration, the result of each fold (:func:`fit_and_score`); every
    fold of every configuration is one task of ``backend``."""
    tasks = [(config, trial_seed(config, seed, k), train, val)
             for config in configs for k, (train, val) in enumerate(splits)]
    results = run_tasks(fit_and_score, (build, loss_fn, X, y), tasks, owner=owner,
                        backend=backend, n_jobs=n_jobs, address=address, client=client)
    K = len(splits)
    return [results[i * K:(i + 1) * K] for i in range(len(configs))]


@dataclass
class CrossValidation:
    """The validation scores of one configuration: ``scores`` (accuracy) and ``losses``
    per fold, their ``mean``/``std`` (population std over the folds), ``seconds``
    (the folds' training and scoring time, summed)."""

    config: dict[str, Any]
    scores: list[float]
    losses: list[float]
    seconds: float = field(default=0.0, compare=False)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))

    @property
    def mean_loss(self) -> float:
        return float(np.mean(self.losses))

    @property
    def std_loss(self) -> float:
        return float(np.std(self.losses))

    def __str__(self) -> str:
        return (f"accuracy {self.mean:.4f} ± {self.std:.4f}, loss {self.mean_loss:.4f} ± "
                f"{self.std_loss:.4f} over {len(self.scores)} folds")


def cross_validate(build: Callable[[dict[str, Any]], Any], dataset: Any, cv: Any = None, *,
                   config: Mapping[str, Any] | None = None, seed: int = 0,
                   loss_fn: Callable[..., Any] = nn.functional.cross_entropy,
                   backend: str = "joblib", n_jobs: int | None = None,
                   address: str | None = None, client: Any = None) -> CrossValidation:
    """k-fold cross-validation of the model ``build(config)`` on ``dataset``.

    For each fold ``k`` of ``cv`` (None: ``KFold(5)``; an int: that many folds), the
    model is trained on the other folds (see the module docstring for the settings
    read from ``config`` and the seeding) and scored on fold ``k``: accuracy
    ``s_k`` and mean ``loss_fn``. Returns a :class:`CrossValidation` (per-fold scores,
    ``mean = Σ s_k / K``, ``std = √(Σ (s_k - mean)² / K)``). The folds run in parallel on
    ``backend`` (see :func:`~chainrule.model_selection.grid_search`); a fold that
    raises makes this raise a RuntimeError naming the fold and the error.
    ``dataset`` is ``(X, y)`` arrays or a chainrule Dataset of ``(x, y)`` samples.
    ``backend='dask'`` without ``client``/``address`` starts a local cluster whose
    workers re-run the main script: call it under ``if __name__ == '__main__':``.
    """
    owner = "cross_validate"
    n_jobs = check_backend(backend, n_jobs, owner, address, client)
    check_picklable(owner, backend, build=build, loss_fn=loss_fn)
    config = plain(dict(config or {}))
    training_settings(config)
    X, y = as_arrays(dataset, owner)
    splits = make_splits(cv, X, y, owner)
    (results,) = evaluate_configs(build, X, y, splits, [config], seed, loss_fn, backend,
                                  n_jobs, address, client, owner)
    for k, result in enumerate(results, start=1):
        if "error" in result:
            raise RuntimeError(f"{owner}: fold {k} of {len(results)} failed: {result['error']}")
    return CrossValidation(config, [r["accuracy"] for r in results],
                           [r["loss"] for r in results], sum(r["seconds"] for r in results))
