"""Optimizers against torch.optim: 50-step parameter trajectories of a small MLP.

The network, y = W₂ tanh(W₁ x + b₁) + b₂ with an MSE loss, is built twice from
the same float64 weights -- from chainrule ops and from torch ops -- and both
optimizers step on it; every parameter is compared after every step, and the
optimizer states (momentum buffers, running averages) at the end.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import optim

STEPS = 50
SHAPES = [(6, 4), (6,), (3, 6), (3,)]


def _data(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s) * 0.5 for s in SHAPES]
    return weights, rng.standard_normal((10, 4)), rng.standard_normal((10, 3))


def _loss_cr(params: list[cr.Tensor], x: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    w1, b1, w2, b2 = params
    out = F.linear(F.linear(x, w1, b1).tanh(), w2, b2)
    return ((out - y) ** 2).mean()


def _loss_torch(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2 = params
    out = torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, w1, b1)), w2, b2)
    return ((out - y) ** 2).mean()


def _groups(params: list[Any], group_options: list[dict[str, Any]] | None) -> list[Any]:
    """Plain parameter list, or layer 1 and layer 2 as two groups with their own options."""
    if group_options is None:
        return params
    return [{"params": params[:2], **group_options[0]}, {"params": params[2:], **group_options[1]}]


def run_both(
    name: str, options: dict[str, Any], group_options: list[dict[str, Any]] | None = None,
    steps: int = STEPS,
) -> tuple[list[cr.Tensor], optim.Optimizer, list[torch.Tensor], torch.optim.Optimizer]:
    """Step both frameworks side by side, asserting equal parameters after every step."""
    weights, x, y = _data()
    p_cr = [cr.tensor(w, requires_grad=True) for w in weights]
    p_t = [torch.tensor(w, requires_grad=True) for w in weights]
    opt_cr = getattr(optim, name)(_groups(p_cr, group_options), **options)
    opt_t = getattr(torch.optim, name)(_groups(p_t, group_options), **options)
    x_cr, y_cr, x_t, y_t = cr.tensor(x), cr.tensor(y), torch.tensor(x), torch.tensor(y)
    for step in range(steps):
        opt_cr.zero_grad()
        _loss_cr(p_cr, x_cr, y_cr).backward()
        opt_cr.step()
        opt_t.zero_grad()
        _loss_torch(p_t, x_t, y_t).backward()
        opt_t.step()
        for i, (a, b) in enumerate(zip(p_cr, p_t)):
            np.testing.assert_allclose(
                a.data, b.detach().numpy(), rtol=1e-8, atol=1e-12,
                err_msg=f"{name}{options} parameter {i} after step {step + 1}",
            )
    return p_cr, opt_cr, p_t, opt_t


def _assert_same_state(p_cr: list[cr.Tensor], opt_cr: Any, p_t: list[Any], opt_t: Any) -> None:
    for a, b in zip(p_cr, p_t):
        mine, theirs = opt_cr.state[a], opt_t.state[b]
        assert set(mine) == set(theirs)
        for key, value in theirs.items():
            if key == "step":
                assert mine[key] == int(value)
            else:
                assert mine[key].dtype == np.float64
                np.testing.assert_allclose(mine[key], value.numpy(), rtol=1e-8, atol=1e-12)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.001, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("AdamW", dict(lr=0.01, maximize=True)),
]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_trajectory_matches_torch(name: str, options: dict[str, Any]) -> None:
    p_cr, opt_cr, p_t, opt_t = run_both(name, options)
    _assert_same_state(p_cr, opt_cr, p_t, opt_t)
    weights, _, _ = _data()
    assert not np.allclose(p_cr[0].data, weights[0])  # it did move


GROUP_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9), [{"lr": 0.2}, {"momentum": 0.5, "nesterov": True}]),
    ("Adagrad", dict(lr=0.1), [{"lr": 0.3}, {"lr_decay": 0.1}]),
    ("RMSprop", dict(lr=0.01), [{"lr": 0.002, "centered": True}, {"momentum": 0.9}]),
    ("Adam", dict(lr=0.01), [{"lr": 0.05}, {"betas": (0.5, 0.9), "amsgrad": True}]),
    ("AdamW", dict(lr=0.01), [{"lr": 0.03, "weight_decay": 0.0}, {}]),
]


@pytest.mark.parametrize("name,options,groups", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_two_param_groups_match_torch(name: str, options: dict, groups: list[dict]) -> None:
    p_cr, opt_cr, p_t, opt_t = run_both(name, options, groups)
    _assert_same_state(p_cr, opt_cr, p_t, opt_t)
    assert opt_cr.param_groups[0]["lr"] == opt_t.param_groups[0]["lr"]
    assert opt_cr.param_groups[1]["lr"] == options["lr"]


ALL_ON = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
    "RMSprop": dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.1),
    "AdamW": dict(lr=0.01, amsgrad=True),
}


def _train(opt: optim.Optimizer, params: list[cr.Tensor], steps: int, seed: int = 0) -> None:
    _, x, y = _data(seed)
    x_cr, y_cr = cr.tensor(x, dtype=params[0].dtype), cr.tensor(y, dtype=params[0].dtype)
    for _ in range(steps):
        opt.zero_grad()
        _loss_cr(params, x_cr, y_cr).backward()
        opt.step()


@pytest.mark.parametrize("name", sorted(ALL_ON))
def test_float32_stays_float32(name: str) -> None:
    weights, _, _ = _data()
    params = [cr.tensor(w.astype(np.float32), requires_grad=True) for w in weights]
    opt = getattr(optim, name)(params, **ALL_ON[name])
    _train(opt, params, 5)
    for p in params:
        assert p.data.dtype == np.float32
        for key, value in opt.state[p].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, f"{name} state {key} is {value.dtype}"
            else:
                assert key == "step" and isinstance(value, int)


@pytest.mark.parametrize("name", sorted(ALL_ON))
def test_frozen_and_gradless_parameters_are_untouched(name: str) -> None:
    weights, _, _ = _data()
    params = [cr.tensor(w, requires_grad=True) for w in weights]
    frozen = cr.tensor([1.0, 2.0], dtype=np.float64)
    frozen.grad = np.array([5.0, 5.0])  # a stale gradient on a frozen parameter
    unused = cr.tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)  # grad stays None
    opt = getattr(optim, name)([*params, frozen, unused], **ALL_ON[name])
    _train(opt, params, 3)
    np.testing.assert_array_equal(frozen.data, [1.0, 2.0])
    np.testing.assert_array_equal(unused.data, [3.0, 4.0])
    assert frozen not in opt.state and unused not in opt.state
    assert not np.allclose(params[0].data, weights[0])


@pytest.mark.parametrize("name", sorted(ALL_ON))
def test_gradient_array_is_never_written(name: str) -> None:
    p = cr.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=np.float64)
    shared = np.array([0.5, -0.25, 2.0])
    opt = getattr(optim, name)([p], **ALL_ON[name])
    for _ in range(3):
        p.grad = shared
        opt.step()
    np.testing.assert_array_equal(shared, [0.5, -0.25, 2.0])


@pytest.mark.parametrize("name", sorted(ALL_ON))
def test_state_dict_round_trip_continues_identically(name: str) -> None:
    weights, _, _ = _data()
    straight = [cr.tensor(w, requires_grad=True) for w in weights]
    opt = getattr(optim, name)(_groups(straight, [{"lr": 0.02}, {}]), **ALL_ON[name])
    _train(opt, straight, 10)
    saved = opt.state_dict()
    saved_copy = copy.deepcopy(saved)
    snapshot = [p.data.copy() for p in straight]
    _train(opt, straight, 10)

    resumed = [cr.tensor(w, requires_grad=True) for w in snapshot]
    opt2 = getattr(optim, name)(_groups(resumed, [{}, {}]), lr=0.5)  # options come from `saved`
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.02
    _train(opt2, resumed, 10)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a.data, b.data)
    # the saved dict holds copies: the ten later steps did not change it
    for j, state in saved["state"].items():
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, saved_copy["state"][j][key])


def test_state_dict_format() -> None:
    params = [cr.tensor(np.ones(3), requires_grad=True), cr.tensor(np.ones(2), requires_grad=True)]
    opt = optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5}], lr=0.1,
                    momentum=0.9)
    params[0].grad = np.full(3, 2.0)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        dict(lr=0.1, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False,
             params=[0]),
        dict(lr=0.5, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False,
             params=[1]),
    ]
    assert list(sd["state"]) == [0]
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"], [2.0, 2.0, 2.0])
    assert not np.shares_memory(sd["state"][0]["momentum_buffer"],
                                opt.state[params[0]]["momentum_buffer"])


def test_load_state_dict_checks_group_sizes() -> None:
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    sd = optim.Adam([a, b]).state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters.*but 1"):
        optim.Adam([a]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 1 parameter groups, this optimizer has 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)


def test_load_state_dict_casts_to_parameter_dtype() -> None:
    p64 = cr.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p64])
    p64.grad = np.ones(3)
    opt.step()
    p32 = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt32 = optim.Adam([p32])
    opt32.load_state_dict(opt.state_dict())
    assert opt32.state[p32]["exp_avg"].dtype == np.float32
    assert opt32.state[p32]["step"] == 1


def test_param_group_defaults_and_add_param_group() -> None:
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([2.0], requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    a.grad, b.grad = np.array([1.0], np.float32), np.array([1.0], np.float32)
    opt.step()
    np.testing.assert_allclose(a.data, [0.9], rtol=1e-6)
    np.testing.assert_allclose(b.data, [1.99], rtol=1e-6)


def test_bad_params() -> None:
    a = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="same parameter twice"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(a)
    with pytest.raises(TypeError, match="set"):
        optim.Adam({a})
    with pytest.raises(TypeError, match="set"):
        optim.Adam([{"params": {a}}])
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.Adam([np.ones(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([a * 2])


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "lr=-0.1"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum=-1"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay=-1"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
         "dampening=0.1"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"betas\[0\]=1.0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"betas\[1\]=-0.1"),
        (lambda p: optim.Adam(p, eps=-1e-8), "eps=-1e-08"),
        (lambda p: optim.AdamW(p, lr=-1.0), "AdamW: invalid lr=-1.0"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "lr_decay=-1"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "alpha=-0.5"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "momentum=-0.5"),
    ],
)
def test_invalid_hyperparameters(make: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make([cr.tensor([1.0], requires_grad=True)])


def test_gradient_of_wrong_shape_is_rejected_before_any_update() -> None:
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, np.float32)
    with pytest.raises(RuntimeError, match=r"assigned grad has shape \(2,\).*shape \(1,\)"):
        b.grad = np.ones(2, np.float32)  # refused as in torch, so step() never sees it
    b.grad = np.ones(1, np.float32)
    b.grad.data = np.ones(2, np.float32)  # .data is the unchecked escape hatch
    with pytest.raises(ValueError, match=r"shape \(1,\) has a gradient of shape \(2,\)"):
        opt.step()
    np.testing.assert_array_equal(a.data, [1.0, 2.0])
    assert not opt.state


def test_zero_grad() -> None:
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    shared = np.array([3.0, 4.0], dtype=np.float32)
    a.grad = shared
    opt = optim.SGD([a], lr=0.1)
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad  # zeroed in place, as torch's grad.zero_()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_loss() -> None:
    w = cr.tensor([3.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.25)

    def closure() -> cr.Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.data, [1.5])  # 3 - 0.25 · 6


def test_sgd_momentum_rule_by_hand() -> None:
    """v₁ = g₁ (no dampening on the first step), v₂ = μ v₁ + (1 - τ) g₂."""
    w = cr.tensor([0.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.5)
    w.grad = np.array([1.0])
    opt.step()
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"], [1.0])
    np.testing.assert_allclose(w.data, [-0.1])
    w.grad = np.array([2.0])
    opt.step()
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"], [0.9 + 0.5 * 2.0])
    np.testing.assert_allclose(w.data, [-0.1 - 0.1 * 1.9])


def test_adamw_decay_is_decoupled() -> None:
    """With a zero gradient AdamW only shrinks θ by (1 - ε λ); Adam's L2 term moves it by ε."""
    p = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.array([0.0])
    opt.step()
    np.testing.assert_allclose(p.data, [2.0 * (1 - 0.1 * 0.5)])
    q = cr.tensor([2.0], requires_grad=True, dtype=np.float64)
    opt = optim.Adam([q], lr=0.1, weight_decay=0.5)
    q.grad = np.array([0.0])
    opt.step()
    np.testing.assert_allclose(q.data, [2.0 - 0.1], rtol=1e-7)  # m̂/√v̂ = sign(λθ) = 1
