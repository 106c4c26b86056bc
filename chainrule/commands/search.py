"""``chainrule search --config search.toml``: a hyperparameter search from a TOML file.

The file names the dataset, the model, the search and its space::

    dataset = "digits"      # digits | mnist1d | mnist | fashion-mnist | cifar10
    model = "mlp"           # mlp | cnn | resnet  (chainrule.train.recipes.build_model)
    search = "grid"         # grid | random | tpe (Optuna)
    folds = 3               # stratified k-fold cross-validation, shuffled by seed
    seed = 0
    n_trials = 8            # random and tpe
    test_size = 0.2         # digits: the share held out for the single test score
    data_dir = "data"       # mnist, fashion-mnist, cifar10

    [fixed]                 # settings every trial shares
    epochs = 10
    hidden = [64]

    [space]                 # grid: lists; random and tpe also distributions
    lr = {log_uniform = [1e-4, 1e-2]}
    weight_decay = [0.0, 1e-4, 1e-3]

Settings (in ``[fixed]`` and ``[space]``): ``optimizer lr weight_decay batch_size
epochs`` and the model's sizes (``hidden dropout`` of the mlp, ``channels hidden
dropout`` of the cnn, ``channels depth`` of the resnet). Distributions:
``{uniform = [a, b]}``, ``{log_uniform = [a, b]}``, ``{int = [a, b]}``,
``{int_log = [a, b]}``. Prints the ranked table and the chosen configuration's single
test score; writes ``search.csv`` and ``search.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from chainrule.commands import RUNS, missing_directories, output_directory, remove_empty
from chainrule.data import StratifiedKFold
from chainrule.model_selection import (
    BACKENDS,
    TRAINING,
    IntUniform,
    LogUniform,
    RecipeModel,
    Uniform,
    grid_search,
    optuna_search,
    random_search,
)
from chainrule.model_selection.backends import TAKES
from chainrule.model_selection.space import grid
from chainrule.model_selection.validate import training_settings
from chainrule.train.recipes import DATASETS, MODEL_DEFAULTS, MODELS, DataUnavailable, prepare_data

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the backport on Python 3.10
    import tomli as tomllib

SEARCHES = ("grid", "random", "tpe")
TOP_LEVEL: dict[str, Any] = {"dataset": "digits", "model": "mlp", "search": "grid", "folds": 5,
                             "seed": 0, "n_trials": None, "test_size": 0.2, "data_dir": None,
                             "fixed": {}, "space": None}
SIZES = ("hidden", "dropout", "channels", "depth")
DISTRIBUTIONS = {"uniform": Uniform, "log_uniform": LogUniform, "int": IntUniform,
                 "int_log": lambda low, high: IntUniform(low, high, log=True)}


def _fail(message: str) -> SystemExit:
    return SystemExit(f"chainrule search: {message}")


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise _fail(f"--config {path}: no such file") from None
    except IsADirectoryError:
        raise _fail(f"--config {path}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise _fail(f"--config {path}: cannot read it: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"--config {path}: invalid TOML: {exc}") from None


def _unknown(path: str, where: str, keys: Any, allowed: Any) -> None:
    unknown = sorted(set(keys) - set(allowed))
    if unknown:
        raise _fail(f"{path}: unknown key{'s' if len(unknown) > 1 else ''} "
                    f"{', '.join(map(repr, unknown))} {where}; allowed: "
                    f"{', '.join(sorted(allowed))}")


def _check_value(path: str, where: str, key: str, value: Any) -> None:
    """A setting's value is of the kind the training or the model takes."""
    try:
        if key in TRAINING:
            training_settings({key: value})
        elif key in ("hidden", "channels"):
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
                raise ValueError(f"{key} must be a non-empty list of positive ints, got "
                                 f"{value!r}")
        elif key == "depth":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"depth must be a positive int, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0 <= value < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {value!r}")
    except ValueError as exc:
        raise _fail(f"{path}: {where}: {str(exc).removeprefix('config: ')}") from None


def _candidates(path: str, key: str, value: Any, search: str) -> Any:
    where = f"[space] {key}"
    if isinstance(value, Mapping):
        if search == "grid":
            raise _fail(f"{path}: {where}: a grid search needs a list of values, not a "
                        f"distribution (use search = \"random\" or \"tpe\")")
        if len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
            raise _fail(f"{path}: {where}: a distribution is one of "
                        f"{', '.join('{' + k + ' = [low, high]}' for k in DISTRIBUTIONS)}, "
                        f"got {value!r}")
        (kind, bounds), = value.items()
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise _fail(f"{path}: {where}: {kind} needs [low, high], got {bounds!r}")
        try:
            return DISTRIBUTIONS[kind](*bounds)
        except (TypeError, ValueError) as exc:
            raise _fail(f"{path}: {where}: {exc}") from None
    if not isinstance(value, list) or not value:
        raise _fail(f"{path}: {where} must be a non-empty list of values"
                    + ("" if search == "grid" else " or a distribution") + f", got {value!r}")
    for v in value:
        _check_value(path, where, key, v)
    return value


def load_config(path: str, search: str | None = None, seed: int | None = None,
                n_trials: int | None = None) -> dict[str, Any]:
    """The search described by the TOML file ``path`` (``search``, ``seed`` and ``n_trials``
    override it), checked; a ``SystemExit`` naming what is wrong otherwise."""
    raw = _read(path)
    _unknown(path, "at the top level", raw, TOP_LEVEL)
    config = {**TOP_LEVEL, **raw}
    if search is not None:
        config["search"] = search
    if seed is not None:
        config["seed"] = seed
    if n_trials is not None:
        config["n_trials"] = n_trials
    for key, choices in (("dataset", tuple(DATASETS)), ("model", MODELS), ("search", SEARCHES)):
        if config[key] not in choices:
            raise _fail(f"{path}: {key} must be one of {', '.join(choices)}, got "
                        f"{config[key]!r}")
    for key, low in (("folds", 2), ("seed", 0), ("n_trials", 1)):
        value = config[key]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < low):
            raise _fail(f"{path}: {key} must be an int >= {low}, got {value!r}")
    if config["search"] == "grid" and n_trials is not None:
        raise _fail(f"{path}: --n-trials is for a random or tpe search; a grid search tries "
                    "every configuration of its [space]")
    if config["search"] != "grid" and config["n_trials"] is None:
        raise _fail(f"{path}: a {config['search']} search needs n_trials (a line such as "
                    f"'n_trials = 8' in the file, or --n-trials 8)")
    if config["data_dir"] is not None and not isinstance(config["data_dir"], str):
        raise _fail(f"{path}: data_dir must be a directory (a string), got "
                    f"{config['data_dir']!r}")
    test_size = config["test_size"]
    if isinstance(test_size, bool) or not isinstance(test_size, float) or not 0 < test_size < 1:
        raise _fail(f"{path}: test_size must be a fraction in (0, 1), got {test_size!r}")
    settings = set(TRAINING) | {k for k in SIZES
                                if MODEL_DEFAULTS[config["model"]][k] is not None}
    for section in ("fixed", "space"):
        if not isinstance(config[section], Mapping):
            raise _fail(f"{path}: [{section}] must be a table of settings")
        _unknown(path, f"in [{section}] (for the {config['model']})", config[section], settings)
    if not config["space"]:
        raise _fail(f"{path}: no [space] table: name the settings to search")
    for key, value in config["fixed"].items():
        _check_value(path, "[fixed]", key, value)
    config["space"] = {k: _candidates(path, k, v, config["search"])
                       for k, v in config["space"].items()}
    return config


def _data_error(path: str, config: Mapping[str, Any], exc: DataUnavailable) -> SystemExit:
    """The error of a dataset that cannot be read, naming the file's keys (``dataset``,
    ``data_dir``) where the loader names ``chainrule train``'s flags."""
    message = str(exc).replace(f"--dataset {config['dataset']}",
                               f"dataset = {json.dumps(config['dataset'])}")
    message = message.replace("--data-dir DIR", 'data_dir = "DIR" (a top-level key of this '
                                                "file, not set)")
    if config["data_dir"] is not None:
        message = message.replace(f"--data-dir {config['data_dir']}",
                                  f"data_dir = {json.dumps(config['data_dir'])}")
    return _fail(f"{path}: {message}")


def _run(args: argparse.Namespace) -> int:
    if args.address is not None and args.backend not in TAKES["address"]:
        raise _fail(f"--address is only for --backend {' or '.join(TAKES['address'])} "
                    f"(--backend {args.backend} would ignore it): add --backend dask for a "
                    f"Dask scheduler or --backend ray for a Ray cluster")
    config = load_config(args.config, args.search, args.seed, args.n_trials)
    try:
        data = prepare_data(config["dataset"], config["data_dir"], config["seed"], val_size=0,
                            test_size=config["test_size"])
    except DataUnavailable as exc:
        raise _data_error(args.config, config, exc) from None
    created = missing_directories(RUNS if args.out is None else args.out)
    out = output_directory(args.out, f"search-{config['model']}-{config['dataset']}",
                           "search")
    if args.out is None:
        created.insert(0, os.path.abspath(out))
    try:
        return _search(args, config, data, out)
    except BaseException:  # leave no empty directory made for a search that did not run
        remove_empty(created)
        raise


def _search(args: argparse.Namespace, config: Mapping[str, Any], data: Any, out: str) -> int:
    """Run the search of ``config`` on ``data``; print it and write it into ``out``."""
    x_train, y_train, _, _, x_test, y_test = data
    kind = config["search"]
    common = dict(cv=StratifiedKFold(config["folds"], shuffle=True, random_state=config["seed"]),
                  test=(x_test, y_test), config=config["fixed"], seed=config["seed"],
                  backend=args.backend, n_jobs=args.jobs, address=args.address)
    build = RecipeModel(config["model"], config["dataset"])
    trials = (f"{config['n_trials']} trials" if kind != "grid" else
              f"{len(grid(config['space']))} configurations")
    print(f"{kind} search of the {config['model']} on {config['dataset']} ({len(y_train)} "
          f"samples for {config['folds']}-fold cross-validation, {len(y_test)} for the test): "
          f"{trials}, backend {args.backend}", flush=True)
    search = {"grid": grid_search, "random": random_search, "tpe": optuna_search}[kind]
    n_trials = () if kind == "grid" else (config["n_trials"],)
    sampler = {"sampler": "tpe"} if kind == "tpe" else {}
    try:
        result = search(build, config["space"], *n_trials, (x_train, y_train), **common,
                        **sampler)
    except (ImportError, ConnectionError, ValueError) as exc:
        raise _fail(str(exc).removeprefix(f"{search.__name__}: ")) from None
    print(result, flush=True)
    try:
        result.to_csv(os.path.join(out, "search.csv"))
        result.to_json(os.path.join(out, "search.json"))
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(f"wrote search.csv and search.json to {out}", flush=True)
    if result.best_config is None:
        raise _fail(f"every trial failed; the first error: {result.trials[0].error}")
    return 0


def _positive(text: str, *, or_minus_one: bool = False) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and not (or_minus_one and value == -1):
        also = " or -1" if or_minus_one else ""
        raise argparse.ArgumentTypeError(f"must be a positive integer{also}, got {text!r}")
    return value


def _jobs(text: str) -> int:
    return _positive(text, or_minus_one=True)


def register(commands: Any) -> None:
    """Add ``chainrule search`` to the sub-parsers ``commands``."""
    p = commands.add_parser(
        "search", help="hyperparameter search (grid, random, tpe) from a TOML file",
        description="Cross-validate the configurations of a search described by a TOML file "
                    "(dataset, model, search = grid|random|tpe, folds, seed, n_trials, "
                    "test_size, [fixed] settings and the [space] to search; see "
                    "examples/search.toml), rank them by mean validation accuracy, train the "
                    "best on all the training data and score it once on the test split. "
                    "Prints the ranked table and that test score; writes search.csv and "
                    "search.json into --out. Every backend gives the same results.")
    p.add_argument("--config", required=True, metavar="FILE", help="the search's TOML file")
    p.add_argument("--search", "--sampler", choices=SEARCHES, default=None, dest="search",
                   help="the kind of search (overrides the file's 'search'); tpe needs "
                        "pip install \"chainrule[optuna]\"")
    p.add_argument("--seed", type=int, default=None, help="overrides the file's seed")
    p.add_argument("--n-trials", type=_positive, default=None, metavar="N",
                   help="configurations a random or tpe search tries (overrides the file's "
                        "n_trials)")
    p.add_argument("--backend", choices=BACKENDS, default="joblib",
                   help="where the trials run: joblib (local processes, the default), dask "
                        "(pip install \"chainrule[dask]\"), ray (pip install "
                        "\"chainrule[ray]\") or serial")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="local worker processes (joblib; dask or ray started here); default: "
                        "one per core")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="a Dask scheduler (tcp://host:8786, with --backend dask) or a Ray "
                        "cluster (auto, ray://host:10001, with --backend ray) to run on")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to write search.csv and search.json (default: a new "
                        "runs/<time>-search-<model>-<dataset>)")
    p.set_defaults(run=_run)
