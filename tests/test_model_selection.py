"""Model selection: cross-validation and searches equal hand computations, the test split is
touched once, failures are reported, and every backend (serial, joblib, a real Dask
cluster on loopback, Ray where it installs) gives the same results."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.data import DataLoader, KFold, StratifiedKFold, TensorDataset
from chainrule.data.datasets import load_digits
from chainrule.model_selection import (
    IntUniform,
    LogUniform,
    RecipeModel,
    Trial,
    Uniform,
    backends,
    cross_validate,
    grid_search,
    optuna_search,
    random_search,
    search,
    trial_seed,
    validate,
)
from chainrule.model_selection.results import rank_trials
from chainrule.model_selection.space import grid, sample
from chainrule.random import get_rng_state
from chainrule.train import evaluate, fit
from chainrule.train.recipes import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
FIXED = {"epochs": 2, "batch_size": 32, "hidden": [16], "dropout": 0.1}
SPACE = {"lr": [1e-3, 3e-3], "weight_decay": [0.0, 1e-3]}
BUILD = RecipeModel("mlp", "digits")


@pytest.fixture(scope="module")
def data():
    X, y = load_digits()
    return (X[:240], y[:240]), (X[240:300], y[240:300])


def unlucky(config):
    """A build that fails for one width (module level, so processes can receive it)."""
    if config["width"] == 13:
        raise ValueError("width 13 is unlucky")
    return nn.Sequential(nn.Flatten(), nn.Linear(64, config["width"]), nn.ReLU(),
                         nn.Linear(config["width"], 10))


def outcome(result):
    """Everything a search decides, without the timings."""
    return ([(t.index, t.rank, t.config, t.scores, t.losses, t.error) for t in result.trials],
            result.best_config, result.test_score, result.test_loss)


# ------------------------------------------------------------------------------ spaces
def test_grid_orders_as_scikit_learns_parameter_grid():
    # names sorted (epochs, hidden, lr), the last varying fastest
    assert grid({"lr": [0.1, 0.01], "hidden": [[8], (16, 8)], "epochs": [1]}) == [
        {"epochs": 1, "hidden": [8], "lr": 0.1}, {"epochs": 1, "hidden": [8], "lr": 0.01},
        {"epochs": 1, "hidden": [16, 8], "lr": 0.1}, {"epochs": 1, "hidden": [16, 8], "lr": 0.01}]


def test_random_sampling_draws_from_the_space_reproducibly():
    space = {"lr": LogUniform(1e-4, 1e-1), "p": Uniform(0.0, 0.5), "w": IntUniform(8, 64),
             "opt": ["sgd", "adam"]}
    first, again = sample(space, 200, seed=3), sample(space, 200, seed=3)
    assert first == again and first != sample(space, 200, seed=4)
    lrs = np.array([c["lr"] for c in first])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    # log-uniform: a third of the draws in each decade (within sampling error)
    assert abs(np.mean(lrs < 1e-3) - 1 / 3) < 0.1 and abs(np.mean(lrs > 1e-2) - 1 / 3) < 0.1
    assert {c["opt"] for c in first} == {"sgd", "adam"}
    assert all(8 <= c["w"] <= 64 and isinstance(c["w"], int) for c in first)
    lists_only = sample({"a": [1, 2, 3], "b": [4, 5]}, 10, seed=0)  # capped, no repeats
    assert len(lists_only) == 6 and sorted(map(str, lists_only)) == sorted(map(str, grid(
        {"a": [1, 2, 3], "b": [4, 5]})))


def test_trial_seed_depends_on_the_configuration_seed_and_fold_only():
    a = trial_seed({"lr": np.float64(0.5), "hidden": (8, 4)}, 0, 1)
    assert a == trial_seed({"hidden": [8, 4], "lr": 0.5}, 0, 1)  # key order, NumPy, tuples
    assert len({a, trial_seed({"lr": 0.5, "hidden": [8, 4]}, 1, 1),
                trial_seed({"lr": 0.5, "hidden": [8, 4]}, 0, 2),
                trial_seed({"lr": 0.25, "hidden": [8, 4]}, 0, 1)}) == 4
    assert 0 <= a < 2**63


def test_bad_spaces_and_arguments_are_named(data):
    train, _ = data
    with pytest.raises(TypeError, match=r"space\['lr'\] is a LogUniform"):
        grid_search(BUILD, {"lr": LogUniform(1e-3, 1e-1)}, train, backend="serial")
    with pytest.raises(ValueError, match=r"space\['lr'\] is empty"):
        grid_search(BUILD, {"lr": []}, train, backend="serial")
    with pytest.raises(ValueError, match="backend must be one of"):
        grid_search(BUILD, SPACE, train, backend="spark")
    with pytest.raises(ValueError, match="n_jobs must be"):
        grid_search(BUILD, SPACE, train, n_jobs=0)
    with pytest.raises(ValueError, match="needs a random_state"):
        grid_search(BUILD, SPACE, train, KFold(3, shuffle=True), backend="serial")
    with pytest.raises(ValueError, match="LogUniform: need 0 < low < high"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="dataset has 240 inputs but 10 targets"):
        cross_validate(BUILD, (train[0], train[1][:10]), backend="serial")


# ------------------------------------------------------------------- cross-validation
def by_hand(X, y, config, seed, folds):
    """Each fold as the documentation says: seeded from trial_seed, fit, evaluate."""
    scores, losses = [], []
    for k, (tr, va) in enumerate(folds.split(X, y)):
        s = trial_seed(config, seed, k)
        chainrule.manual_seed(s)
        model = BUILD(config)
        opt = build_optimizer(config.get("optimizer", "adam"), model.parameters(), config["lr"],
                              config.get("weight_decay", 0.0))
        fit(model, nn.functional.cross_entropy, opt,
            DataLoader(TensorDataset(X[tr], y[tr]), batch_size=config["batch_size"],
                       shuffle=True, seed=s), epochs=config["epochs"], metrics=(), verbose=0)
        logs = evaluate(model, DataLoader(TensorDataset(X[va], y[va]), batch_size=1024),
                        nn.functional.cross_entropy)
        scores.append(logs["accuracy"])
        losses.append(logs["loss"])
    return scores, losses


def test_cross_validate_equals_the_folds_trained_by_hand(data):
    (X, y), _ = data
    config = {**FIXED, "lr": 3e-3}
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    cv = cross_validate(BUILD, (X, y), folds, config=config, seed=5, backend="serial")
    scores, losses = by_hand(X, y, config, 5, folds)
    assert cv.scores == scores and cv.losses == losses
    assert cv.mean == pytest.approx(sum(scores) / 3, abs=1e-15)
    assert cv.std == pytest.approx(math.sqrt(sum((s - cv.mean) ** 2 for s in scores) / 3),
                                   abs=1e-15)
    same = cross_validate(BUILD, TensorDataset(X, y), folds, config=config, seed=5,
                          backend="serial")
    assert same.scores == cv.scores  # a Dataset gives the same as its arrays


def test_cross_validate_names_the_failing_fold(data):
    train, _ = data
    with pytest.raises(RuntimeError, match=r"fold 1 of 2 failed: ValueError: width 13"):
        cross_validate(unlucky, train, 2, config={"width": 13, "epochs": 1}, backend="serial")
    with pytest.raises(ValueError, match="unknown optimizer 'sdg'"):
        cross_validate(BUILD, train, config={"optimizer": "sdg"}, backend="serial")


def test_the_callers_random_state_is_left_as_it_was(data):
    train, test = data
    chainrule.manual_seed(123)
    before = get_rng_state()
    grid_search(BUILD, {"lr": [1e-3]}, train, 2, test=test, config=FIXED, backend="serial")
    assert get_rng_state() == before


# ------------------------------------------------------------------------- ranking
def test_ranking_mean_and_std_equal_a_hand_computation():
    trials = [Trial(0, {"a": 0}, [0.75, 0.5, 1.0], [0.3, 0.3, 0.3]),
              Trial(1, {"a": 1}, error="ValueError: no"),
              Trial(2, {"a": 2}, [0.875, 0.875, 0.875], [0.2, 0.2, 0.2]),
              Trial(3, {"a": 3}, [0.75, 0.75, 0.75], [0.1, 0.1, 0.1])]  # ties trial 0's mean
    ranked = rank_trials(trials)
    assert [t.index for t in ranked] == [2, 3, 0, 1]  # the tie goes to the lower loss
    assert [t.rank for t in ranked] == [1, 2, 3, None]
    assert ranked[2].mean == 0.75
    assert ranked[2].std == pytest.approx(math.sqrt((0 + 0.25**2 + 0.25**2) / 3))  # 0.2041
    assert ranked[0].std == 0 and math.isnan(ranked[3].mean)


def test_grid_search_ranks_by_mean_validation_accuracy_of_real_trials(data):
    train, test = data
    result = grid_search(BUILD, SPACE, train, 3, test=test, config=FIXED, backend="serial")
    assert [t.config for t in sorted(result.trials, key=lambda t: t.index)] == [
        {**FIXED, **c} for c in grid(SPACE)]
    folds = KFold(3)
    for t in result.trials:
        assert (t.scores, t.losses) == by_hand(*train, t.config, 0, folds)
    keys = [(-np.mean(t.scores), np.mean(t.losses)) for t in result.trials]
    assert keys == sorted(keys) and [t.rank for t in result.trials] == [1, 2, 3, 4]
    assert result.best_config == result.trials[0].config
    text = str(result)
    assert "rank  trial  accuracy (mean ± std)" in text
    assert f"{result.trials[0].mean:.4f} ± {result.trials[0].std:.4f}" in text
    assert f"test accuracy {result.test_score:.4f}" in text and "scored once on 60 test" in text


def test_the_test_split_is_scored_once_by_the_chosen_configuration(data, monkeypatch):
    train, (x_test, y_test) = data
    scored, original = [], validate.score

    def counting(model, X, y, loss_fn):
        scored.append(X)
        return original(model, X, y, loss_fn)

    monkeypatch.setattr(validate, "score", counting)  # the folds' validation scores
    monkeypatch.setattr(search, "score", counting)  # the final test score
    result = random_search(BUILD, {"lr": LogUniform(1e-3, 1e-2)}, 3, train, 2,
                           test=(x_test, y_test), config=FIXED, backend="serial")
    assert len(scored) == 3 * 2 + 1
    on_test = [X for X in scored if X.shape == x_test.shape and np.array_equal(X, x_test)]
    assert len(on_test) == 1 and scored[-1] is on_test[0]
    assert 0 < result.test_score <= 1


def test_a_failing_trial_is_reported_and_the_others_finish(data, tmp_path):
    train, test = data
    result = grid_search(unlucky, {"width": [8, 13, 16]}, train, 2, test=test,
                         config={"epochs": 1}, backend="joblib", n_jobs=2)
    failed = [t for t in result.trials if t.status == "failed"]
    assert len(failed) == 1 and failed[0].config["width"] == 13
    assert failed[0].error == "ValueError: width 13 is unlucky" and failed[0].rank is None
    ok = [t for t in result.trials if t.status == "ok"]
    assert [t.rank for t in ok] == [1, 2] and all(len(t.scores) == 2 for t in ok)
    assert result.trials[-1] is failed[0] and result.test_score is not None
    assert "failed" in str(result) and "width 13 is unlucky" in str(result)
    rows = list(csv.DictReader(io.StringIO(result.to_csv(tmp_path / "s.csv"))))
    assert rows[2]["status"] == "failed" and rows[2]["error"] == failed[0].error
    assert (tmp_path / "s.csv").read_text() == result.to_csv()
    every = grid_search(unlucky, {"width": [13]}, train, 2, test=test, backend="serial")
    assert every.best_config is None and every.test_score is None
    assert "every trial failed" in str(every)


def test_csv_and_json_hold_the_ranked_table(data, tmp_path):
    train, test = data
    result = grid_search(BUILD, {"lr": [1e-3, 3e-3]}, train, 2, test=test, config=FIXED,
                         backend="serial")
    result.to_json(tmp_path / "s.json")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["best_config"] == result.best_config and saved["folds"] == 2
    assert saved["test"] == {"accuracy": result.test_score, "loss": result.test_loss,
                             "samples": 60}
    assert [r["mean_accuracy"] for r in saved["trials"]] == [t.mean for t in result.trials]
    rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [float(r["std_accuracy"]) for r in rows] == [t.std for t in result.trials]
    assert [float(r["accuracy_fold2"]) for r in rows] == [t.scores[1] for t in result.trials]
    assert rows[0]["hidden"] == "[16]" and rows[0]["rank"] == "1"


# ------------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def joblib_run(data):
    train, test = data
    return grid_search(BUILD, SPACE, train, 2, test=test, config=FIXED, backend="joblib",
                       n_jobs=2)


def test_serial_and_joblib_give_identical_results(data, joblib_run):
    train, test = data
    serial = grid_search(BUILD, SPACE, train, 2, test=test, config=FIXED, backend="serial")
    assert outcome(serial) == outcome(joblib_run)


def test_a_real_dask_cluster_on_loopback_gives_the_joblib_results(data, joblib_run):
    distributed = pytest.importorskip("dask.distributed",
                                      reason="Dask distributed is not installed")
    train, test = data
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.Client(cluster) as client:
            by_client = grid_search(BUILD, SPACE, train, 2, test=test, config=FIXED,
                                    backend="dask", client=client)
            assert len(client.scheduler_info()["workers"]) == 2
        by_address = grid_search(BUILD, SPACE, train, 2, test=test, config=FIXED,
                                 backend="dask", address=cluster.scheduler_address)
    assert outcome(by_client) == outcome(joblib_run) == outcome(by_address)


def test_ray_gives_the_joblib_results(data, joblib_run):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install "
                                            "\"chainrule[ray]\"; no wheel for some Pythons)")
    train, test = data
    result = grid_search(BUILD, SPACE, train, 2, test=test, config=FIXED, backend="ray",
                         n_jobs=2)
    assert outcome(result) == outcome(joblib_run)
    assert not ray.is_initialized()  # the Ray started for the search is shut down


def test_address_and_client_given_to_a_backend_that_ignores_them_are_refused(data):
    train, _ = data
    with pytest.raises(ValueError) as error:
        grid_search(BUILD, SPACE, train, 2, config=FIXED, address="tcp://127.0.0.1:1")
    assert str(error.value) == ("grid_search: address= is only for backend='dask' or 'ray' "
                                "(backend='joblib' would ignore it): choose one of those or "
                                "drop address=")
    for backend in ("serial", "ray"):
        with pytest.raises(ValueError) as error:
            random_search(BUILD, SPACE, 2, train, 2, config=FIXED, backend=backend,
                          client=object())
        assert str(error.value) == (f"random_search: client= is only for backend='dask' "
                                    f"(backend={backend!r} would ignore it): choose it or drop "
                                    f"client=")
    with pytest.raises(ValueError, match="^cross_validate: address= is only for backend="):
        cross_validate(BUILD, train, 2, config=FIXED, backend="serial", address="auto")
    with pytest.raises(ValueError) as error:
        grid_search(BUILD, SPACE, train, 2, backend="dask", client=object(),
                    address="tcp://127.0.0.1:1")
    assert str(error.value) == ("grid_search: give backend='dask' either client= or address=, "
                                "not both")


def test_an_unreachable_dask_scheduler_is_a_connection_error(data, monkeypatch):
    pytest.importorskip("dask.distributed", reason="Dask distributed is not installed")
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT", 1)  # nothing listens on port 1
    train, _ = data
    with pytest.raises(ConnectionError) as error:
        grid_search(BUILD, {"lr": [1e-3]}, train, 2, config=FIXED, backend="dask",
                    address="tcp://127.0.0.1:1")
    assert str(error.value) == ("grid_search: could not connect to the Dask scheduler at "
                                "tcp://127.0.0.1:1: Timed out trying to connect to "
                                "tcp://127.0.0.1:1 after 1 s")
    assert isinstance(error.value.__cause__, OSError)
    with pytest.raises(ValueError) as error:
        cross_validate(BUILD, train, 2, config=FIXED, backend="dask", address="scheduler")
    assert str(error.value) == ("cross_validate: address='scheduler' is not a Dask scheduler "
                                "address (tcp://host:8786): missing port number in address "
                                "'scheduler'")


def test_an_unreachable_ray_address_is_a_connection_error(data):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install "
                                            "\"chainrule[ray]\"; no wheel for some Pythons)")
    train, _ = data
    with pytest.raises(ConnectionError) as error:
        grid_search(BUILD, {"lr": [1e-3]}, train, 2, config=FIXED, backend="ray",
                    address="tcp://127.0.0.1:1")
    message = str(error.value)
    assert message.startswith("grid_search: could not connect to the Ray cluster at "
                              "tcp://127.0.0.1:1: RuntimeError: ") and "\n" not in message
    assert error.value.__cause__ is not None and not ray.is_initialized()


def _run_script(script):
    """``python script`` in its directory, with this checkout importable."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, cwd=script.parent, timeout=120)


def test_a_dask_script_without_the_main_guard_gets_one_clear_error(tmp_path):
    pytest.importorskip("dask.distributed", reason="Dask distributed is not installed")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np\n"
        "from chainrule.model_selection import RecipeModel, grid_search\n"
        "from chainrule.model_selection.backends import unguarded_main_line\n"
        "def where():\n"
        "    return unguarded_main_line()\n"
        "if __name__ == '__main__':\n"
        "    print(where())\n"
        "print(where())\n"
        "X, y = np.zeros((20, 64), np.float32), np.arange(20) % 10\n"
        "grid_search(RecipeModel('mlp', 'digits'), {'lr': [1e-3]}, (X, y), 2, "
        "backend='dask')\n")
    run = _run_script(script)
    assert run.returncode == 1
    assert run.stdout.split() == ["None", "8"]  # inside the guard; the unguarded line
    assert run.stderr.splitlines()[-1] == (
        f"RuntimeError: grid_search: backend='dask' starts worker processes that re-run the "
        f"main script {script}, whose line 10 leads to this call outside `if __name__ == "
        f"'__main__':`; put the script's code under that guard (as for any multiprocessing "
        f"start), or pass client= or address=")
    assert "An attempt has been made to start a new process" not in run.stderr


def test_the_main_guard_check_trusts_any_top_level_condition(tmp_path):
    """A guard written another way (a variable, an else branch, match) is not an error."""
    script = tmp_path / "shapes.py"
    script.write_text(
        "from chainrule.model_selection.backends import unguarded_main_line as where\n"
        "MAIN = __name__ == '__main__'\n"
        "if MAIN:\n"
        "    print(where())\n"
        "if __name__ != '__main__':\n"
        "    pass\n"
        "else:\n"
        "    print(where())\n"
        "match __name__:\n"
        "    case '__main__':\n"
        "        print(where())\n"
        "for _ in range(1):\n"
        "    print(where())\n")
    run = _run_script(script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["None", "None", "None", "13"]  # a loop is no guard


def test_missing_extras_name_what_to_install(data, monkeypatch):
    train, _ = data
    for module in ("dask", "dask.distributed", "ray", "optuna"):
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=r'pip install "chainrule\[dask\]"'):
        grid_search(BUILD, {"lr": [1e-3]}, train, 2, config=FIXED, backend="dask")
    with pytest.raises(ImportError, match=r'pip install "chainrule\[ray\]"'):
        grid_search(BUILD, {"lr": [1e-3]}, train, 2, config=FIXED, backend="ray")
    with pytest.raises(ImportError, match=r'pip install "chainrule\[optuna\]"'):
        optuna_search(BUILD, {"lr": [1e-3]}, 2, train, backend="serial")


def test_a_build_that_cannot_reach_the_workers_gets_a_clear_error(data):
    train, _ = data
    lock = threading.Lock()

    def build(config):
        with lock:
            return BUILD(config)

    with pytest.raises(TypeError, match="build=.* cannot be sent to the worker processes of "
                                        "backend='joblib'.*module level"):
        grid_search(build, {"lr": [1e-3]}, train, 2, config=FIXED, backend="joblib")
    result = grid_search(build, {"lr": [1e-3]}, train, 2, config=FIXED, backend="serial")
    assert result.trials[0].status == "ok"


# --------------------------------------------------------------------------- optuna
def test_optuna_tpe_search_is_reproducible_and_tells_optuna_the_scores(data):
    optuna = pytest.importorskip("optuna", reason="Optuna is not installed "
                                                  "(pip install \"chainrule[optuna]\")")
    train, test = data
    space = {"lr": LogUniform(1e-3, 1e-2), "hidden": [[8], [16]]}
    runs = [optuna_search(BUILD, space, 5, train, 2, test=test, config={"epochs": 1},
                          concurrent_trials=2, backend=backend, n_jobs=2)
            for backend in ("serial", "joblib")]
    assert outcome(runs[0]) == outcome(runs[1])
    result = runs[0]
    assert isinstance(result.study.sampler, optuna.samplers.TPESampler)
    assert len(result.study.trials) == 5 and result.kind == "tpe"
    by_index = {t.index: t for t in result.trials}
    for frozen in result.study.trials:
        trial = by_index[frozen.number]
        assert frozen.value == trial.mean
        assert frozen.params["lr"] == trial.config["lr"]
        assert json.loads(frozen.params["hidden"]) == trial.config["hidden"]
        assert 1e-3 <= trial.config["lr"] <= 1e-2
    assert result.best_config == max(result.trials, key=lambda t: t.mean).config
