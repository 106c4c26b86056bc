"""``chainrule search --config FILE``: the ranked table, the single test score, CSV and JSON,
and one-line errors for a missing file, bad TOML and unknown keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.commands.search import load_config
from chainrule.data import StratifiedKFold
from chainrule.model_selection import LogUniform, RecipeModel, backends, grid_search
from chainrule.train.recipes import prepare_data

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "search.toml"
TINY = """
dataset = "digits"
model = "mlp"
search = "grid"
folds = 2
seed = 1
test_size = 0.2
n_trials = 2

[fixed]
epochs = 1
hidden = [8]

[space]
lr = [0.001, 0.01]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "search.toml"
    path.write_text(text)
    return str(path)


def fails(argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    message = str(exc.value.code)
    assert message.startswith("chainrule search: ") and "\n" not in message
    return message


def test_search_prints_the_ranked_table_and_one_test_score_and_writes_csv_json(
        tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["search", "--config", write(tmp_path, TINY), "--backend", "serial",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # the same search through the library, on the same split and folds
    x, y, _, _, x_test, y_test = prepare_data("digits", seed=1, val_size=0, test_size=0.2)
    expected = grid_search(RecipeModel("mlp", "digits"), {"lr": [0.001, 0.01]}, (x, y),
                           StratifiedKFold(2, shuffle=True, random_state=1),
                           test=(x_test, y_test), config={"epochs": 1, "hidden": [8]}, seed=1,
                           backend="serial")
    def untimed(text):  # the table without its last column, the seconds each trial took
        return [line.rsplit(maxsplit=1)[0] if line[:4].strip().isdigit() or "seconds" in line
                else line for line in text.splitlines()]

    table = untimed(str(expected))
    start = untimed(printed).index(table[0])
    assert untimed(printed)[start:start + len(table)] == table
    assert printed.count("test accuracy") == 1
    assert f"test accuracy {expected.test_score:.4f}" in printed
    assert "grid search of the mlp on digits (1437 samples for 2-fold cross-validation, 360 " \
           "for the test): 2 configurations, backend serial" in printed
    saved = json.loads((out / "search.json").read_text())
    assert saved["best_config"] == expected.best_config
    assert saved["test"]["accuracy"] == expected.test_score
    assert (out / "search.csv").read_text().splitlines()[1].split(",")[:4] == \
        expected.to_csv().splitlines()[1].split(",")[:4]


def test_the_search_kind_can_be_chosen_on_the_command_line(tmp_path, capsys):
    text = TINY.replace('lr = [0.001, 0.01]', 'lr = {log_uniform = [1e-3, 1e-2]}')
    assert main(["search", "--config", write(tmp_path, text), "--search", "random",
                 "--backend", "serial", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    assert "random search: 2 configurations" in printed
    saved = json.loads((tmp_path / "r" / "search.json").read_text())
    assert saved["space"] == {"lr": {"log_uniform": [1e-3, 1e-2]}}
    assert all(1e-3 <= t["config"]["lr"] <= 1e-2 for t in saved["trials"])


def test_a_tpe_search_runs_through_optuna(tmp_path, capsys):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install "
                                         "\"chainrule[optuna]\")")
    text = TINY.replace('lr = [0.001, 0.01]', 'lr = {log_uniform = [1e-3, 1e-2]}')
    assert main(["search", "--config", write(tmp_path, text), "--sampler", "tpe",
                 "--backend", "serial", "--out", str(tmp_path / "t")]) == 0
    assert "tpe search: 2 configurations" in capsys.readouterr().out


def test_the_example_file_is_a_valid_small_search():
    config = load_config(str(EXAMPLE))
    assert config["dataset"] == "digits" and config["search"] == "grid"
    assert config["space"] == {"lr": [0.001, 0.003], "weight_decay": [0.0, 0.001]}


def test_a_missing_file_and_bad_toml_are_one_line_errors(tmp_path):
    missing = str(tmp_path / "nope.toml")
    assert fails(["search", "--config", missing]) == \
        f"chainrule search: --config {missing}: no such file"
    bad = write(tmp_path, "dataset = \n")
    assert fails(["search", "--config", bad]).startswith(
        f"chainrule search: --config {bad}: invalid TOML: ")


@pytest.mark.parametrize("change, message", [
    (("seed = 1", "seed = 1\nfolds_ = 3\nsampler = 'tpe'"),
     "unknown keys 'folds_', 'sampler' at the top level; allowed: data_dir, dataset, fixed,"),
    (("lr = [0.001, 0.01]", "lr = [0.001]\nwidht = [8]"),
     "unknown key 'widht' in [space] (for the mlp); allowed: batch_size, dropout, epochs, "
     "hidden, lr, optimizer, weight_decay"),
    (("epochs = 1", "epochs = 1\ndepth = 2"), "unknown key 'depth' in [fixed] (for the mlp)"),
    (("lr = [0.001, 0.01]", "lr = ['fast']"), "[space] lr: lr must be a positive number, "
                                             "got 'fast'"),
    (("hidden = [8]", "hidden = 8"), "[fixed]: hidden must be a non-empty list of positive "
                                     "ints, got 8"),
    (("lr = [0.001, 0.01]", "lr = {log_uniform = [1e-3, 1e-2]}"),
     "[space] lr: a grid search needs a list of values, not a distribution"),
    (("search = \"grid\"", "search = \"anneal\""),
     "search must be one of grid, random, tpe, got 'anneal'"),
    (("n_trials = 2", ""), None),  # a grid needs no n_trials
    (("folds = 2", "folds = 1"), "folds must be an int >= 2, got 1"),
    # the data's settings are named as keys of the file: search has no --dataset/--data-dir
    (("dataset = \"digits\"", "dataset = \"mnist\""),
     'search.toml: dataset = "mnist" reads the MNIST files from data_dir = "DIR" (a top-level '
     'key of this file, not set); download it with python3 -c "from chainrule.data.datasets '
     "import download_mnist; download_mnist('DIR')\""),
    (("dataset = \"digits\"", "dataset = \"mnist\"\ndata_dir = \"no-such-dir\""),
     'search.toml: data_dir = "no-such-dir": no such directory; download it with'),
    (("dataset = \"digits\"", "dataset = \"mnist\"\ndata_dir = 5"),
     "data_dir must be a directory (a string), got 5"),
])
def test_bad_configurations_are_named(tmp_path, change, message):
    text = TINY.replace(*change)
    if message is None:  # still valid
        assert load_config(write(tmp_path, text))["n_trials"] is None
        return
    path = write(tmp_path, text)
    error = fails(["search", "--config", path, "--out", str(tmp_path / "o")])
    assert message in error and "--data-dir" not in error
    assert not (tmp_path / "o").exists()


def test_a_random_search_needs_n_trials(tmp_path):
    path = write(tmp_path, TINY.replace("n_trials = 2", ""))
    assert fails(["search", "--config", path, "--search", "random"]).endswith(
        "a random search needs n_trials (a line such as 'n_trials = 8' in the file, "
        "or --n-trials 8)")


def test_n_trials_can_be_given_on_the_command_line(tmp_path, capsys):
    text = TINY.replace("n_trials = 2", "").replace('lr = [0.001, 0.01]',
                                                    'lr = {log_uniform = [1e-3, 1e-2]}')
    assert main(["search", "--config", write(tmp_path, text), "--search", "random",
                 "--n-trials", "3", "--backend", "serial", "--out", str(tmp_path / "r")]) == 0
    assert "random search: 3 configurations" in capsys.readouterr().out
    saved = json.loads((tmp_path / "r" / "search.json").read_text())
    assert len(saved["trials"]) == 3
    assert load_config(write(tmp_path, TINY), "random", n_trials=5)["n_trials"] == 5


def test_n_trials_with_a_grid_search_is_refused(tmp_path):
    assert fails(["search", "--config", write(tmp_path, TINY), "--n-trials", "3"]).endswith(
        "--n-trials is for a random or tpe search; a grid search tries every configuration "
        "of its [space]")


@pytest.mark.parametrize("value", ["0", "-2", "three"])
def test_a_bad_n_trials_flag_is_refused_by_name(tmp_path, capsys, value):
    with pytest.raises(SystemExit):
        main(["search", "--config", write(tmp_path, TINY), "--n-trials", value])
    assert f"argument --n-trials: must be a positive integer, got '{value}'" in \
        capsys.readouterr().err


def test_the_distributions_of_the_file_are_the_librarys(tmp_path):
    text = TINY.replace('lr = [0.001, 0.01]', 'lr = {log_uniform = [1e-3, 1e-2]}\n'
                        'hidden = {int = [4, 8]}')
    config = load_config(write(tmp_path, text), search="random")
    assert config["space"]["lr"] == LogUniform(1e-3, 1e-2)
    assert (config["space"]["hidden"].low, config["space"]["hidden"].high) == (4, 8)


def test_address_without_a_cluster_backend_is_a_one_line_error(tmp_path):
    out = tmp_path / "o"
    for backend in ([], ["--backend", "serial"]):
        assert fails(["search", "--config", write(tmp_path, TINY), "--address",
                      "tcp://127.0.0.1:1", "--out", str(out), *backend]) == (
            f"chainrule search: --address is only for --backend dask or ray (--backend "
            f"{backend[1] if backend else 'joblib'} would ignore it): add --backend dask for a "
            f"Dask scheduler or --backend ray for a Ray cluster")
    assert not out.exists()


def test_an_unreachable_dask_scheduler_is_one_line_and_leaves_no_empty_run_directory(
        tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask.distributed", reason="Dask distributed is not installed")
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT", 1)  # nothing listens on port 1
    config = write(tmp_path, TINY)
    new = tmp_path / "new" / "run"  # both made by the command: both removed
    kept = tmp_path / "kept"        # there before: left as it was
    kept.mkdir()
    for out in (new, kept):
        assert fails(["search", "--config", config, "--backend", "dask", "--address",
                      "tcp://127.0.0.1:1", "--out", str(out)]) == (
            "chainrule search: could not connect to the Dask scheduler at tcp://127.0.0.1:1: "
            "Timed out trying to connect to tcp://127.0.0.1:1 after 1 s")
    assert not (tmp_path / "new").exists()
    assert kept.is_dir() and not any(kept.iterdir())
    monkeypatch.chdir(tmp_path)  # the default --out: a new runs/<time>-search-mlp-digits
    fails(["search", "--config", config, "--backend", "dask", "--address", "tcp://127.0.0.1:1"])
    assert not (tmp_path / "runs").exists()
    assert "backend dask" in capsys.readouterr().out


def test_an_unreachable_ray_address_is_a_one_line_error(tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install \"chainrule[ray]\")")
    out = tmp_path / "o"
    assert fails(["search", "--config", write(tmp_path, TINY), "--backend", "ray", "--address",
                  "tcp://127.0.0.1:1", "--out", str(out)]).startswith(
        "chainrule search: could not connect to the Ray cluster at tcp://127.0.0.1:1: "
        "RuntimeError: ")
    assert not out.exists()
