"""The chainrule command: train (end to end, determinism, resume), summary, help."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, io

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--hidden", "32", "--dropout", "0.2", "--batch-size", "64", "--schedule", "plateau",
         "--quiet"]


def _train(capsys, *args):
    assert cli.main(["train", *args]) == 0
    return capsys.readouterr().out


def test_default_train_reaches_97_percent_and_writes_everything(tmp_path, capsys):
    out = _train(capsys, "--out", str(tmp_path))
    last = out.strip().splitlines()[-1]
    match = re.fullmatch(r"test accuracy (\d\.\d{4})  macro-F1 (\d\.\d{4})", last)
    assert match, last
    assert float(match[1]) >= 0.97 and float(match[2]) >= 0.97
    assert re.search(r"^epoch  1/60  train_loss \d\.\d{4}  train_accuracy", out, re.M)

    record = json.loads((tmp_path / "history.json").read_text())
    assert set(record) == {"epochs", "test", "config"}
    assert record["test"] == {"accuracy": pytest.approx(float(match[1]), abs=5e-5),
                              "f1_macro": pytest.approx(float(match[2]), abs=5e-5)}
    for i, epoch in enumerate(record["epochs"], start=1):
        assert list(epoch) == ["epoch", "train_loss", "train_accuracy", "val_loss",
                               "val_accuracy", "lr", "seconds"]
        assert epoch["epoch"] == i and epoch["lr"] == 1e-3
    assert record["config"]["hidden"] == [512, 256] and record["config"]["seed"] == 0

    extra = io.checkpoint_extra(tmp_path / "model.safetensors")
    assert extra["epoch"] == len(record["epochs"])
    assert extra["config"] == record["config"]
    for name in ("learning_curves.png", "confusion_matrix.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_same_seed_same_history_and_weights(tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        _train(capsys, "--epochs", "3", "--seed", "4", "--out", str(tmp_path / name), *SMALL)
        record = json.loads((tmp_path / name / "history.json").read_text())
        for epoch in record["epochs"]:
            del epoch["seconds"]
        runs.append((record, cr.load(tmp_path / name / "model.safetensors")))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1].keys() == runs[1][1].keys()
    for key, value in runs[0][1].items():
        np.testing.assert_array_equal(runs[1][1][key], value)


def test_stopped_and_resumed_run_ends_with_identical_weights(tmp_path, capsys):
    full, part = tmp_path / "full", tmp_path / "part"
    _train(capsys, "--epochs", "5", "--out", str(full), *SMALL)
    _train(capsys, "--epochs", "2", "--out", str(part), *SMALL)
    out = _train(capsys, "--resume", str(part), "--epochs", "5", "--quiet")
    assert out.startswith("test accuracy")
    a = cr.load(full / "model.safetensors")
    b = cr.load(part / "model.safetensors")
    assert a.keys() == b.keys() and any(k.startswith("optimizer.") for k in a)
    for key, value in a.items():
        np.testing.assert_array_equal(b[key], value)
    history_a = json.loads((full / "history.json").read_text())
    history_b = json.loads((part / "history.json").read_text())
    for record in (history_a, history_b):
        for epoch in record["epochs"]:
            del epoch["seconds"]
    assert history_a["epochs"] == history_b["epochs"] and history_a["test"] == history_b["test"]


def test_resume_refuses_a_changed_configuration(tmp_path, capsys):
    _train(capsys, "--epochs", "1", "--out", str(tmp_path), *SMALL)
    with pytest.raises(SystemExit, match="cannot change --lr 0.5"):
        cli.main(["train", "--resume", str(tmp_path), "--lr", "0.5"])
    with pytest.raises(SystemExit, match="no model.safetensors"):
        cli.main(["train", "--resume", str(tmp_path / "missing")])


def test_plots_are_skipped_with_a_reason_without_matplotlib(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    out = _train(capsys, "--epochs", "1", "--out", str(tmp_path), "--hidden", "8")
    assert "plots skipped: plotting needs matplotlib" in out
    assert not (tmp_path / "learning_curves.png").exists()
    assert out.strip().splitlines()[-1].startswith("test accuracy")


def test_summary_prints_the_layer_table(capsys):
    assert cli.main(["summary", "--model", "mlp", "--dataset", "digits"]) == 0
    out = capsys.readouterr().out
    assert "Linear" in out and "[-1, 512]" in out
    total = 64 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
    assert f"Total params: {total:,}" in out


def test_help_lists_commands_and_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "train" in out and "summary" in out
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--model", "--dataset", "--epochs", "--batch-size", "--optimizer", "--lr",
                 "--weight-decay", "--schedule", "--patience", "--seed", "--out", "--resume",
                 "--quiet", "sgd,momentum,nesterov,adagrad,rmsprop,adam",
                 "none,step,cosine,plateau"):
        assert flag in out, flag


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--optimizer", "lbfgs"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'lbfgs'" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, expected", [
    ("--dropout", "1", "expected a probability in [0, 1), got '1'"),
    ("--lr", "inf", "expected a finite number >= 0, got 'inf'"),
    ("--lr", "-1", "expected a finite number >= 0, got '-1'"),
    ("--batch-size", "1.5", "expected a positive integer, got '1.5'"),
    ("--seed", "x", "expected an integer >= 0, got 'x'"),
])
def test_bad_values_name_the_flag_and_what_was_expected(capsys, flag, value, expected):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", flag, value])
    assert exit_info.value.code == 2
    assert f"argument {flag}: {expected}" in capsys.readouterr().err


def test_unreadable_checkpoint_or_output_directory_is_a_message(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match=r"--resume .*: cannot read model.safetensors: .*"
                                         r"not a valid safetensors file"):
        cli.main(["train", "--resume", str(tmp_path)])
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit, match="--out .*file.*cannot create the directory"):
        cli.main(["train", "--out", str(tmp_path / "file" / "run")])


def test_resume_with_fewer_epochs_than_run_says_so(tmp_path, capsys):
    _train(capsys, "--epochs", "2", "--out", str(tmp_path), *SMALL)
    out = _train(capsys, "--resume", str(tmp_path), "--epochs", "1")
    assert "the run already has 2 epochs (--epochs 1); not training further" in out
    assert out.strip().splitlines()[-1] == _last_line(tmp_path)
    assert len(json.loads((tmp_path / "history.json").read_text())["epochs"]) == 2


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "chainrule", "--help"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("usage: chainrule")


def test_resuming_an_early_stopped_run_into_another_directory(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    args = ["--hidden", "32", "--lr", "0.01", "--patience", "1", "--epochs", "30"]
    out = _train(capsys, *args, "--out", str(first))
    stopped = re.search(r"early stopping after epoch (\d+)", out)
    assert stopped and int(stopped[1]) < 30
    out = _train(capsys, "--resume", str(first), "--out", str(second), "--epochs", "40")
    assert f"the run had stopped early at epoch {stopped[1]}; not training further" in out
    a, b = cr.load(first / "model.safetensors"), cr.load(second / "model.safetensors")
    for key, value in a.items():
        np.testing.assert_array_equal(b[key], value)
    assert out.strip().splitlines()[-1] == _last_line(first)


def _last_line(directory):
    test = json.loads((directory / "history.json").read_text())["test"]
    return f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['f1_macro']:.4f}"


def test_resume_says_an_epoch_planned_schedule_keeps_its_plan(tmp_path, capsys):
    _train(capsys, "--epochs", "1", "--out", str(tmp_path), *SMALL, "--schedule", "cosine")
    out = _train(capsys, "--resume", str(tmp_path), "--epochs", "2")
    assert "note: the cosine schedule keeps the 1-epoch plan it was built with" in out
    record = json.loads((tmp_path / "history.json").read_text())
    assert [e["epoch"] for e in record["epochs"]] == [1, 2]
    assert record["epochs"][1]["lr"] == pytest.approx(0.0, abs=1e-15)  # cos(π·1/1) → η_min
