"""Hyperparameter search: grid, random and Bayesian (Optuna), on any backend.

>>> result = grid_search(build, {"lr": [1e-3, 3e-3], "weight_decay": [0.0, 1e-4]},
...                      (X, y), cv=KFold(5), test=(X_test, y_test))   # doctest: +SKIP
>>> print(result)              # the ranked table, the chosen configuration, its test score

Every trial — one configuration, ``config`` (fixed settings) updated with the
values drawn from ``space`` — is cross-validated: trained on the training folds,
scored on the validation fold, for each fold (see
:mod:`chainrule.model_selection.validate`). Trials are ranked by mean validation
accuracy. Then, once, the best configuration is trained on all of ``dataset``
(seeded by ``trial_seed(config, seed, "refit")``) and, if ``test`` is given, scored
on it: the test split is touched by that one model only.

Every fold of every trial is a task for the ``backend`` (``'joblib'`` by default,
``'dask'``, ``'ray'`` or ``'serial'``; see :mod:`chainrule.model_selection.backends`).
Results are the same on every backend: each fold's seed comes from its
configuration, the search ``seed`` and the fold number only. A trial that raises is
reported (status ``failed``, with the error) and the others go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainrule import nn
from chainrule.model_selection.backends import check_backend, check_picklable
from chainrule.model_selection.results import SearchResult, Trial, rank_trials
from chainrule.model_selection.space import (
    DISTRIBUTIONS,
    IntUniform,
    LogUniform,
    check_space,
    grid,
    plain,
    sample,
    trial_seed,
)
from chainrule.model_selection.validate import (
    as_arrays,
    evaluate_configs,
    make_splits,
    score,
    train_model,
)
from chainrule.random import get_rng_state, set_rng_state
from chainrule.train.recipes import build_model

__all__ = ["RecipeModel", "grid_search", "optuna_search", "random_search"]

Build = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class RecipeModel:
    """``build(config)`` for the recipe models: :func:`chainrule.train.recipes.build_model`
    ``(name, dataset, config["hidden"], config["dropout"], channels=config["channels"],
    depth=config["depth"], num_classes=num_classes)``, each size the model's default when
    the configuration lacks it. Picklable, so it runs on every backend."""

    name: str
    dataset: str
    num_classes: int | None = None

    def __call__(self, config: Mapping[str, Any]) -> nn.Module:
        return build_model(self.name, self.dataset, config.get("hidden"), config.get("dropout"),
                           channels=config.get("channels"), depth=config.get("depth"),
                           num_classes=self.num_classes)


class _Search:
    """The parts every search shares: checked inputs, trial evaluation, the final refit."""

    def __init__(self, owner: str, build: Build, space: Mapping[str, Any], dataset: Any,
                 cv: Any, test: Any, config: Mapping[str, Any] | None, seed: int,
                 loss_fn: Callable[..., Any], backend: str, n_jobs: int | None,
                 address: str | None, client: Any, *, distributions: bool) -> None:
        self.owner = owner
        self.n_jobs = check_backend(backend, n_jobs, owner, address, client)
        if not callable(build):
            raise TypeError(f"{owner}: build must be a function of the config returning a "
                            f"model, got {build!r}")
        check_picklable(owner, backend, build=build, loss_fn=loss_fn)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"{owner}: seed must be an int, got {seed!r}")
        if config is not None and not isinstance(config, Mapping):
            raise TypeError(f"{owner}: config must be a dict of fixed settings, got {config!r}")
        self.space = check_space(space, owner, distributions=distributions)
        self.fixed = plain(dict(config or {}))
        self.X, self.y = as_arrays(dataset, owner)
        self.test = None if test is None else as_arrays(test, owner, "test")
        self.splits = make_splits(cv, self.X, self.y, owner)
        self.build, self.seed, self.loss_fn = build, seed, loss_fn
        self.backend, self.address, self.client = backend, address, client

    def evaluate(self, configs: Sequence[dict[str, Any]], start: int = 0) -> list[Trial]:
        """Cross-validate ``configs`` (each updating the fixed settings): trials
        ``start``, ``start + 1``, ..."""
        configs = [{**self.fixed, **plain(c)} for c in configs]
        results = evaluate_configs(self.build, self.X, self.y, self.splits, configs, self.seed,
                                   self.loss_fn, self.backend, self.n_jobs, self.address,
                                   self.client, self.owner)
        trials = []
        for i, (config, folds) in enumerate(zip(configs, results), start=start):
            errors = [r["error"] for r in folds if "error" in r]
            trial = Trial(i, config, seconds=sum(r["seconds"] for r in folds))
            if errors:
                trial.error = errors[0]
            else:
                trial.scores = [r["accuracy"] for r in folds]
                trial.losses = [r["loss"] for r in folds]
            trials.append(trial)
        return trials

    def finish(self, kind: str, trials: list[Trial], refit: bool) -> SearchResult:
        """Rank ``trials``; train the best configuration on all the data and score it on
        the test split, once."""
        ranked = rank_trials(trials)
        result = SearchResult(kind, ranked, self.space, self.fixed, self.seed, len(self.splits),
                              len(self.X))
        best = result.best
        if best is None:
            return result
        result.best_config = best.config
        if refit or self.test is not None:
            state = get_rng_state()
            try:
                model = train_model(self.build, self.X, self.y, best.config,
                                    trial_seed(best.config, self.seed, "refit"), self.loss_fn)
            finally:
                set_rng_state(state)
            result.best_model = model
            if self.test is not None:
                tested = score(model, *self.test, self.loss_fn)
                result.test_score, result.test_loss = tested["accuracy"], tested["loss"]
                result.test_samples = len(self.test[0])
        return result


def grid_search(build: Build, space: Mapping[str, Sequence[Any]], dataset: Any,
                cv: Any = None, *, test: Any = None, config: Mapping[str, Any] | None = None,
                seed: int = 0, loss_fn: Callable[..., Any] = nn.functional.cross_entropy,
                backend: str = "joblib", n_jobs: int | None = None,
                address: str | None = None, client: Any = None,
                refit: bool = True) -> SearchResult:
    """Cross-validate every combination of the lists in ``space`` (names sorted, the last
    varying fastest, as scikit-learn's ``ParameterGrid``) and return the ranked
    :class:`SearchResult`.

    Args:
        build: ``build(config) -> nn.Module``; a module-level function (or
            :class:`RecipeModel`) so that it can travel to worker processes.
        space: ``{name: [values, ...]}``.
        dataset: ``(X, y)`` arrays or a chainrule Dataset: the training and validation data.
        cv: folds: None (``KFold(5)``), an int, or a splitter (``StratifiedKFold(5)``).
        test: ``(X_test, y_test)`` or a Dataset, scored once by the chosen configuration.
        config: fixed settings every trial shares (``epochs``, ``batch_size`` ...); the
            space's values override them.
        seed: the search seed, part of every trial's seed.
        loss_fn: the training loss (and the validation loss reported).
        backend, n_jobs, address, client: where the trials run (``n_jobs`` local processes
            or Dask workers started here; ``address``: a Dask scheduler or a Ray cluster,
            for ``'dask'`` and ``'ray'`` only; ``client``: a ``distributed.Client``, for
            ``'dask'`` only). An unreachable cluster is a ConnectionError. ``'dask'``
            without ``client``/``address`` starts a local cluster whose workers re-run the
            main script: call the search under ``if __name__ == '__main__':``, as for any
            multiprocessing start.
        refit: train the best configuration on all of ``dataset`` (``result.best_model``);
            always done when ``test`` is given.
    """
    search = _Search("grid_search", build, space, dataset, cv, test, config, seed, loss_fn,
                     backend, n_jobs, address, client, distributions=False)
    return search.finish("grid", search.evaluate(grid(search.space)), refit)


def random_search(build: Build, space: Mapping[str, Any], n_trials: int, dataset: Any,
                  cv: Any = None, *, test: Any = None, config: Mapping[str, Any] | None = None,
                  seed: int = 0, loss_fn: Callable[..., Any] = nn.functional.cross_entropy,
                  backend: str = "joblib", n_jobs: int | None = None,
                  address: str | None = None, client: Any = None,
                  refit: bool = True) -> SearchResult:
    """Cross-validate ``n_trials`` configurations drawn from ``space`` (lists: a value each,
    uniformly; :class:`~chainrule.model_selection.LogUniform`, ``Uniform``, ``IntUniform``
    distributions) with ``numpy.random.default_rng(seed)`` (see
    :func:`chainrule.model_selection.space.sample`); other arguments as
    :func:`grid_search` (``backend='dask'`` without ``client``/``address``: call it under
    ``if __name__ == '__main__':``)."""
    search = _Search("random_search", build, space, dataset, cv, test, config, seed, loss_fn,
                     backend, n_jobs, address, client, distributions=True)
    return search.finish("random", search.evaluate(sample(search.space, n_trials, seed)), refit)


_PRIMITIVE = (type(None), bool, int, float, str)


def _suggest(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """A configuration asked of an Optuna trial: lists are categorical (values that Optuna
    cannot store, such as lists of layer sizes, go through their JSON text)."""
    config: dict[str, Any] = {}
    for name in sorted(space):
        c = space[name]
        if isinstance(c, IntUniform):
            config[name] = trial.suggest_int(name, c.low, c.high, log=c.log)
        elif isinstance(c, DISTRIBUTIONS):
            config[name] = trial.suggest_float(name, c.low, c.high, log=isinstance(c, LogUniform))
        elif all(isinstance(v, _PRIMITIVE) for v in c):
            config[name] = trial.suggest_categorical(name, list(c))
        else:
            config[name] = json.loads(trial.suggest_categorical(name, [json.dumps(v) for v in c]))
    return config


def optuna_search(build: Build, space: Mapping[str, Any], n_trials: int, dataset: Any,
                  cv: Any = None, *, sampler: Any = "tpe", test: Any = None,
                  config: Mapping[str, Any] | None = None, seed: int = 0,
                  loss_fn: Callable[..., Any] = nn.functional.cross_entropy,
                  concurrent_trials: int = 4, backend: str = "joblib",
                  n_jobs: int | None = None, address: str | None = None, client: Any = None,
                  refit: bool = True) -> SearchResult:
    """A Bayesian search through Optuna (``pip install "chainrule[optuna]"``): ``n_trials``
    configurations proposed by ``sampler`` (``'tpe'``: ``TPESampler(seed=seed)``,
    ``'random'``: ``RandomSampler(seed=seed)``, or an Optuna sampler), maximising the mean
    validation accuracy, with the same trial function as :func:`grid_search`.

    Optuna is asked for ``concurrent_trials`` configurations at a time, which are
    cross-validated in parallel on ``backend`` and then told their scores (a failed
    trial is told ``FAIL``). The proposals depend on ``concurrent_trials`` and ``seed``,
    not on the backend or ``n_jobs``. ``result.study`` is the Optuna study. Other
    arguments as :func:`grid_search` (``backend='dask'`` without ``client``/``address``:
    call it under ``if __name__ == '__main__':``).
    """
    owner = "optuna_search"
    try:
        import optuna
    except ImportError:
        raise ImportError(f"{owner} needs Optuna (the module optuna is not installed): "
                          f"pip install \"chainrule[optuna]\"") from None
    for name, value in (("n_trials", n_trials), ("concurrent_trials", concurrent_trials)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    if sampler == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif sampler == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif not isinstance(sampler, optuna.samplers.BaseSampler):
        raise ValueError(f"{owner}: sampler must be 'tpe', 'random' or an Optuna sampler, got "
                         f"{sampler!r}")
    search = _Search(owner, build, space, dataset, cv, test, config, seed, loss_fn,
                     backend, n_jobs, address, client, distributions=True)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial
    try:
        study = optuna.create_study(direction="maximize", sampler=sampler)
        trials: list[Trial] = []
        while len(trials) < n_trials:
            asked = [study.ask() for _ in range(min(concurrent_trials, n_trials - len(trials)))]
            done = search.evaluate([_suggest(t, search.space) for t in asked], len(trials))
            for optuna_trial, trial in zip(asked, done):
                if trial.error is None:
                    study.tell(optuna_trial, trial.mean)
                else:
                    study.tell(optuna_trial, state=optuna.trial.TrialState.FAIL)
            trials += done
    finally:
        optuna.logging.set_verbosity(verbosity)
    result = search.finish("tpe" if isinstance(sampler, optuna.samplers.TPESampler)
                           else "optuna", trials, refit)
    result.study = study
    return result
