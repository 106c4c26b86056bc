"""fit / evaluate / predict / resume and History."""

import io
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics as M
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.models import mlp
from chainrule.train import (
    History,
    ModelCheckpoint,
    NonFiniteLossError,
    TerminateOnNaN,
    evaluate,
    fit,
    predict,
    resume,
)

F = nn.functional


def _blobs(n, seed):
    """Three Gaussian blobs in 16-D, shaped (n, 1, 4, 4)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.random.default_rng(100).standard_normal((3, 16))
    x = centres[y] + 0.8 * rng.standard_normal((n, 16))
    return x.reshape(n, 1, 4, 4).astype(np.float32), y


def _setup(seed=0, dropout=0.0, scheduler=None):
    cr.manual_seed(seed)
    model = mlp(16, hidden=(12,), num_classes=3, dropout=dropout)
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = None if scheduler is None else scheduler(opt)
    train = DataLoader(TensorDataset(*_blobs(60, 1)), batch_size=16, shuffle=True, seed=seed)
    val = DataLoader(TensorDataset(*_blobs(30, 2)), batch_size=16)
    return model, opt, sched, train, val


def _without_seconds(history):
    return [{k: v for k, v in e.items() if k != "seconds"} for e in history.epochs]


def test_history_records_losses_metrics_lr_per_epoch():
    model, opt, _, train, val = _setup()
    history = fit(model, F.cross_entropy, opt, train, val, epochs=4, verbose=0)
    assert len(history) == 4
    assert list(history.epochs[0]) == ["epoch", "train_loss", "train_accuracy", "val_loss",
                                       "val_accuracy", "lr", "seconds"]
    assert history["epoch"] == [1, 2, 3, 4] and history["lr"] == [0.02] * 4
    assert history["train_loss"][-1] < history["train_loss"][0]
    # the last epoch's validation logs are those of the final model
    final = evaluate(model, val, F.cross_entropy, metrics=("accuracy",))
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert final["accuracy"] == history["val_accuracy"][-1]
    x, y = _blobs(30, 2)
    with cr.no_grad():
        logits = model(cr.tensor(x))
    expected_loss = F.cross_entropy(logits.double(), cr.tensor(y)).item()
    assert final["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert final["accuracy"] == M.accuracy(y, logits.data.argmax(1))
    assert final["accuracy"] > 0.8  # the blobs are separable
    assert history.best()["val_loss"] == min(history["val_loss"])


def test_same_seed_gives_identical_history_and_weights():
    runs = []
    for _ in range(2):
        model, opt, _, train, val = _setup(seed=3, dropout=0.3)
        history = fit(model, F.cross_entropy, opt, train, val, epochs=3, verbose=0)
        runs.append((_without_seconds(history), model.state_dict()))
    assert runs[0][0] == runs[1][0]
    for key, value in runs[0][1].items():
        np.testing.assert_array_equal(runs[1][1][key], value)


class _Recorder(nn.Module):
    """Wraps a model and records (training, grad enabled) at each call."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, cr.is_grad_enabled()))
        return self.inner(x)


def test_train_mode_for_training_eval_mode_and_no_grad_for_validation():
    model, opt, _, train, val = _setup()
    recorder = _Recorder(model)
    fit(recorder, F.cross_entropy, opt, train, val, epochs=1, verbose=0)
    assert recorder.calls == [(True, True)] * len(train) + [(False, False)] * len(val)
    assert recorder.training  # back in training mode afterwards


def test_plateau_scheduler_steps_with_val_loss_and_others_per_epoch():
    def plateau(opt):
        return optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.9)

    model, opt, sched, train, val = _setup(scheduler=plateau)
    history = fit(model, F.cross_entropy, opt, train, val, epochs=4, scheduler=sched,
                  verbose=0)
    expected, best, lr = [], float("inf"), 0.02
    for v in history["val_loss"]:  # rel threshold 0.9: improving means a 10x lower loss
        expected.append(lr)
        if v < best * (1 - 0.9):
            best = v
        else:
            lr *= 0.5
    assert history["lr"] == expected and expected != [0.02] * 4

    def step(opt):
        return optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)

    model, opt, sched, train, val = _setup(scheduler=step)
    history = fit(model, F.cross_entropy, opt, train, val, epochs=3, scheduler=sched,
                  verbose=0)
    np.testing.assert_allclose(history["lr"], [0.02, 0.002, 0.0002], rtol=1e-12)


def test_f1_metric_and_no_val_loader():
    model, opt, _, train, _ = _setup()
    history = fit(model, F.cross_entropy, opt, train, epochs=2, metrics=("accuracy", "f1_macro"),
                  verbose=0)
    assert list(history.epochs[0]) == ["epoch", "train_loss", "train_accuracy", "train_f1_macro",
                                       "lr", "seconds"]
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        fit(model, F.cross_entropy, opt, train, epochs=1, metrics=("auc",), verbose=0)


def test_predict_matches_model_outputs_in_eval_mode():
    model, _, _, _, val = _setup(dropout=0.5)
    x, _ = _blobs(30, 2)
    got = predict(model, x, batch_size=7)
    model.eval()
    expected = model(cr.tensor(x)).data
    model.train()
    # BLAS kernels depend on the batch size, so batches of 7 or 16 vs 30 may differ in the last bit
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(predict(model, val), expected, rtol=1e-6, atol=1e-7)
    assert model.training


def test_resume_continues_exactly(tmp_path):
    def plateau(opt):
        return optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)

    model, opt, sched, train, val = _setup(seed=5, dropout=0.3, scheduler=plateau)
    full = fit(model, F.cross_entropy, opt, train, val, epochs=5, scheduler=sched, verbose=0)

    path = tmp_path / "ckpt.safetensors"
    part, opt2, sched2, train2, val2 = _setup(seed=5, dropout=0.3, scheduler=plateau)
    fit(part, F.cross_entropy, opt2, train2, val2, epochs=2, scheduler=sched2,
        callbacks=[ModelCheckpoint(path, save_best_only=False)], verbose=0)

    resumed, opt3, sched3, train3, val3 = _setup(seed=77, dropout=0.3, scheduler=plateau)
    checkpoint = ModelCheckpoint(path, save_best_only=False)
    history, stopped = resume(path, resumed, opt3, sched3, train3, [checkpoint])
    assert len(history) == 2 and not stopped
    history = fit(resumed, F.cross_entropy, opt3, train3, val3, epochs=5, scheduler=sched3,
                  callbacks=[checkpoint], verbose=0, history=history)
    assert _without_seconds(history) == _without_seconds(full)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value)


def test_history_json_round_trip():
    history = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}])
    again = History.from_json(history.to_json())
    assert again.epochs == history.epochs and again["train_loss"] == [0.5, 0.25]
    with pytest.raises(KeyError, match="val_loss"):
        history["val_loss"]


def test_loader_must_yield_pairs():
    model, opt, _, _, _ = _setup()
    x, _ = _blobs(8, 0)
    with pytest.raises(TypeError, match="fit: the loader must yield"):
        fit(model, F.cross_entropy, opt, [cr.tensor(x)], epochs=1, verbose=0)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _lines(text):
    return [line for line in text.splitlines() if line.startswith("epoch ")]


def test_fit_prints_one_line_per_epoch_by_default_and_a_bar_on_a_terminal(monkeypatch):
    # verbose="auto": 2 (lines only) when stdout is not a terminal, 1 (bar + lines) on one
    for verbose, progress, terminal, lines, bar in (
            ("auto", None, False, True, False), ("auto", None, True, True, True),
            ("auto", False, True, True, False), (2, None, True, True, False),
            (1, None, False, True, True), (0, None, True, False, False)):
        model, opt, _, train, val = _setup()
        stream = _Terminal() if terminal else io.StringIO()
        monkeypatch.setattr(sys, "stdout", stream)
        fit(model, F.cross_entropy, opt, train, val, epochs=2, verbose=verbose,
            progress=progress)
        text = stream.getvalue()
        expected = ([f"epoch {e}/2  train_loss " for e in (1, 2)] if lines else [])
        got = [line[:len("epoch 1/2  train_loss ")] for line in _lines(text.replace("\r", "\n"))
               if "train_loss" in line]
        assert got == expected, (verbose, progress, terminal, text)
        assert ("/4 [" in text) == bar, (verbose, progress, terminal)  # 60 samples, batch 16
    with pytest.raises(ValueError, match="verbose must be 0"):
        fit(model, F.cross_entropy, opt, train, epochs=1, verbose=3)


def test_auto_verbosity_shows_the_bar_in_jupyter(monkeypatch):
    class ZMQInteractiveShell:  # the shell class of a Jupyter kernel
        pass

    fake = type(sys)("IPython")
    fake.get_ipython = ZMQInteractiveShell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    made = []

    class Bar:  # stands in for tqdm.auto.tqdm, which draws a widget in Jupyter
        def __init__(self, iterable, **kwargs):
            made.append(kwargs["desc"])
            self.iterable = iterable

        def __iter__(self):
            return iter(self.iterable)

        def set_postfix(self, **kwargs):
            pass

        def close(self):
            pass

    auto = type(sys)("tqdm.auto")
    auto.tqdm = Bar
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a terminal
    model, opt, _, train, val = _setup()
    fit(model, F.cross_entropy, opt, train, val, epochs=2)
    assert made == ["epoch 1/2", "epoch 2/2"]


class _NaNAt:
    """Cross-entropy, but nan at the n-th training call."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self, output, target):
        loss = F.cross_entropy(output, target)
        if cr.is_grad_enabled():
            self.calls += 1
            if self.calls == self.n:
                return loss * float("nan")
        return loss


def test_a_non_finite_loss_raises_naming_epoch_and_batch_before_the_step():
    model, opt, _, train, val = _setup()
    snapshots = []

    class Snap(cr.train.Callback):
        def on_epoch_end(self, epoch, logs):
            snapshots.append({k: v.copy() for k, v in model.state_dict().items()})

    loss = _NaNAt(2 * len(train) + 3)  # epoch 3, batch 3
    with pytest.raises(NonFiniteLossError, match=r"fit: the training loss is nan at epoch 3, "
                                                 r"batch 3 of 4 \(lr 0.02\).*smaller learning "
                                                 r"rate") as info:
        fit(model, loss, opt, train, val, epochs=5, callbacks=[Snap()], verbose=0)
    error = info.value
    assert (error.epoch, error.batch, error.batches, error.lr) == (3, 3, 4, 0.02)
    assert np.isnan(error.loss) and isinstance(error, FloatingPointError)
    assert len(snapshots) == 2
    # the weights are those after batch 2 of epoch 3: finite, and past epoch 2's
    assert all(np.isfinite(v).all() for v in model.state_dict().values())
    assert not np.array_equal(model.state_dict()["1.weight"], snapshots[-1]["1.weight"])


def test_on_nonfinite_stop_or_terminate_on_nan_only_stops(capsys):
    class End(cr.train.Callback):
        def __init__(self):
            self.ended = 0

        def on_train_end(self):
            self.ended += 1

    for kwargs in ({"on_nonfinite": "stop"}, {"callbacks": [TerminateOnNaN()]}):
        model, opt, _, train, val = _setup()
        end = End()
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), end]
        history = fit(model, _NaNAt(len(train) + 2), opt, train, val, epochs=4, verbose=2,
                      **kwargs)
        assert len(history) == 1 and end.ended == 1  # the unfinished epoch 2 is not recorded
        assert isinstance(history.nonfinite, NonFiniteLossError)
        assert (history.nonfinite.epoch, history.nonfinite.batch) == (2, 2)
        out = capsys.readouterr().out
        assert "stopped: fit: the training loss is nan at epoch 2, batch 2 of 4" in out
    with pytest.raises(ValueError, match="on_nonfinite"):
        fit(model, F.cross_entropy, opt, train, epochs=1, on_nonfinite="ignore")


def test_divergence_prints_no_numpy_warnings():
    cr.manual_seed(0)
    model = mlp(16, hidden=(64,), num_classes=3)
    opt = optim.SGD(model.parameters(), lr=1e6)  # overflows within a few batches
    train = DataLoader(TensorDataset(*_blobs(64, 1)), batch_size=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(NonFiniteLossError, match="at epoch 1, batch"):
            fit(model, F.cross_entropy, opt, train, epochs=3, verbose=0)
    assert [str(w.message) for w in caught] == []


def test_a_non_finite_validation_loss_is_divergence_too():
    model, opt, _, train, val = _setup()

    def loss(output, target):
        value = F.cross_entropy(output, target)
        return value if cr.is_grad_enabled() else value * float("inf")

    with pytest.raises(NonFiniteLossError, match="the validation loss is inf after epoch 1"):
        fit(model, loss, opt, train, val, epochs=2, verbose=0)


def test_plots_are_pngs_and_check_their_input(tmp_path):
    from chainrule.train.plots import plot_confusion_matrix, plot_learning_curves

    logs = [{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 1 / (e + 1),
             "val_loss": 1 / e + (e - 3) ** 2 / 10, "val_accuracy": 0.5} for e in range(1, 6)]
    plot_learning_curves(History(logs), tmp_path / "curves.png")
    plot_learning_curves([{"epoch": 1, "train_loss": 0.5}], tmp_path / "train_only.png")
    plot_confusion_matrix([[5, 1], [0, 4]], tmp_path / "cm.png", labels=["a", "b"],
                          normalize=True)
    for name in ("curves.png", "train_only.png", "cm.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="no epochs"):
        plot_learning_curves(History(), tmp_path / "x.png")


def test_resume_with_a_loader_state_that_does_not_fit_leaves_the_model_unchanged(tmp_path):
    from chainrule import io

    cr.manual_seed(0)
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "ck.safetensors"
    io.save_checkpoint(path, model, opt, extra={"train_loader": {"nonsense": 1}, "history": []})
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with cr.no_grad():
        model.weight.add_(1.0)  # differs from the checkpoint now
    changed = {k: v.copy() for k, v in model.state_dict().items()}
    loader = DataLoader(TensorDataset(np.zeros((4, 2), np.float32), np.zeros(4)), batch_size=2,
                        shuffle=True, seed=0)
    with pytest.raises((ValueError, KeyError, TypeError)):
        resume(path, model, opt, train_loader=loader)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, changed[key])
    assert not np.array_equal(changed["weight"], before["weight"])
