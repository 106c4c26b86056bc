"""Learning-rate schedulers against torch.optim.lr_scheduler: 100-step lr sequences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

STEPS = 100
LRS = (0.1, 0.03)


def _optimizers() -> tuple[optim.Optimizer, torch.optim.Optimizer]:
    """Two param groups with different rates, in both frameworks."""
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    ta, tb = torch.tensor([1.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": LRS[0]}, {"params": [b], "lr": LRS[1]}], lr=1.0)
    topt = torch.optim.SGD([{"params": [ta], "lr": LRS[0]}, {"params": [tb], "lr": LRS[1]}],
                           lr=1.0)
    return opt, topt


CASES: list[tuple[str, dict[str, Any]]] = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=15, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[10, 25, 25, 60], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=30)),
    ("CosineAnnealingLR", dict(T_max=100, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=17, eta_min=0.005)),
    ("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (1 + 0.1 * t))),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.5, total_iters=40)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=80)),
]


def _lr_sequences(name: str, options: dict[str, Any]) -> tuple[list, list]:
    opt, topt = _optimizers()
    sched = getattr(lr_scheduler, name)(opt, **options)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **options)
    mine, theirs = [sched.get_last_lr()], [tsched.get_last_lr()]
    for _ in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        mine.append(sched.get_last_lr())
        theirs.append(tsched.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == mine[-1]
    return mine, theirs


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_lr_sequence_matches_torch(name: str, options: dict[str, Any]) -> None:
    mine, theirs = _lr_sequences(name, options)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)
    assert len({round(lr[0], 15) for lr in mine}) > 1  # the schedule did change the rate


def test_cosine_recursive_form_differs_from_closed_form_only_by_rounding() -> None:
    mine, _ = _lr_sequences("CosineAnnealingLR", dict(T_max=30, eta_min=0.001))
    closed = [0.001 + (LRS[0] - 0.001) * (1 + math.cos(math.pi * t / 30)) / 2
              for t in range(STEPS + 1)]
    np.testing.assert_allclose([lr[0] for lr in mine], closed, rtol=1e-9)
    assert mine[30][0] == pytest.approx(0.001)  # the minimum at T_max
    assert mine[60][0] == pytest.approx(LRS[0])  # and back up after 2 T_max


def test_initial_lr_and_base_lrs() -> None:
    opt, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=3)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.base_lrs == list(LRS)
    assert sched.last_epoch == 0
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizers()[0], step_size=3, last_epoch=5)


def test_step_lr_closed_form() -> None:
    opt, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=15, gamma=0.1)
    for epoch in range(45):
        assert sched.get_last_lr()[0] == pytest.approx(0.1 * 0.1 ** (epoch // 15))
        sched.step()


PLATEAU = [1.0, 0.8, 0.6, 0.5] + [0.5, 0.5001, 0.4999, 0.5] * 5 + [0.3, 0.2] + [0.2] * 15 + [
    0.19999, 0.1] + [0.1 + 0.001 * math.sin(i) for i in range(60)]
PLATEAU_CASES: list[dict[str, Any]] = [
    dict(),
    dict(patience=3),
    dict(patience=2, factor=0.5, cooldown=3),
    dict(patience=1, factor=0.5, min_lr=[0.01, 0.02]),
    dict(patience=2, threshold=0.01, threshold_mode="abs"),
    dict(patience=0, factor=0.9, min_lr=0.02, eps=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU_CASES, ids=[str(o) for o in PLATEAU_CASES])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_on_plateau_matches_torch(options: dict[str, Any], mode: str) -> None:
    opt, topt = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode=mode, **options)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, mode=mode, **options)
    sign = 1 if mode == "min" else -1
    reductions = 0
    for metric in PLATEAU[:STEPS]:
        before = sched.get_last_lr()
        sched.step(sign * metric)
        tsched.step(sign * metric)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert sched.num_bad_epochs == tsched.num_bad_epochs
        assert sched.best == tsched.best
        reductions += sched.get_last_lr() != before
    assert reductions >= 2


def test_reduce_on_plateau_by_hand() -> None:
    """patience=2: the third epoch without improvement reduces; min_lr floors it."""
    opt, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, min_lr=0.04)
    lrs = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.04]
    assert sched.get_last_lr()[1] == 0.03  # already below its floor: unchanged


@pytest.mark.parametrize("name,options", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_state_dict_round_trip(name: str, options: dict[str, Any]) -> None:
    opt, _ = _optimizers()
    sched = getattr(lr_scheduler, name)(opt, **options)
    for _ in range(20):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 20
    straight = []
    for _ in range(30):
        sched.step()
        straight.append(sched.get_last_lr())

    opt2, _ = _optimizers()
    sched2 = getattr(lr_scheduler, name)(opt2, **options)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = []
    for _ in range(30):
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == straight


def test_reduce_on_plateau_state_dict_round_trip() -> None:
    opt, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, cooldown=1)
    for metric in PLATEAU[:20]:
        sched.step(metric)
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    straight = []
    for metric in PLATEAU[20:60]:
        sched.step(metric)
        straight.append(sched.get_last_lr())
    opt2, _ = _optimizers()
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    resumed = []
    for metric in PLATEAU[20:60]:
        sched2.step(metric)
        resumed.append(sched2.get_last_lr())
    assert resumed == straight


@pytest.mark.parametrize(
    "make,error,match",
    [
        (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "start_factor"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "end_factor"),
        (lambda o: lr_scheduler.LambdaLR(o, [lambda t: 1.0]), ValueError, "2 lr_lambdas"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
         "threshold_mode"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "2 min_lrs"),
        (lambda o: lr_scheduler.ExponentialLR(object(), gamma=0.9), TypeError, "Optimizer"),
    ],
)
def test_invalid_arguments(make: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make(_optimizers()[0])
