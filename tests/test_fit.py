"""fit / evaluate / predict / resume and History."""

import io
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import metrics as M
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.models import mlp
from chainrule.train import History, ModelCheckpoint, evaluate, fit, predict, resume

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
    history = fit(model, F.cross_entropy, opt, train, val, epochs=4, progress=False)
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
        history = fit(model, F.cross_entropy, opt, train, val, epochs=3, progress=False)
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
    fit(recorder, F.cross_entropy, opt, train, val, epochs=1, progress=False)
    assert recorder.calls == [(True, True)] * len(train) + [(False, False)] * len(val)
    assert recorder.training  # back in training mode afterwards


def test_plateau_scheduler_steps_with_val_loss_and_others_per_epoch():
    def plateau(opt):
        return optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.9)

    model, opt, sched, train, val = _setup(scheduler=plateau)
    history = fit(model, F.cross_entropy, opt, train, val, epochs=4, scheduler=sched,
                  progress=False)
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
                  progress=False)
    np.testing.assert_allclose(history["lr"], [0.02, 0.002, 0.0002], rtol=1e-12)


def test_f1_metric_and_no_val_loader():
    model, opt, _, train, _ = _setup()
    history = fit(model, F.cross_entropy, opt, train, epochs=2, metrics=("accuracy", "f1_macro"),
                  progress=False)
    assert list(history.epochs[0]) == ["epoch", "train_loss", "train_accuracy", "train_f1_macro",
                                       "lr", "seconds"]
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        fit(model, F.cross_entropy, opt, train, epochs=1, metrics=("auc",), progress=False)


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
    full = fit(model, F.cross_entropy, opt, train, val, epochs=5, scheduler=sched, progress=False)

    path = tmp_path / "ckpt.safetensors"
    part, opt2, sched2, train2, val2 = _setup(seed=5, dropout=0.3, scheduler=plateau)
    fit(part, F.cross_entropy, opt2, train2, val2, epochs=2, scheduler=sched2,
        callbacks=[ModelCheckpoint(path, save_best_only=False)], progress=False)

    resumed, opt3, sched3, train3, val3 = _setup(seed=77, dropout=0.3, scheduler=plateau)
    checkpoint = ModelCheckpoint(path, save_best_only=False)
    history, stopped = resume(path, resumed, opt3, sched3, train3, [checkpoint])
    assert len(history) == 2 and not stopped
    history = fit(resumed, F.cross_entropy, opt3, train3, val3, epochs=5, scheduler=sched3,
                  callbacks=[checkpoint], progress=False, history=history)
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
        fit(model, F.cross_entropy, opt, [cr.tensor(x)], epochs=1, progress=False)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal_and_when_asked(monkeypatch):
    for progress, terminal, shown in ((True, True, True), (False, True, False),
                                      (True, False, False)):
        model, opt, _, train, val = _setup()
        stream = _Terminal() if terminal else io.StringIO()
        monkeypatch.setattr(sys, "stdout", stream)
        fit(model, F.cross_entropy, opt, train, val, epochs=2, progress=progress)
        assert ("epoch 2/2" in stream.getvalue()) == shown
        assert ("/4 [" in stream.getvalue()) == shown  # 60 samples in batches of 16


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
