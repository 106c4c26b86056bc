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
from chainrule.train import predict, recipes
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
                 "--quiet", "--overwrite", "--hidden", "--dropout", "--channels", "--depth",
                 "--data-dir", "--augment", "--train-subset", "--classes", "--init-from",
                 "--freeze", "mlp,cnn,resnet", "digits,mnist1d,mnist,fashion-mnist,cifar10",
                 "sgd,momentum,nesterov,adagrad,rmsprop,adam,adamw",
                 "none,step,cosine,plateau", "none,body"):
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

    def start(*extra):  # SIGINT as a terminal gives it, even if the runner ignores it (nohup &)
        return subprocess.Popen([sys.executable, "-c", _SLOW_FSYNC, "train", *extra], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

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


# ----------------------------------------------------------------------------- models and data
CNN = ["--model", "cnn", "--channels", "4,8", "--hidden", "16", "--lr", "0.01"]
MNIST = Path(os.environ.get("CHAINRULE_MNIST_DIR", "/work/shared/data/mnist"))


def _model_state(path):
    reserved = ("optimizer.", "scheduler.", "rng.", "extra.")
    return {k: v for k, v in cr.load(path).items() if not k.startswith(reserved)}


def test_each_model_has_its_defaults_and_the_default_run_is_unchanged():
    def config(*argv):
        return cli._config(cli.build_parser().parse_args(["train", *argv]), None)

    mlp = config()
    assert {k: mlp[k] for k in ("model", "dataset", "hidden", "dropout", "epochs", "batch_size",
                                "patience", "lr", "channels", "depth", "augment", "freeze")} == {
        "model": "mlp", "dataset": "digits", "hidden": [512, 256], "dropout": 0.3, "epochs": 60,
        "batch_size": 32, "patience": 20, "lr": 1e-3, "channels": None, "depth": None,
        "augment": False, "freeze": "none"}
    cnn = config("--model", "cnn")
    assert (cnn["channels"], cnn["hidden"], cnn["depth"], cnn["epochs"]) == (
        recipes.MODEL_DEFAULTS["cnn"]["channels"], [128], None, 30)
    assert cnn["channels"] == [64, 128] and 0 < cnn["dropout"] < 1 and cnn["lr"] == 1e-3
    resnet = config("--model", "resnet", "--dataset", "mnist1d")
    assert (resnet["channels"], resnet["depth"], resnet["hidden"], resnet["dropout"]) == (
        [16, 32, 64], 2, None, None)
    assert config("--model", "cnn", "--dataset", "mnist")["epochs"] == 10
    assert config("--model", "cnn", "--epochs", "3")["epochs"] == 3


@pytest.mark.parametrize("argv, message", [
    (["--channels", "4"], "--channels sizes the cnn and the resnet; the mlp has no such setting"),
    (["--model", "resnet", "--hidden", "8"], "--hidden sizes the mlp and the cnn; the resnet"),
    (["--model", "resnet", "--dropout", "0.1"], "--dropout sizes the mlp and the cnn"),
    (["--model", "cnn", "--depth", "2"], "--depth sizes the resnet; the cnn has no such"),
    (["--data-dir", "x"], "--data-dir is for the datasets read from files"),
    (["--freeze", "body"], "--freeze body trains only the head of a model loaded with "
                           "--init-from DIR"),
    (["--classes", "8-10"], "--classes 8-10: digits has the classes 0-9"),
])
def test_settings_the_model_or_dataset_does_not_have_are_one_line_messages(tmp_path, argv,
                                                                          message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", *argv, "--out", str(tmp_path / "run")])
    assert str(exit_info.value).startswith(f"chainrule train: {message}")
    assert "\n" not in str(exit_info.value)
    assert not (tmp_path / "run").exists()


def test_cnn_on_digits_trains_and_prints_the_test_accuracy_of_the_tested_epoch(tmp_path, capsys):
    out = _train(capsys, *CNN, "--epochs", "3", "--out", str(tmp_path))
    assert re.search(r"^digits: 1257 train / 180 validation / 360 test samples; cnn with "
                     r"\d+ parameters", out, re.M)
    assert re.search(r"^epoch 3/3  train_loss \d\.\d{4}  train_accuracy", out, re.M)
    match = LAST.fullmatch(out.strip().splitlines()[-1])
    assert match, out
    record = json.loads((tmp_path / "history.json").read_text())
    config = record["config"]
    assert (config["model"], config["channels"], config["hidden"]) == ("cnn", [4, 8], [16])
    best = min(record["epochs"], key=lambda e: e["val_loss"])["epoch"]
    assert int(match[3]) == best == record["test"]["epoch"]
    assert float(match[1]) == pytest.approx(record["test"]["accuracy"], abs=5e-5)
    assert record["test"]["accuracy"] > 0.6  # three epochs of a tiny cnn; chance is 0.1
    # the printed accuracy is best.safetensors' on the test split
    data = recipes.prepare_data("digits", seed=0)
    model = build_model("cnn", "digits", [16], config["dropout"], channels=[4, 8])
    model.load_state_dict(cr.load(tmp_path / "best.safetensors"))
    assert metrics.accuracy(data.y_test, predict(model, data.x_test).argmax(axis=1)) == \
        record["test"]["accuracy"]
    for name in ("learning_curves.png", "confusion_matrix.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_resnet_trains_on_mnist1d_with_its_official_test_set(tmp_path, capsys):
    pytest.importorskip("mnist1d")
    out = _train(capsys, "--model", "resnet", "--dataset", "mnist1d", "--channels", "4,8",
                 "--depth", "1", "--train-subset", "200", "--epochs", "1",
                 "--out", str(tmp_path))
    assert ("mnist1d (a stratified subset for training): 200 train / 400 validation / 1000 "
            "test samples; resnet with") in out
    assert LAST.fullmatch(out.strip().splitlines()[-1])
    state = cr.load(tmp_path / "best.safetensors")
    assert state["0.weight"].shape == (4, 1, 3)  # Conv1d over the signal
    assert any(k.endswith("running_mean") for k in state)


def _spy_on_loaders(monkeypatch):
    """Record the batches the training, validation and test loaders yield."""
    from chainrule.train import fit as real_fit

    seen = {}

    def fit(model, loss_fn, optimizer, train_loader, val_loader, **kwargs):
        state = train_loader.state_dict()
        seen["train"] = [(x.numpy(), y.numpy()) for x, y in train_loader]
        train_loader.load_state_dict(state)
        seen["val"] = [(x.numpy(), y.numpy()) for x, y in val_loader]
        seen["transforms"] = (train_loader.transform, val_loader.transform)
        return real_fit(model, loss_fn, optimizer, train_loader, val_loader, **kwargs)

    def spy_predict(model, loader):
        seen["test"] = [(x.numpy(), y.numpy()) for x, y in loader]
        seen["test_transform"] = loader.transform
        return predict(model, loader)

    monkeypatch.setattr(cli, "fit", fit)
    monkeypatch.setattr(cli, "predict", spy_predict)
    return seen


def test_augment_changes_the_training_batches_only(tmp_path, capsys, monkeypatch):
    runs = {}
    for name, extra in (("plain", []), ("augmented", ["--augment"])):
        runs[name] = _spy_on_loaders(monkeypatch)
        out = _train(capsys, *CNN, "--epochs", "1", "--train-subset", "256",
                     "--out", str(tmp_path / name), *extra)
    assert "digits (a stratified subset for training; training batches augmented)" in out
    plain, augmented = runs["plain"], runs["augmented"]
    assert plain["transforms"] == (None, None) and augmented["transforms"][1] is None
    assert augmented["test_transform"] is None
    assert len(plain["train"]) == len(augmented["train"]) == 8  # 256 samples, 32 a batch
    for (x, y), (xa, ya) in zip(plain["train"], augmented["train"]):
        np.testing.assert_array_equal(y, ya)  # the same samples in the same order ...
        assert x.shape == xa.shape and not np.array_equal(x, xa)  # ... rotated
        assert np.isclose(x.sum(), xa.sum(), rtol=0.5)  # still digits, not noise
    for split in ("val", "test"):
        assert len(plain[split]) == len(augmented[split])
        for (x, y), (xa, ya) in zip(plain[split], augmented[split]):
            np.testing.assert_array_equal(x, xa)
            np.testing.assert_array_equal(y, ya)
    assert json.loads((tmp_path / "augmented" / "history.json").read_text())["config"][
        "augment"] is True


def test_an_augmented_run_stopped_and_resumed_ends_with_identical_weights(tmp_path, capsys):
    args = [*CNN, "--augment", "--train-subset", "256", "--quiet"]
    _train(capsys, *args, "--epochs", "3", "--out", str(tmp_path / "full"))
    _train(capsys, *args, "--epochs", "1", "--out", str(tmp_path / "part"))
    _train(capsys, "--resume", str(tmp_path / "part"), "--epochs", "3", "--quiet")
    for name in ("model.safetensors", "best.safetensors"):
        _assert_same_tensors(tmp_path / "full" / name, tmp_path / "part" / name)


def test_pretrain_on_0_to_4_then_fine_tune_only_the_head_on_100_images_of_5_to_9(tmp_path,
                                                                                capsys):
    pre, tuned = tmp_path / "pre", tmp_path / "tuned"
    out = _train(capsys, *CNN, "--classes", "0-4", "--epochs", "3", "--out", str(pre))
    assert "digits (classes 0-4): 629 train / 91 validation / 181 test samples" in out
    body = _model_state(pre / "best.safetensors")
    # the architecture (cnn, --channels 4,8 --hidden 16) is taken from the run
    out = _train(capsys, "--model", "cnn", "--classes", "5-9", "--train-subset", "100",
                 "--init-from", str(pre), "--freeze", "body", "--epochs", "6", "--lr", "0.01",
                 "--weight-decay", "0.1", "--out", str(tuned))
    epoch = io.load_metadata(pre / "best.safetensors")["epoch"]
    assert (f"initialised from {pre / 'best.safetensors'} (epoch {epoch}), all but the head "
            f"(re-initialised: --freeze body)") in out
    assert "digits (classes 5-9 as 0-4; a stratified subset for training): 100 train" in out
    head = f"{len(build_model('cnn', 'digits', [16], 0.3, channels=[4, 8])) - 1}."
    size = recipes.parameter_count("cnn", "digits", [16], [4, 8], num_classes=5) - (16 * 5 + 5)
    assert re.search(rf"cnn with \d+ parameters \({size} frozen\)", out)
    record = json.loads((tuned / "history.json").read_text())
    assert record["config"]["init_from"] == str(pre) and record["config"]["freeze"] == "body"
    assert record["config"]["channels"] == [4, 8] and record["config"]["classes"] == [5, 6, 7,
                                                                                        8, 9]
    cr.manual_seed(0)  # the head the fine-tuning started from
    start = build_model("cnn", "digits", [16], record["config"]["dropout"], channels=[4, 8],
                        num_classes=5).state_dict()
    for name in ("model.safetensors", "best.safetensors"):
        tuned_state = _model_state(tuned / name)
        assert tuned_state.keys() == body.keys()
        for key, value in body.items():
            if key.startswith(head):  # the head learned
                assert not np.array_equal(tuned_state[key], start[key]), (name, key)
            else:  # the body is bit for bit the pre-trained one, weight decay notwithstanding
                np.testing.assert_array_equal(tuned_state[key], value, err_msg=(name, key))
    losses = [e["train_loss"] for e in record["epochs"]]
    assert losses[-1] < losses[0]
    assert record["test"]["accuracy"] > 0.5  # digits 5-9 from features learned on 0-4


def test_a_fine_tuning_run_resumes_with_its_body_frozen(tmp_path, capsys):
    _train(capsys, *CNN, "--classes", "0-4", "--epochs", "1", "--out", str(tmp_path / "pre"),
           "--quiet")
    args = ["--classes", "5-9", "--train-subset", "50", "--init-from", str(tmp_path / "pre"),
            "--freeze", "body", "--weight-decay", "0.1", "--quiet"]
    _train(capsys, *args, "--epochs", "3", "--out", str(tmp_path / "full"))
    _train(capsys, *args, "--epochs", "1", "--out", str(tmp_path / "part"))
    _train(capsys, "--resume", str(tmp_path / "part"), "--epochs", "3", "--quiet")
    for name in ("model.safetensors", "best.safetensors"):
        _assert_same_tensors(tmp_path / "full" / name, tmp_path / "part" / name)


def test_init_from_without_freeze_loads_the_head_too_when_the_classes_match(tmp_path, capsys):
    _train(capsys, *CNN, "--epochs", "1", "--out", str(tmp_path / "pre"), "--quiet")
    out = _train(capsys, "--init-from", str(tmp_path / "pre"), "--epochs", "1", "--lr", "0",
                 "--out", str(tmp_path / "again"))
    assert f"initialised from {tmp_path / 'pre' / 'best.safetensors'} (epoch 1)\n" in out
    pre, again = (cr.load(tmp_path / name / "best.safetensors") for name in ("pre", "again"))
    assert pre.keys() == again.keys()
    for key in pre:  # lr 0: no weight moved (BatchNorm's running statistics did)
        if key.endswith(("weight", "bias")):
            np.testing.assert_array_equal(again[key], pre[key], err_msg=key)


def test_init_from_a_run_of_another_architecture_or_dataset_is_a_one_line_message(tmp_path,
                                                                                 capsys):
    run = tmp_path / "mlp"
    _train(capsys, "--hidden", "8", "--epochs", "1", "--out", str(run), "--quiet")
    cases = [
        (["--model", "cnn"], r"that run trained a mlp, not a cnn; initialise a cnn from a cnn "
                             r"run \(or leave out --model to train a mlp\)"),
        (["--dataset", "mnist1d"], r"that run trained on digits \(inputs 1x8x8\); mnist1d has "
                                   r"inputs 1x40, which its weights do not fit"),
        (["--hidden", "16"], r"that run's mlp has --hidden 8, this one --hidden 16; leave out "
                             r"--hidden to take the run's"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "--init-from", str(run), *argv, "--out", str(tmp_path / "x")])
        assert re.fullmatch(rf"chainrule train: --init-from {re.escape(str(run))}: {message}",
                            str(exit_info.value)), str(exit_info.value)
        assert not (tmp_path / "x").exists()
    with pytest.raises(SystemExit, match=r"--init-from .*missing: no model.safetensors there"):
        cli.main(["train", "--init-from", str(tmp_path / "missing")])


@pytest.mark.parametrize("dataset, name, download", [
    ("mnist", "MNIST", "download_mnist"),
    ("fashion-mnist", "Fashion-MNIST", "download_fashion_mnist"),
    ("cifar10", "CIFAR-10", "download_cifar10"),
])
def test_missing_data_is_a_one_line_message_saying_how_to_get_it(tmp_path, dataset, name,
                                                                 download):
    run, missing, empty = tmp_path / "run", tmp_path / "missing", tmp_path / "empty"
    empty.mkdir()
    command = rf"python3 -c \"from chainrule.data.datasets import {download}; {download}"
    cases = [
        ([], rf"--dataset {dataset} reads the {name} files from --data-dir DIR; download it "
             rf"with {command}\('DIR'\)\""),
        (["--data-dir", str(missing)], rf"--data-dir {missing}: no such directory; download it "
                                       rf"with {command}\('{missing}'\)\""),
        (["--data-dir", str(empty)], rf"--data-dir {empty}: no {name} data there \(missing "
                                     rf"[-\w.]+(, [-\w.]+)*\); download it with "
                                     rf"{command}\('{empty}'\)\""),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "--dataset", dataset, *argv, "--out", str(run)])
        assert re.match(f"chainrule train: {message}", str(exit_info.value)), str(exit_info.value)
        assert "\n" not in str(exit_info.value)
        assert not run.exists() and not missing.exists()


def test_mnist1d_without_its_package_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(SystemExit, match=r"^chainrule train: --dataset mnist1d needs the "
                                         r"optional package mnist1d: pip install "
                                         r"\"chainrule\[data\]\""):
        cli.main(["train", "--dataset", "mnist1d", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"the MNIST files are not in {MNIST}")
def test_mnist_is_read_from_data_dir_and_tested_on_its_official_test_set(tmp_path, capsys):
    out = _train(capsys, *CNN, "--dataset", "mnist", "--data-dir", str(MNIST), "--classes",
                 "0,1", "--train-subset", "512", "--epochs", "1", "--out", str(tmp_path))
    # 12,665 training images of 0 and 1 (10% for validation), the official 980 + 1,135 test
    assert ("mnist (classes 0-1; a stratified subset for training): 512 train / 1267 "
            "validation / 2115 test samples") in out
    assert LAST.fullmatch(out.strip().splitlines()[-1])
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["config"]["data_dir"] == str(MNIST)
    assert record["test"]["accuracy"] > 0.95  # 16 batches suffice to tell 0 from 1
    assert cr.load(tmp_path / "best.safetensors")["0.weight"].shape == (4, 1, 3, 3)


@pytest.mark.parametrize("model", recipes.MODELS)
@pytest.mark.parametrize("dataset", list(recipes.DATASETS))
def test_summary_of_every_model_for_every_dataset_reads_no_data(model, dataset, capsys,
                                                               monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("summary read data")

    monkeypatch.setattr(recipes, "load_dataset", no_data)
    assert cli.main(["summary", "--model", model, "--dataset", dataset]) == 0
    out = capsys.readouterr().out
    info = recipes.DATASETS[dataset]
    assert out.startswith(f"{model} --") and f"for {dataset}: input {info.shape}" in out
    assert f"Total params: {recipes.parameter_count(model, dataset):,}" in out
    rows = [line for line in out.splitlines() if "[-1," in line]
    assert rows[-1].split()[1:3] == ["(Linear)", "[-1,"] and "10]" in rows[-1]
    if model != "mlp":  # the first layer is a convolution over the input's shape
        conv = "Conv1d" if len(info.shape) == 2 else "Conv2d"
        first = recipes.MODEL_DEFAULTS[model]["channels"][0]
        assert rows[0].split()[1] == f"({conv})"
        assert f"[-1, {first}, {', '.join(map(str, info.shape[1:]))}]" in rows[0]


def test_summary_takes_the_sizes_and_refuses_ones_the_model_lacks(capsys):
    assert cli.main(["summary", "--model", "resnet", "--dataset", "mnist1d", "--channels", "4,8",
                     "--depth", "1"]) == 0
    out = capsys.readouterr().out
    count = recipes.parameter_count("resnet", "mnist1d", channels=[4, 8], depth=1)
    assert f"Total params: {count:,}" in out
    with pytest.raises(SystemExit, match="^chainrule summary: --hidden sizes the mlp and the cnn"):
        cli.main(["summary", "--model", "resnet", "--hidden", "8"])


def test_a_run_of_an_older_chainrule_without_the_new_settings_resumes(tmp_path, capsys):
    _train(capsys, "--epochs", "1", "--out", str(tmp_path), *SMALL)
    extra = io.checkpoint_extra(tmp_path / "model.safetensors")
    old = {k: v for k, v in extra["config"].items() if k not in cli.OLDER_RUNS}
    model = build_model("mlp", "digits", [32], 0.2)
    opt = build_optimizer("adam", model.parameters(), 1e-3, 0.0)
    sched = build_scheduler("plateau", opt, 2, 20)
    io.load_checkpoint(tmp_path / "model.safetensors", model, opt, sched)
    io.save_checkpoint(tmp_path / "model.safetensors", model, opt, sched,
                       extra={**extra, "config": old})
    out = _train(capsys, "--resume", str(tmp_path), "--epochs", "2")
    assert LAST.fullmatch(out.strip().splitlines()[-1])
    assert json.loads((tmp_path / "history.json").read_text())["config"]["freeze"] == "none"
