"""The chainrule command: train (end to end, determinism, resume, failures), summary, help."""

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli, io, metrics
from chainrule.data import train_val_test_split
from chainrule.data.datasets import load_digits
from chainrule.train import predict
from chainrule.train.recipes import build_model, build_optimizer, build_scheduler

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--hidden", "32", "--dropout", "0.2", "--batch-size", "64", "--schedule", "plateau",
         "--quiet"]


ROOT = Path(__file__).resolve().parents[1]
LAST = re.compile(r"test accuracy (\d\.\d{4})  macro-F1 (\d\.\d{4})  "
                  r"\(epoch (\d+), best validation loss\)")


def _train(capsys, *args):
    assert cli.main(["train", *args]) == 0
    return capsys.readouterr().out


def _record(directory):
    record = json.loads((directory / "history.json").read_text())
    for epoch in record["epochs"]:
        del epoch["seconds"]
    return record


def _assert_same_tensors(a, b):
    a, b = cr.load(a), cr.load(b)
    assert a.keys() == b.keys()
    for key, value in a.items():
        np.testing.assert_array_equal(b[key], value, err_msg=key)


def test_default_train_tests_the_best_validation_epoch_and_writes_everything(tmp_path, capsys):
    out = _train(capsys, "--out", str(tmp_path))
    last = out.strip().splitlines()[-1]
    match = LAST.fullmatch(last)
    assert match, last
    assert float(match[1]) >= 0.96 and float(match[2]) >= 0.96
    assert re.search(r"^epoch  1/60  train_loss \d\.\d{4}  train_accuracy", out, re.M)

    record = json.loads((tmp_path / "history.json").read_text())
    assert set(record) == {"status", "epochs", "test", "config"} and record["status"] == "finished"
    for i, epoch in enumerate(record["epochs"], start=1):
        assert list(epoch) == ["epoch", "train_loss", "train_accuracy", "val_loss",
                               "val_accuracy", "lr", "seconds"]
        assert epoch["epoch"] == i and epoch["lr"] == 1e-3
    assert record["config"]["hidden"] == [512, 256] and record["config"]["seed"] == 0

    # the test set was evaluated on the epoch with the lowest validation loss, not the last
    best = min(record["epochs"], key=lambda e: e["val_loss"])["epoch"]
    assert best != len(record["epochs"])  # seed 0: the best epoch is not the last one
    assert record["test"] == {"epoch": best, "chosen_by": "best validation loss",
                              "accuracy": pytest.approx(float(match[1]), abs=5e-5),
                              "f1_macro": pytest.approx(float(match[2]), abs=5e-5)}
    assert int(match[3]) == best
    assert io.load_metadata(tmp_path / "best.safetensors")["epoch"] == str(best)
    X, y = load_digits()
    *_, x_test, _, _, y_test = train_val_test_split(X, y, val_size=0.1, test_size=0.2,
                                                     stratify=y, seed=0)
    accuracies = {}
    for name in ("best.safetensors", "model.safetensors"):
        model = build_model("mlp", "digits", [512, 256], 0.3)
        model.load_state_dict({k: v for k, v in cr.load(tmp_path / name).items()
                               if not k.startswith(("optimizer.", "scheduler.", "rng.",
                                                    "extra."))})
        accuracies[name] = metrics.accuracy(y_test, predict(model, x_test).argmax(axis=1))
    assert record["test"]["accuracy"] == accuracies["best.safetensors"]
    assert accuracies["best.safetensors"] != accuracies["model.safetensors"]

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
    assert any(k.startswith("optimizer.") for k in cr.load(full / "model.safetensors"))
    for name in ("model.safetensors", "best.safetensors"):
        _assert_same_tensors(full / name, part / name)
    assert _record(full) == _record(part)


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
                 "--quiet", "--overwrite", "--hidden", "--dropout",
                 "sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw",
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
    for name in ("model.safetensors", "best.safetensors"):
        _assert_same_tensors(first / name, second / name)
    assert out.strip().splitlines()[-1] == _last_line(first)


def _last_line(directory):
    test = json.loads((directory / "history.json").read_text())["test"]
    return (f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['f1_macro']:.4f}  "
            f"(epoch {test['epoch']}, {test['chosen_by']})")


def test_resume_says_an_epoch_planned_schedule_keeps_its_plan(tmp_path, capsys):
    _train(capsys, "--epochs", "1", "--out", str(tmp_path), *SMALL, "--schedule", "cosine")
    out = _train(capsys, "--resume", str(tmp_path), "--epochs", "2")
    assert "note: the cosine schedule keeps the 1-epoch plan it was built with" in out
    record = json.loads((tmp_path / "history.json").read_text())
    assert [e["epoch"] for e in record["epochs"]] == [1, 2]
    assert record["epochs"][1]["lr"] == pytest.approx(0.0, abs=1e-15)  # cos(π·1/1) → η_min


# ----------------------------------------------------------------------------- divergence
def test_divergence_stops_naming_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path,
                                                                                     capsys):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SystemExit) as info:
            cli.main(["train", "--optimizer", "sgd", "--lr", "2", "--epochs", "10",
                      "--out", str(tmp_path)])
    message = str(info.value.code)
    match = re.fullmatch(r"chainrule train: the training loss became nan at epoch (\d+), batch "
                         r"(\d+) of 40 \(lr 2\): training diverged; try a smaller learning rate "
                         r"such as --lr 0.2; (.*)", message)
    assert match, message
    epoch = int(match[1])
    assert epoch >= 2 and match[3] == (f"{tmp_path / 'model.safetensors'} keeps epoch "
                                       f"{epoch - 1}, the last good one")
    assert [str(w.message) for w in caught] == []  # no NumPy overflow warnings
    out = capsys.readouterr().out
    assert "nan" not in out and f"epoch {epoch - 1:>2}/10" in out
    assert io.checkpoint_extra(tmp_path / "model.safetensors")["epoch"] == epoch - 1
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["status"] == "diverged" and len(record["epochs"]) == epoch - 1
    assert f"at epoch {epoch}, batch {match[2]}" in record["error"] and "test" not in record


def test_divergence_in_the_first_epoch_claims_no_checkpoint(tmp_path):
    with pytest.raises(SystemExit, match=r"at epoch 1, batch \d+ of 40 \(lr 5\).*--lr 0.5; "
                                         r"no checkpoint was written$"):
        cli.main(["train", "--optimizer", "sgd", "--lr", "5", "--out", str(tmp_path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_lr_0_warns(tmp_path, capsys):
    assert cli.main(["train", "--lr", "0", "--epochs", "1", "--hidden", "8", "--out",
                     str(tmp_path)]) == 0
    assert ("chainrule train: warning: --lr 0: a learning rate of 0 never changes the weights"
            in capsys.readouterr().err)


# ----------------------------------------------------------------------------- run directories
def test_out_holding_another_run_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    run = tmp_path / "run"
    _train(capsys, "--epochs", "1", "--hidden", "8", "--out", str(run))
    with pytest.raises(SystemExit, match=r"--out .*run holds another run \(model.safetensors or "
                                         r"history.json\); continue it with --resume .*, "
                                         r"replace it with --overwrite"):
        cli.main(["train", "--epochs", "1", "--hidden", "16", "--out", str(run)])
    assert json.loads((run / "history.json").read_text())["config"]["hidden"] == [8]
    other = tmp_path / "other"
    _train(capsys, "--epochs", "1", "--hidden", "4", "--out", str(other))
    with pytest.raises(SystemExit, match="holds another run"):  # nor as a resume target
        cli.main(["train", "--resume", str(run), "--epochs", "2", "--out", str(other)])
    _train(capsys, "--epochs", "1", "--hidden", "16", "--out", str(run), "--overwrite")
    assert json.loads((run / "history.json").read_text())["config"]["hidden"] == [16]
    with pytest.raises(SystemExit, match="--overwrite would delete the run that --resume"):
        cli.main(["train", "--resume", str(run), "--overwrite"])


def test_default_runs_get_their_own_folder_and_runs_latest_points_at_the_newest(tmp_path,
                                                                                capsys,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    _train(capsys, "--epochs", "1", "--hidden", "8")
    _train(capsys, "--epochs", "1", "--hidden", "16")
    runs = sorted(p for p in (tmp_path / "runs").iterdir() if p.name != "latest")
    assert len(runs) == 2 and all(re.fullmatch(r"\d{8}-\d{6}-mlp-digits(-2)?", p.name)
                                  for p in runs)
    hidden = {json.loads((p / "history.json").read_text())["config"]["hidden"][0]: p
              for p in runs}
    latest = tmp_path / "runs" / "latest"
    assert latest.is_symlink() and latest.resolve() == hidden[16].resolve()
    assert json.loads((latest / "history.json").read_text())["config"]["hidden"] == [16]

    def no_symlinks(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    out = _train(capsys, "--epochs", "1", "--hidden", "4")
    newest = (tmp_path / "runs" / "LATEST").read_text().strip()
    assert json.loads((tmp_path / "runs" / newest / "history.json").read_text())[
        "config"]["hidden"] == [4]
    assert not latest.exists() and not latest.is_symlink()  # no stale link left behind
    assert "(runs/LATEST points there)" in out


# ----------------------------------------------------------------------------- failures
def test_read_only_out_is_a_message_before_training(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)  # root may write anywhere
    with pytest.raises(SystemExit, match=r"^chainrule train: --out .*: cannot write there: "
                                         r"Permission denied$"):
        cli.main(["train", "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes to read-only directories")
def test_read_only_out_directory(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SystemExit, match="cannot write there: Permission denied"):
            cli.main(["train", "--out", str(tmp_path)])
    finally:
        tmp_path.chmod(0o755)


def test_disk_full_while_saving_is_a_message_and_keeps_the_history(tmp_path, monkeypatch):
    real, calls = io.save_checkpoint, []

    def fills_up(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(io, "save_checkpoint", fills_up)
    with pytest.raises(SystemExit, match=r"^chainrule train: cannot save epoch 3 to .*: No space "
                                         r"left on device \(the disk is full\); "
                                         r".*model.safetensors holds epoch 2$"):
        cli.main(["train", "--epochs", "5", "--out", str(tmp_path), *SMALL])
    assert io.checkpoint_extra(tmp_path / "model.safetensors")["epoch"] == 2
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["status"] == "interrupted" and len(record["epochs"]) == 2


def _checkpoint_with(path, hidden, extra, optimizer="adam"):
    cr.manual_seed(0)
    model = build_model("mlp", "digits", hidden, 0.2)
    opt = build_optimizer(optimizer, model.parameters(), 1e-3, 0.0)
    io.save_checkpoint(path, model, opt, build_scheduler("plateau", opt, 2, 20), extra=extra)


def test_resume_of_another_architecture_or_a_damaged_checkpoint_is_a_message(tmp_path, capsys):
    run = tmp_path / "run"
    _train(capsys, "--epochs", "1", "--out", str(run), *SMALL)  # hidden 32
    extra = io.checkpoint_extra(run / "model.safetensors")
    cases = {
        # weights of a 16-unit model under the configuration of a 32-unit one
        "architecture": ({"hidden": [16], "extra": extra},
                         r"--resume .*: cannot continue that run: load_checkpoint\(.*\): .*"),
        "optimizer": ({"hidden": [32], "extra": extra, "optimizer": "sgd"},
                      r"cannot continue that run: .*SGD optimizer state"),
        "config": ({"hidden": [32], "extra": {**extra, "config": {**extra["config"],
                                                                  "hidden": "32"}}},
                   r"the configuration stored in model.safetensors is damaged or from another "
                   r"version \(hidden '32'\); it cannot be resumed"),
        "no config": ({"hidden": [32], "extra": {"epoch": 1}},
                      r"holds no 'chainrule train' configuration"),
    }
    for name, (kwargs, expected) in cases.items():
        directory = tmp_path / name
        directory.mkdir()
        _checkpoint_with(directory / "model.safetensors", **kwargs)
        with pytest.raises(SystemExit, match=expected):
            cli.main(["train", "--resume", str(directory), "--epochs", "2"])
        assert sorted(p.name for p in directory.iterdir()) == ["model.safetensors"], name
    data = bytearray((run / "model.safetensors").read_bytes())
    header = data.index(b'"chainrule.extra"')
    data[header + 40] ^= 0x01  # one bit of the stored configuration/history
    (run / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(SystemExit, match=r"--resume .*: cannot read model.safetensors: "):
        cli.main(["train", "--resume", str(run), "--epochs", "2"])
    assert capsys.readouterr().out == ""


def test_an_impossible_hidden_size_is_refused_before_allocating(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match=r"--hidden 100000000,100000000: the mlp would have "
                                         r"10,000,007,600,000,010 parameters and need about "
                                         r"[\d,.]+ GB to train, more than the [\d,.]+ GB of "
                                         r"memory available; choose smaller --hidden sizes"):
        cli.main(["train", "--hidden", "100000000,100000000", "--out", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []  # refused before the run directory was made

    def out_of_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(cli, "build_model", out_of_memory)  # past the estimate, still too big
    with pytest.raises(SystemExit, match=r"cannot build the mlp with --hidden 8: out of memory"):
        cli.main(["train", "--hidden", "8", "--out", str(tmp_path)])


def test_sigint_while_plotting_is_a_message_and_the_run_is_complete(tmp_path, capsys,
                                                                     monkeypatch):
    from chainrule.train import plots

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "plot_learning_curves", interrupted)
    assert cli.main(["train", "--epochs", "2", "--out", str(tmp_path), *SMALL]) == 130
    err = capsys.readouterr().err
    assert err == ("chainrule train: interrupted (SIGINT) while drawing the plots (the history "
                   f"and checkpoints are complete); {tmp_path / 'model.safetensors'} holds "
                   f"epoch 2: continue with 'chainrule train --resume {tmp_path}'\n")
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["status"] == "finished" and record["test"]["epoch"] in (1, 2)


class _InterruptAt(cr.train.Callback):
    def __init__(self, epoch, kind=KeyboardInterrupt):
        self.epoch, self.kind = epoch, kind

    def on_epoch_begin(self, epoch):
        if epoch == self.epoch:
            raise self.kind()


def _interrupt_fit_at(monkeypatch, epoch, kind=KeyboardInterrupt):
    real = cli.fit

    def fit(*args, callbacks, **kwargs):
        return real(*args, callbacks=[*callbacks, _InterruptAt(epoch, kind)], **kwargs)

    monkeypatch.setattr(cli, "fit", fit)


def test_an_interrupted_run_writes_its_history_and_says_how_to_continue(tmp_path, capsys,
                                                                         monkeypatch):
    _interrupt_fit_at(monkeypatch, 3)
    assert cli.main(["train", "--epochs", "5", "--out", str(tmp_path), *SMALL]) == 130
    err = capsys.readouterr().err
    assert err == (f"chainrule train: interrupted (SIGINT) in epoch 3; "
                   f"{tmp_path / 'model.safetensors'} holds epoch 2: continue with "
                   f"'chainrule train --resume {tmp_path}'\n")
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["status"] == "interrupted" and [e["epoch"] for e in record["epochs"]] == [1, 2]
    monkeypatch.undo()
    _train(capsys, "--resume", str(tmp_path), "--epochs", "5")
    assert json.loads((tmp_path / "history.json").read_text())["status"] == "finished"


def test_sigint_before_the_first_checkpoint_claims_none(tmp_path, capsys, monkeypatch):
    _interrupt_fit_at(monkeypatch, 1, cli._Terminated)  # SIGTERM is handled as SIGINT
    assert cli.main(["train", "--out", str(tmp_path), *SMALL]) == 143
    assert capsys.readouterr().err == ("chainrule train: interrupted (SIGTERM) in epoch 1; no "
                                       "checkpoint was written yet: nothing to resume\n")
    assert list(tmp_path.iterdir()) == []
    # nothing there is a run: the same --out starts afresh
    monkeypatch.undo()
    _train(capsys, "--epochs", "1", "--out", str(tmp_path), *SMALL)


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _child(args, **kwargs):
    env = _env()
    return subprocess.Popen([sys.executable, "-m", "chainrule", "train", *args], cwd=ROOT,
                            env=env, **kwargs)


@pytest.mark.parametrize("quiet", [False, True])
def test_a_closed_stdout_ends_quietly_with_status_141(tmp_path, quiet):
    read, write = os.pipe()
    os.close(read)  # as `| head` that has exited
    try:
        child = _child(["--epochs", "2", "--hidden", "8", "--out", str(tmp_path)]
                       + (["--quiet"] if quiet else []), stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    _, err = child.communicate(timeout=120)
    assert (child.returncode, err) == (141, b"")
    # the run itself completed (quiet) or stopped at its first line (before training)
    assert (tmp_path / "history.json").exists() == quiet


def test_readme_synopsis_lists_every_option():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The command line"):]
    start = section.index("```text") + len("```text")
    synopsis = section[start:section.index("```", start)]
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        assert f"chainrule {name}" in synopsis, name
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in synopsis, (name, flag)
            if action.choices and action.option_strings:
                assert "|".join(action.choices) in synopsis, (name, action.option_strings)


def test_adamw_is_an_optimizer(tmp_path, capsys):
    _train(capsys, "--optimizer", "adamw", "--weight-decay", "0.01", "--epochs", "2",
           "--out", str(tmp_path), *SMALL)
    model = build_model("mlp", "digits", [32], 0.2)
    adamw = build_optimizer("adamw", model.parameters(), 1e-3, 0.01)
    io.load_checkpoint(tmp_path / "model.safetensors", model, adamw)
    assert type(adamw).__name__ == "AdamW"
    adam = build_optimizer("adam", model.parameters(), 1e-3, 0.01)
    with pytest.raises(ValueError, match="AdamW optimizer state"):
        io.load_checkpoint(tmp_path / "model.safetensors", model, adam)


def test_the_plots_name_the_run_mark_the_tested_epoch_and_show_the_test_accuracy(
        tmp_path, capsys, monkeypatch):
    from chainrule.train import plots

    figures = {}

    def keeping(name):
        real = getattr(plots, name)

        def keep(*args, **kwargs):
            figures[name] = real(*args, **kwargs)
            return figures[name]

        return keep

    for name in ("plot_learning_curves", "plot_confusion_matrix"):
        monkeypatch.setattr(plots, name, keeping(name))
    _train(capsys, "--epochs", "4", "--out", str(tmp_path), *SMALL, "--schedule", "step",
           "--seed", "3")
    test = json.loads((tmp_path / "history.json").read_text())["test"]
    curves = figures["plot_learning_curves"]
    assert curves.get_suptitle() == "mlp 32 on digits: adam lr 0.001, step schedule, seed 3"
    titles = [ax.get_title() for ax in curves.axes if ax.get_title()]
    assert titles == ["Loss", "Accuracy", "Learning rate"]
    assert any(label.startswith(f"best and tested epoch {test['epoch']} ")
               for label in [line.get_label() for line in curves.axes[0].get_lines()])
    matrix = figures["plot_confusion_matrix"].axes[0].get_title()
    assert matrix.startswith(f"digits test set, epoch {test['epoch']} (mlp 32, seed 3)\n"
                             f"accuracy {test['accuracy']:.4f} (")


# ----------------------------------------------------------------------------- SIGKILL and resume
_SLOW_FSYNC = """
import os, sys, time
_fsync = os.fsync
def _slow(fd):  # a slow disk: a checkpoint write lasts long enough to be killed inside
    time.sleep(0.15)
    _fsync(fd)
os.fsync = _slow
from chainrule.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _wait_for(condition, what, child, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert child.poll() is None, f"the run ended (status {child.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def _temporaries(directory, name="*"):
    return set(directory.glob(f".{name}.*.chainrule.tmp"))


def _new_temporary(directory, name, child):
    """Wait for a temporary file of a write by ``child`` (not a leftover of a killed run)."""
    old = _temporaries(directory, name)
    _wait_for(lambda: _temporaries(directory, name) - old, f"a write of {name}", child)


def test_sigkill_at_any_moment_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    args = ["--epochs", "6", *SMALL]
    reference, run = tmp_path / "reference", tmp_path / "run"
    _train(capsys, *args, "--out", str(reference))
    env = _env()

    def start(*extra):
        return subprocess.Popen([sys.executable, "-c", _SLOW_FSYNC, "train", *extra], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def epoch():
        return io.checkpoint_extra(run / "model.safetensors")["epoch"]

    resume = ["--resume", str(run), "--epochs", "6", "--quiet"]
    # 1. killed while writing the second checkpoint: the temporary file is left behind
    child = start(*args, "--out", str(run))
    _wait_for(lambda: (run / "model.safetensors").exists(), "the first checkpoint", child)
    _new_temporary(run, "model.safetensors", child)
    child.kill()
    child.wait()
    assert _temporaries(run, "model.safetensors") and epoch() >= 1
    # 2. killed while writing best.safetensors (before model.safetensors, of the same epoch)
    before = epoch()
    child = start(*resume)
    _new_temporary(run, "best.safetensors", child)
    child.kill()
    child.wait()
    assert epoch() == before
    # 3. SIGTERM inside a checkpoint write: a clean stop, the temporary file removed
    child = start(*resume)
    _new_temporary(run, "model.safetensors", child)
    child.terminate()
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143, err
    assert b"chainrule train: interrupted (SIGTERM)" in err and b"Traceback" not in err
    # 4. SIGINT in the middle of an epoch
    before = epoch()
    child = start(*resume)
    _wait_for(lambda: epoch() > before, "an epoch", child)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert json.loads((run / "history.json").read_text())["status"] == "interrupted"
    # 5. killed in the middle of an epoch, right after a checkpoint
    before = epoch()
    child = start(*resume)
    _wait_for(lambda: epoch() > before, "an epoch", child)
    child.kill()
    child.wait()
    assert epoch() < 6
    # 6. resumed to the end
    child = start(*resume)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err

    for name in ("model.safetensors", "best.safetensors"):
        _assert_same_tensors(reference / name, run / name)
    assert _record(reference) == _record(run)
    assert _temporaries(run) == set() and not list(run.glob(".*"))
