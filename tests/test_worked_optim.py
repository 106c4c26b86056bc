"""The optimizer and scheduler problems of ../shared/worked_examples.json, answered
with chainrule.optim and compared with the independently computed answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler


def _close(actual: Any, expected: Any, tol: dict[str, Any]) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=tol.get("rtol", 0.0), atol=tol.get("atol", 0.0)
    )


def _param(values: Any) -> cr.Tensor:
    return cr.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _piecewise_slope(x: np.ndarray, h: Any, beta: float) -> np.ndarray:
    """f'(x) of the bump: -1 on x ≤ 1, +1 on (1, 1+h], -1 on (1+h, 1+2h], -β beyond."""
    return np.where(x <= 1, -1.0, np.where(x <= 1 + h, 1.0, np.where(x <= 1 + 2 * h, -1.0,
                                                                      -beta)))


def _piecewise_f(x: float, h: float, beta: float) -> float:
    if x <= 1:
        return 1 - x
    if x <= 1 + h:
        return x - 1
    if x <= 1 + 2 * h:
        return 1 + 2 * h - x
    return beta * (1 + 2 * h - x)


def _gd_on_bump(x0: float, lr: float, steps: int, h: float, beta: float) -> list[float]:
    """Gradient descent with a hand-set gradient: the iterates x_0 ... x_steps."""
    x = _param([x0])
    opt = optim.SGD([x], lr=lr)
    iterates = [x.item()]
    for _ in range(steps):
        x.grad = _piecewise_slope(x.data, h, beta)
        opt.step()
        iterates.append(x.item())
    return iterates


def test_gd_piecewise_linear_oscillation(worked_examples: dict) -> None:
    ex = worked_examples["gd_piecewise_linear_oscillation"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    xs = _gd_on_bump(inp["x0"], inp["lr"], inp["steps"], inp["h"], inp["beta"])
    _close(xs[:9], ans["first_iterates"], tol)
    f = [_piecewise_f(x, inp["h"], inp["beta"]) for x in xs]
    best = int(np.argmin(f))
    _close(f[best], ans["lowest_f"], tol)
    _close(xs[best], ans["argmin_x"], tol)
    _close(xs[-1], ans["x_1000"], tol)
    _close(sorted(set(np.round(xs[-10:], 9))), ans["oscillates_between"], tol)  # trapped

    escaped = _gd_on_bump(inp["x0"], inp["lr"], inp["steps"], inp["h_alt"], inp["beta"])
    assert (escaped[-1] > 1 + 2 * inp["h_alt"]) == ans["h_alt_escapes"]
    _close(escaped[-1], ans["h_alt_x_1000"], tol)
    # trapping needs x = 1.2 inside (1, 1+h]: h = 0.25 traps, h = 0.15 does not
    assert _gd_on_bump(inp["x0"], inp["lr"], 100, 0.25, inp["beta"])[-1] < 1.25


def _adam_escapes(hs: np.ndarray, inp: dict[str, Any], steps: int = 3000) -> np.ndarray:
    """Adam on the bump for many widths h at once: coordinate i of x runs with h = hs[i].

    Adam acts on each coordinate independently, so one optimizer over a vector
    is a batch of independent scalar runs. Escaped: x > 1 + 2h within ``steps``.
    """
    x = _param(np.full(hs.shape, inp["x0"]))
    opt = optim.Adam([x], lr=inp["lr"], betas=(inp["beta1"], inp["beta2"]), eps=inp["eps"])
    escaped = np.zeros(hs.shape, dtype=bool)
    for _ in range(steps):
        x.grad = _piecewise_slope(x.data, hs, inp["beta_slope"])
        opt.step()
        escaped |= x.data > 1 + 2 * hs
    return escaped


def test_adam_escape_local_minimum_hmax(worked_examples: dict) -> None:
    """Multisection on h: each round runs 201 widths across the bracket in one Adam run
    and keeps the interval between the widest escaping h and the first trapped one."""
    ex = worked_examples["adam_escape_local_minimum_hmax"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    lo, hi = 0.0, 0.01
    for _ in range(3):  # bracket width 0.01 → 5e-5 → 2.5e-7 → 1.25e-9
        hs = np.linspace(lo, hi, 201)
        escaped = _adam_escapes(hs, inp)
        assert escaped[0] and not escaped[-1]
        k = int(np.argmin(escaped))  # first trapped width
        assert not escaped[k:].any()  # escaping is monotone in h
        lo, hi = hs[k - 1], hs[k]
    _close(lo, ans["h_max"], tol)
    k = np.arange(1, 7)  # the closed form: six steps of momentum carry x over the bump
    _close(inp["lr"] * np.sum(2 * inp["beta1"] ** k - 1), ans["h_max"], tol)


def test_adam_bias_correction(worked_examples: dict) -> None:
    ex = worked_examples["adam_bias_correction"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    b1, b2 = inp["beta1"], inp["beta2"]

    # (a) a constant gradient: m̂ = g and v̂ = g² exactly, so each step moves θ by -lr
    theta = _param([0.0])
    opt = optim.Adam([theta], lr=inp["lr"], betas=(b1, b2), eps=0.0)
    trace: dict[str, list[float]] = {k: [] for k in ("m", "v", "m_hat", "v_hat", "theta")}
    for _ in range(3):
        theta.grad = np.array([inp["const_grad"]])
        opt.step()
        state = opt.state[theta]
        t = state["step"]
        m, v = state["exp_avg"].item(), state["exp_avg_sq"].item()
        trace["m"].append(m)
        trace["v"].append(v)
        trace["m_hat"].append(m / (1 - b1**t))
        trace["v_hat"].append(v / (1 - b2**t))
        trace["theta"].append(theta.item())
    for key in ("m", "v", "m_hat", "v_hat", "theta"):
        _close(trace[key], ans[f"a_{key}_t"], tol)

    # (b) the weights of g_1..g_3 in m̂_3 and v̂_3: feed one-hot gradients e_1, e_2, e_3
    basis = _param(np.zeros(3))
    opt = optim.Adam([basis], lr=inp["lr"], betas=(b1, b2))
    for i in range(3):
        basis.grad = np.eye(3)[i]
        opt.step()
    w_m = opt.state[basis]["exp_avg"] / (1 - b1**3)
    w_v = opt.state[basis]["exp_avg_sq"] / (1 - b2**3)
    _close(w_m, ans["b_weights_m"], tol)
    _close(w_v, ans["b_weights_v"], tol)
    _close([w_m.sum(), w_v.sum()], [1.0, 1.0], tol)

    theta = _param([0.0])
    opt = optim.Adam([theta], lr=inp["lr"], betas=(b1, b2), eps=1e-8)
    for g in inp["grads_b"]:
        theta.grad = np.array([g])
        opt.step()
    state = opt.state[theta]
    _close(state["exp_avg"].item() / (1 - b1**3), ans["b_m_hat_3"], tol)
    _close(state["exp_avg_sq"].item() / (1 - b2**3), ans["b_v_hat_3"], tol)
    _close(w_m @ np.array(inp["grads_b"]), ans["b_m_hat_3"], tol)
    _close(theta.item(), ans["b_theta_3"], tol)


def test_momentum_expected_theta3(worked_examples: dict) -> None:
    """θ_3 is linear in the gradients, so E[θ_3] is the run with every g = μ; checked
    also as the mean over antithetic pairs of noisy runs (g = μ ± z) in one vector."""
    ex = worked_examples["momentum_expected_theta3"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    lr, alpha, mu = inp["eps"], inp["alpha"], inp["mu"]

    theta = _param([inp["theta0"]])
    opt = optim.SGD([theta], lr=lr, momentum=alpha)
    for _ in range(3):
        theta.grad = np.array([mu])
        opt.step()
    _close(theta.item(), ans["E_theta3_value"], tol)
    v_course = -lr * opt.state[theta]["momentum_buffer"].item()  # v ← αv - εg is -ε·buffer
    _close(v_course, ans["E_v3_value"], tol)

    z = np.random.default_rng(0).standard_normal((3, 5000))
    runs = _param(np.full(10000, inp["theta0"]))
    opt = optim.SGD([runs], lr=lr, momentum=alpha)
    for t in range(3):
        runs.grad = mu + np.concatenate([z[t], -z[t]])
        opt.step()
    _close(runs.data.mean(), ans["E_theta3_value"], tol)
    assert runs.data.std() > 0.1  # the individual runs do differ


def test_l2_weight_decay_update(worked_examples: dict) -> None:
    ex = worked_examples["l2_weight_decay_update"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    theta = _param(inp["theta"])
    opt = optim.SGD([theta], lr=inp["eps"], weight_decay=inp["alpha"])
    theta.grad = np.array(inp["grad_L"])
    opt.step()
    _close(theta.data, ans["theta_new"], tol)

    theta = _param(inp["theta"])  # with no data gradient only the shrinkage remains
    opt = optim.SGD([theta], lr=inp["eps"], weight_decay=inp["alpha"])
    theta.grad = np.zeros(3)
    opt.step()
    _close(theta.data / np.array(inp["theta"]), [ans["shrink_factor"]] * 3, tol)


def _gd_quadratic(a: float, theta0: float, lr: float, steps: int) -> float:
    """GD on f(θ) = ½ a θ², the gradient by autograd."""
    theta = _param([theta0])
    opt = optim.SGD([theta], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * a * theta * theta).sum().backward()
        opt.step()
    return theta.item()


def test_gd_learning_rate_divergence_quadratic(worked_examples: dict) -> None:
    ex = worked_examples["gd_learning_rate_divergence_quadratic"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    a, theta0 = inp["a"], inp["theta0"]
    for lr in inp["lrs"]:
        _close(_gd_quadratic(a, theta0, lr, 10), ans[f"theta10_lr{lr}"], tol)
    assert (abs(_gd_quadratic(a, theta0, 0.6, 10)) > abs(theta0)) == ans["lr0.6_diverges"]
    threshold = ans["lr_threshold"]
    _close(2 / a, threshold, tol)
    assert abs(_gd_quadratic(a, theta0, threshold * 0.98, 200)) < 1e-3
    assert abs(_gd_quadratic(a, theta0, threshold * 1.02, 200)) > 1e3
    assert abs(_gd_quadratic(a, theta0, threshold, 11)) == pytest.approx(theta0)  # ±θ₀


def test_step_lr_schedule(worked_examples: dict) -> None:
    ex = worked_examples["step_lr_schedule"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    opt = optim.SGD([_param([0.0])], lr=inp["lr0"])
    sched = lr_scheduler.StepLR(opt, step_size=inp["step_size"], gamma=inp["gamma"])
    used = []
    for _ in range(45):
        used.append(opt.param_groups[0]["lr"])  # the rate this epoch trains with
        opt.step()
        sched.step()
    for epoch, lr in ans["lr_at_epoch"].items():
        _close(used[int(epoch)], lr, tol)
