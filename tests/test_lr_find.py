"""lr_find: the sweep (schedule, smoothing, early stop, suggestion), the exact restoration
of model, optimizer, random state and loader, and a suggestion that trains."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule import random as cr_random
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.datasets import load_digits
from chainrule.train import fit
from chainrule.train.lr_find import lr_find


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits()
    return (x.reshape(len(x), -1) / 16).astype(np.float32), y


def _model(seed: int = 0) -> nn.Module:
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(32, 10))


def _setup(digits: Any) -> tuple[nn.Module, optim.Optimizer, DataLoader]:
    """A model with BatchNorm and Dropout, and an Adam that has already taken 5 steps
    (non-zero moments, running statistics away from 0 and 1, gradients present)."""
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    warm_up = DataLoader(TensorDataset(*digits), batch_size=32, shuffle=True, seed=1)
    for _, (x, y) in zip(range(5), warm_up):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()  # a mode lr_find must give back
    loader = DataLoader(TensorDataset(*digits), batch_size=32, shuffle=True, seed=0)
    for _ in loader:  # one whole epoch: the loader's generator has moved on
        pass
    return model, opt, loader


def _state(model: nn.Module, opt: optim.Optimizer, loader: DataLoader) -> dict[str, Any]:
    return {
        "tensors": {k: v.copy() for k, v in model.state_dict().items()},
        "grads": [p.grad.numpy().copy() for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "optimizer": opt.state_dict(),
        "rng": cr_random.get_rng_state(),
        "loader": loader.state_dict(),
    }


def _assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal bit for bit: arrays by bytes and dtype, containers item by item."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(map(str, a)) == sorted(map(str, b)), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b and type(a) is type(b), f"{where}: {a!r} != {b!r}"


def test_everything_is_restored_bit_for_bit(digits: Any) -> None:
    model, opt, loader = _setup(digits)
    before = _state(model, opt, loader)
    assert before["optimizer"]["state"][0]["step"] == 5
    result = lr_find(model, F.cross_entropy, opt, loader)
    assert len(result.lrs) > 20  # the sweep did train
    _assert_same(_state(model, opt, loader), before)


def test_training_after_lr_find_is_the_training_without_it(digits: Any) -> None:
    """The strongest form of 'restored': one more epoch of fit gives identical weights."""
    runs = []
    for sweep in (False, True):
        model, opt, loader = _setup(digits)
        if sweep:
            lr_find(model, F.cross_entropy, opt, loader, num_iter=30)
        fit(model, F.cross_entropy, opt, loader, epochs=1, verbose=0)
        runs.append({k: v.copy() for k, v in model.state_dict().items()})
    _assert_same(runs[1], runs[0])


def test_restored_even_when_the_loss_function_fails(digits: Any) -> None:
    model, opt, loader = _setup(digits)
    before = _state(model, opt, loader)
    calls = []

    def failing(out: Any, y: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return F.cross_entropy(out, y)

    with pytest.raises(RuntimeError, match="boom"):
        lr_find(model, failing, opt, loader)
    _assert_same(_state(model, opt, loader), before)


def test_a_loader_in_the_middle_of_an_epoch_is_refused(digits: Any) -> None:
    model, opt, loader = _setup(digits)
    for _ in zip(range(3), loader):
        pass
    before = _state(model, opt, loader)
    with pytest.raises(ValueError, match=r"in the middle of an epoch \(3 batches done\)"):
        lr_find(model, F.cross_entropy, opt, loader)
    _assert_same(_state(model, opt, loader), before)


def test_schedule_smoothing_and_suggestion(digits: Any) -> None:
    model, opt, loader = _setup(digits)
    result = lr_find(model, F.cross_entropy, opt, loader, start_lr=1e-5, end_lr=1.0,
                     num_iter=41, smooth=0.9, diverge=1e9)
    assert not result.stopped_early and len(result.lrs) == 41
    np.testing.assert_allclose(result.lrs, 1e-5 * 10 ** (np.arange(41) / 8), rtol=1e-12)
    avg, smoothed = 0.0, []
    for i, loss in enumerate(result.raw_losses):  # fastai's bias-corrected average, by hand
        avg = 0.9 * avg + 0.1 * loss
        smoothed.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.losses, smoothed, rtol=1e-12)
    assert result.losses[0] == result.raw_losses[0]
    best = int(np.argmin(result.losses))
    assert result.best_lr == result.lrs[best]
    assert result.suggestion == max(result.best_lr / 10, result.lrs[0])
    assert result.lrs[0] <= result.suggestion <= result.lrs[-1]


def test_stops_when_the_loss_diverges(digits: Any) -> None:
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(TensorDataset(*digits), batch_size=16, shuffle=True, seed=1)
    result = lr_find(model, F.cross_entropy, opt, loader, start_lr=1e-4, end_lr=1e4)
    assert result.stopped_early and len(result.lrs) < len(loader)
    if np.isfinite(result.raw_losses[-1]):  # stopped by the rule, after recording the batch
        assert result.losses[-1] > 4 * result.losses[:-1].min()
    assert result.lrs[0] <= result.suggestion <= result.lrs[-1]
    assert opt.param_groups[0]["lr"] == 0.1


def test_the_suggestion_trains(digits: Any) -> None:
    """Two epochs at the suggested lr cut the loss far more than at the sweep's start."""
    model, opt, loader = _setup(digits)
    result = lr_find(model, F.cross_entropy, opt, loader)
    assert 1e-3 < result.suggestion < 1.0
    finals = {}
    for lr in (result.suggestion, 1e-6):
        model = _model()
        history = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=lr),
                      DataLoader(TensorDataset(*digits), batch_size=32, shuffle=True, seed=0),
                      epochs=2, verbose=0)
        finals[lr] = history.epochs[-1]
    assert finals[result.suggestion]["train_accuracy"] > 0.85
    assert finals[result.suggestion]["train_loss"] < 0.3 * finals[1e-6]["train_loss"]


def test_plot_is_a_png(digits: Any, tmp_path: Any) -> None:
    model, opt, loader = _setup(digits)
    result = lr_find(model, F.cross_entropy, opt, loader, num_iter=20)
    fig = result.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), result.losses)
    assert ax.lines[2].get_xdata()[0] == result.suggestion


@pytest.mark.parametrize("options, message", [
    ({"start_lr": 0}, "start_lr must be a number > 0, got 0"),
    ({"end_lr": 1e-8}, "end_lr must be a number > start_lr=1e-07, got 1e-08"),
    ({"smooth": 1.0}, r"smooth must be in \[0, 1\), got 1.0"),
    ({"diverge": 1}, "diverge must be a number > 1, got 1"),
    ({"num_iter": 1}, "num_iter must be an int >= 2, got 1"),
    ({"num_iter": 1000}, r"num_iter=1000 is more than one epoch of the loader \(57 batches\)"),
])
def test_bad_arguments(digits: Any, options: dict[str, Any], message: str) -> None:
    model, opt, loader = _setup(digits)
    with pytest.raises(ValueError, match=message):
        lr_find(model, F.cross_entropy, opt, loader, **options)
