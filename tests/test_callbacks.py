"""EarlyStopping, ModelCheckpoint and PrintLogs, driven by fit on scripted losses."""

import io as stdio

import numpy as np
import pytest

import chainrule as cr
from chainrule import io, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.models import mlp
from chainrule.train import Callback, EarlyStopping, ModelCheckpoint, PrintLogs, fit

F = cr.nn.functional


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return TensorDataset(x, y)


class _ScriptedValLoss:
    """Real cross-entropy for training; the scripted value per epoch for validation."""

    def __init__(self, values):
        self.values, self.epoch = list(values), 0

    def __call__(self, output, target):
        if cr.is_grad_enabled():
            return F.cross_entropy(output, target)
        value = self.values[self.epoch]
        self.epoch += 1  # the validation loader holds exactly one batch
        return cr.tensor(np.array(value))  # float64: the logged value is exact


class _Snapshots(Callback):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, epoch, logs):
        self.weights[epoch] = {k: v.copy() for k, v in self.context["model"].state_dict().items()}


def _run(values, callbacks, epochs=None):
    cr.manual_seed(0)
    model = mlp(16, hidden=(8,), num_classes=3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(_data(), batch_size=16, shuffle=True, seed=0)
    val = DataLoader(_data(8, seed=1), batch_size=8)
    history = fit(model, _ScriptedValLoss(values), opt, loader, val, epochs=epochs or len(values),
                  callbacks=callbacks, verbose=0)
    return model, history


def test_early_stopping_stops_at_the_right_epoch_and_restores_best_weights():
    values = [1.0, 0.8, 0.9, 0.85, 0.81, 0.5, 0.4]
    snaps = _Snapshots()
    stopper = EarlyStopping(patience=3, restore_best_weights=True)
    model, history = _run(values, [snaps, stopper])
    # best 0.8 at epoch 2; epochs 3, 4, 5 do not improve -> stop after epoch 5
    assert len(history) == 5 and history["val_loss"] == values[:5]
    assert stopper.stopped_epoch == 5 and stopper.best_epoch == 2 and stopper.best == 0.8
    assert not np.array_equal(snaps.weights[5]["1.weight"], snaps.weights[2]["1.weight"])
    for key, value in snaps.weights[2].items():
        np.testing.assert_array_equal(model.state_dict()[key], value)


def test_early_stopping_without_restore_keeps_last_weights_and_honours_min_delta():
    values = [1.0, 0.96, 0.97, 0.90, 0.2]
    snaps = _Snapshots()
    stopper = EarlyStopping(patience=2, min_delta=0.05)
    model, history = _run(values, [snaps, stopper])
    # 0.96 and 0.97 do not beat 1.0 - min_delta = 0.95 -> stop after epoch 3
    assert len(history) == 3 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.state_dict()["1.weight"], snaps.weights[3]["1.weight"])


def test_early_stopping_mode_max_on_a_metric():
    stopper = EarlyStopping(monitor="acc", mode="max", patience=1)
    stopper.set_context(model=None)
    for epoch, acc in enumerate([0.5, 0.7, 0.6], start=1):
        stopper.on_epoch_end(epoch, {"acc": acc})
    assert stopper.stop_training and stopper.best == 0.7 and stopper.best_epoch == 2


def test_early_stopping_state_round_trip():
    stopper = EarlyStopping(patience=4)
    stopper.set_context(model=None)
    for epoch, v in enumerate([3.0, 2.0, 2.5], start=1):
        stopper.on_epoch_end(epoch, {"val_loss": v})
    other = EarlyStopping(patience=4)
    other.load_state_dict(stopper.state_dict())
    assert (other.best, other.best_epoch, other.wait) == (2.0, 2, 1)


def test_bad_arguments_and_missing_monitor():
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    stopper = EarlyStopping()
    stopper.set_context(model=None)
    with pytest.raises(KeyError, match="val_loss.*not in the epoch logs"):
        stopper.on_epoch_end(1, {"train_loss": 1.0})


def test_model_checkpoint_saves_only_improvements(tmp_path):
    path = tmp_path / "best.safetensors"
    snaps = _Snapshots()
    _run([1.0, 0.7, 0.9, 0.6, 0.8], [snaps, ModelCheckpoint(path)])
    extra = io.checkpoint_extra(path)
    assert extra["epoch"] == 4 and len(extra["history"]) == 4
    for key, value in snaps.weights[4].items():
        np.testing.assert_array_equal(cr.load(path)[key], value)


def test_model_checkpoint_every_epoch_records_callbacks_and_stop(tmp_path):
    path = tmp_path / "last.safetensors"
    stopper = EarlyStopping(patience=1)
    _run([1.0, 0.7, 0.9, 0.6], [stopper, ModelCheckpoint(path, save_best_only=False,
                                                         extra={"note": "x"})])
    extra = io.checkpoint_extra(path)
    assert extra["epoch"] == 3 and extra["stopped"] is True and extra["note"] == "x"
    assert extra["callbacks"]["EarlyStopping"]["best_epoch"] == 2


def test_print_logs_format():
    out = stdio.StringIO()
    printer = PrintLogs(file=out)
    printer.set_context(epochs=12)
    printer.on_epoch_end(3, {"epoch": 3, "train_loss": 0.123456, "val_accuracy": 0.5,
                             "lr": 0.001, "seconds": 0.42})
    assert out.getvalue() == "epoch  3/12  train_loss 0.1235  val_accuracy 0.5000  lr 0.001  0.4s\n"


def test_model_checkpoint_weights_only_is_a_plain_file_naming_its_epoch(tmp_path):
    path = tmp_path / "best.safetensors"
    snaps = _Snapshots()
    checkpoint = ModelCheckpoint(path, save_weights_only=True)
    _run([1.0, 0.7, 0.9, 0.6, 0.8], [snaps, checkpoint])
    assert checkpoint.saved_epoch == 4
    assert io.load_metadata(path) == {"epoch": "4", "monitor": "val_loss", "value": "0.6"}
    weights = cr.load(path)
    assert weights.keys() == snaps.weights[4].keys()  # no optimizer or random state
    for key, value in snaps.weights[4].items():
        np.testing.assert_array_equal(weights[key], value)


def test_model_checkpoint_best_only_compares_with_the_whole_history(tmp_path):
    """A resumed run whose callback state lacks the best value (a checkpoint of an older
    chainrule) still saves only improvements on the epochs before the resume."""
    from chainrule.train import History

    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, save_weights_only=True)
    model = cr.nn.Linear(2, 2)
    history = History([{"epoch": 1, "val_loss": 0.5}])
    checkpoint.set_context(model=model, history=history)
    history.append({"epoch": 2, "val_loss": 0.7})
    checkpoint.on_epoch_end(2, history.epochs[-1])
    assert not path.exists() and checkpoint.saved_epoch == 0
    history.append({"epoch": 3, "val_loss": 0.4})
    checkpoint.on_epoch_end(3, history.epochs[-1])
    assert io.load_metadata(path)["epoch"] == "3" and checkpoint.best == 0.4
