"""The optimizer playground: test functions (values, gradients against torch, minima),
optimizer paths against torch.optim step for step, the two worked examples on the
piecewise-linear bump, and the pictures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import chainrule as cr
from chainrule import playground as pg

torch.set_num_threads(1)


def _close(actual: Any, expected: Any, tol: dict[str, Any]) -> None:
    np.testing.assert_allclose(actual, expected, rtol=tol.get("rtol", 0.0),
                               atol=tol.get("atol", 0.0))


# the same formulas in torch, the oracle for gradients and optimizer steps
TORCH = {
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
                           + (2.625 - x + x * y**3) ** 2),
    "saddle": lambda x, y: x**2 - y**2,
    "plateau": lambda x, y: 1 - torch.exp(-(x**2 + y**2) / 2),
    "ravine": lambda x, y: 0.5 * (x**2 + 100 * y**2),
    "piecewise": lambda x: torch.where(
        x <= 1, 1 - x, torch.where(x <= 1.5, x - 1, torch.where(x <= 2, 2 - x, 2 * (2 - x)))),
}
TORCH_OPTIMIZERS = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "adagrad": lambda p, lr: torch.optim.Adagrad(p, lr=lr),
    "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
}


def _value(name: str, *point: float) -> float:
    return pg.LANDSCAPES[name](cr.tensor(np.array(point, dtype=np.float64))).item()


def _gradient(land: pg.Landscape, point: Any) -> np.ndarray:
    theta = cr.tensor(np.array(point, dtype=np.float64), requires_grad=True)
    land(theta).backward()
    return theta.grad.numpy()


# ------------------------------------------------------------------------- the functions
@pytest.mark.parametrize("name, point, expected", [
    ("rosenbrock", (1, 1), 0.0),
    ("rosenbrock", (-1.2, 1), 24.2),             # 2.2² + 100 · 0.44²
    ("beale", (3, 0.5), 0.0),
    ("beale", (1, 1.5), 41.25),                  # 2² + 3.5² + 5²
    ("saddle", (1, 2), -3.0),
    ("plateau", (0, 0), 0.0),
    ("plateau", (3, 2), 1 - np.exp(-6.5)),
    ("ravine", (-4, 1), 58.0),                   # ½ (16 + 100)
    ("piecewise", (0,), 1.0),
    ("piecewise", (1,), 0.0),                    # the local minimum
    ("piecewise", (1.25,), 0.25),                # h = 0.5: rising
    ("piecewise", (1.5,), 0.5),                  # the top of the bump
    ("piecewise", (2,), 0.0),                    # 1 + 2h: back to 0
    ("piecewise", (3,), -2.0),                   # slope -β = -2 beyond
])
def test_values_by_hand(name: str, point: tuple, expected: float) -> None:
    assert _value(name, *point) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "saddle", "plateau", "ravine"])
def test_gradients_equal_torch(name: str) -> None:
    land = pg.LANDSCAPES[name]
    rng = np.random.default_rng(0)
    (x0, x1), (y0, y1) = land.window
    for point in np.column_stack([rng.uniform(x0, x1, 5), rng.uniform(y0, y1, 5)]):
        t = torch.tensor(point, requires_grad=True)
        TORCH[name](t[0], t[1]).backward()
        np.testing.assert_allclose(_gradient(land, point), t.grad.numpy(), rtol=1e-12,
                                   atol=1e-12)
        assert _value(name, *point) == pytest.approx(TORCH[name](*torch.tensor(point)).item(),
                                                     rel=1e-12, abs=1e-12)


def test_piecewise_slopes_take_the_left_piece_at_the_kinks() -> None:
    land = pg.landscape("piecewise", width=0.5)
    for x, slope in [(0.5, -1), (1.0, -1), (1.2, 1), (1.5, 1), (1.7, -1), (2.0, -1),
                     (2.5, -2)]:
        assert _gradient(land, [x])[0] == slope, x
    assert pg.piecewise(cr.tensor(2.0), 0.5, beta=3.0).item() == 0
    assert pg.piecewise(cr.tensor(3.0), 0.5, beta=3.0).item() == -3


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "plateau", "ravine"])
def test_minimum_is_a_stationary_point_below_its_neighbours(name: str) -> None:
    land = pg.LANDSCAPES[name]
    assert land.minimum == land.landmark
    assert _value(name, *land.minimum) == land.minimum_value == 0
    np.testing.assert_allclose(_gradient(land, land.minimum), 0, atol=1e-12)
    for dx, dy in [(1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)]:
        assert _value(name, land.minimum[0] + dx, land.minimum[1] + dy) > 0


def test_saddle_point_and_unbounded_landscapes() -> None:
    saddle = pg.LANDSCAPES["saddle"]
    np.testing.assert_array_equal(_gradient(saddle, (0.0, 0.0)), 0)
    assert saddle.minimum is None and saddle.goal_below(1e-4) == -1
    assert pg.LANDSCAPES["piecewise"].goal_below(1e-4) == 0
    assert pg.LANDSCAPES["ravine"].goal_below(1e-4) == 1e-4


# ------------------------------------------------------------------------- paths
@pytest.mark.parametrize("optimizer", pg.OPTIMIZERS)
@pytest.mark.parametrize("name", list(pg.LANDSCAPES))
def test_first_steps_equal_torch_optim(name: str, optimizer: str) -> None:
    """20 steps from the landscape's start with its default lr: every point as torch's."""
    land = pg.LANDSCAPES[name]
    path = pg.run_path(name, optimizer, steps=20)
    p = torch.tensor(land.start, dtype=torch.float64, requires_grad=True)
    opt = TORCH_OPTIMIZERS[optimizer]([p], land.lr[optimizer])
    expected = [p.detach().numpy().copy()]
    for _ in range(20):
        opt.zero_grad()
        TORCH[name](*p).backward()
        opt.step()
        expected.append(p.detach().numpy().copy())
    np.testing.assert_allclose(path.points, np.array(expected), rtol=1e-10, atol=1e-12)
    assert path.lr == land.lr[optimizer] and path.steps == 20


def test_ravine_sgd_path_and_steps_to_tolerance_follow_the_closed_form() -> None:
    """On ½(x² + 100y²), SGD multiplies x by 1 - lr and y by 1 - 100 lr each step."""
    path = pg.run_path("ravine", "sgd", lr=0.015, steps=400, tol=1e-3)
    k = np.arange(401)
    x, y = -4 * 0.985**k, (-0.5) ** k
    np.testing.assert_allclose(path.points, np.column_stack([x, y]), rtol=1e-11, atol=1e-300)
    loss = 0.5 * (x**2 + 100 * y**2)
    np.testing.assert_allclose(path.losses, loss, rtol=1e-11)
    # by hand: ½·16·0.985²ᵏ < 1e-3 ⇔ k > ln(1.25e-4) / (2 ln 0.985) = 297.3 (y is long gone)
    assert path.steps_to_tol == int(np.argmax(loss < 1e-3)) == 298
    assert path.final_point == tuple(path.points[-1]) and path.diverged_at is None


def test_divergence_ends_the_path_at_the_last_finite_point() -> None:
    path = pg.run_path("rosenbrock", "sgd", lr=0.1, steps=100)
    assert path.diverged_at is not None and path.diverged_at == len(path.points) < 100
    assert np.isfinite(path.points).all() and np.isfinite(path.losses).all()
    assert path.steps_to_tol is None


def test_start_and_options_reach_the_optimizer() -> None:
    path = pg.run_path("saddle", "adam", lr=0.1, steps=1, start=(0.5, -0.25),
                       options={"eps": 0.0})
    # first Adam step with eps = 0: each coordinate moves by lr against its gradient's sign
    np.testing.assert_allclose(path.points, [[0.5, -0.25], [0.4, -0.35]], rtol=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: pg.run_path("himmelblau", "sgd"), "unknown function 'himmelblau'"),
    (lambda: pg.run_path("ravine", "lbfgs"), "unknown optimizer 'lbfgs'"),
    (lambda: pg.run_path("ravine", "sgd", lr=-1), "lr must be a finite number >= 0, got -1"),
    (lambda: pg.run_path("ravine", "sgd", steps=2.5), "steps must be an int >= 0, got 2.5"),
    (lambda: pg.run_path("ravine", "sgd", start=(1,)), "start=(1,) has 1 coordinates"),
    (lambda: pg.run_path("ravine", "sgd", start=(1, np.nan)), "start must be a finite"),
    (lambda: pg.run_path("ravine", "sgd", tol=0), "tol must be a finite number > 0"),
    (lambda: pg.landscape("ravine", width=0.1), "width=0.1 is the bump width of piecewise"),
    (lambda: pg.landscape("piecewise", width=-1), "width must be a finite number > 0"),
])
def test_bad_arguments_are_named(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


# ------------------------------------------------------------------------- worked examples
def test_gd_piecewise_linear_oscillation(worked_examples: dict) -> None:
    ex = worked_examples["gd_piecewise_linear_oscillation"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    land = pg.landscape("piecewise", width=inp["h"])
    path = pg.run_path(land, "sgd", lr=inp["lr"], steps=inp["steps"], start=(inp["x0"],))
    xs = path.points[:, 0]
    _close(xs[:9], ans["first_iterates"], tol)
    best = int(np.argmin(path.losses))
    _close(path.losses[best], ans["lowest_f"], tol)
    _close(xs[best], ans["argmin_x"], tol)
    _close(xs[-1], ans["x_1000"], tol)
    _close(sorted(set(np.round(xs[-10:], 9))), ans["oscillates_between"], tol)
    assert path.steps_to_tol is None  # trapped: never past the bump

    alt = pg.run_path(pg.landscape("piecewise", width=inp["h_alt"]), "sgd", lr=inp["lr"],
                      steps=inp["steps"])
    assert (alt.steps_to_tol is not None) == ans["h_alt_escapes"]
    _close(alt.final_point[0], ans["h_alt_x_1000"], tol)


def test_adam_escape_local_minimum_hmax(worked_examples: dict) -> None:
    ex = worked_examples["adam_escape_local_minimum_hmax"]
    inp, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    h_max = pg.largest_escaping_width(lr=inp["lr"], betas=(inp["beta1"], inp["beta2"]),
                                      eps=inp["eps"], beta=inp["beta_slope"])
    _close(h_max, ans["h_max"], tol)
    # run_path agrees on either side of it: escapes (f < 0 means x > 1 + 2h) just after
    # reaching x = 1 (~1000 steps), or is still trapped after the example's 3000 steps
    for width, steps, escapes in [(h_max - 2e-9, 1100, True), (h_max + 2e-9, 3000, False)]:
        path = pg.run_path(pg.landscape("piecewise", width=width), "adam", lr=inp["lr"],
                           steps=steps, start=(inp["x0"],), options={"eps": inp["eps"]})
        assert (path.steps_to_tol is not None) == escapes, width


def test_largest_escaping_width_refuses_a_bracket_that_does_not_trap() -> None:
    with pytest.raises(ValueError, match="escapes even the widest bump high=0.001"):
        pg.largest_escaping_width(high=0.001, steps=1200, grid=3)


# ------------------------------------------------------------------------- pictures
def test_png_of_2d_and_1d_paths(tmp_path: Any) -> None:
    paths = [pg.run_path("beale", name, steps=30) for name in ("sgd", "adam")]
    fig = pg.plot_paths(paths, tmp_path / "beale.png")
    with Image.open(tmp_path / "beale.png") as image:
        assert image.format == "PNG" and image.size == (750, 560)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == [f"sgd lr 0.01: f = {paths[0].final_loss:.3g}",
                          f"adam lr 0.1: f = {paths[1].final_loss:.3g}"]
    assert labels[2:] == ["start", "minimum f(3, 0.5) = 0"]
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), paths[0].points)
    assert ax.get_xlim() == (-4.5, 4.5)

    bump = [pg.run_path("piecewise", name, steps=20) for name in ("sgd", "momentum")]
    fig = pg.plot_paths(bump, tmp_path / "bump.png")
    with Image.open(tmp_path / "bump.png") as image:
        assert image.format == "PNG"
    line = fig.axes[0].lines[1]  # lines[0] is the curve f
    np.testing.assert_array_equal(line.get_xdata(), bump[0].points[:, 0])
    np.testing.assert_array_equal(line.get_ydata(), bump[0].losses)


def test_animated_gif_grows_the_paths(tmp_path: Any) -> None:
    paths = [pg.run_path("saddle", name, steps=12) for name in ("sgd", "rmsprop")]
    pg.animate_paths(paths, tmp_path / "saddle.gif", frames=5)
    with Image.open(tmp_path / "saddle.gif") as image:
        assert image.format == "GIF" and image.n_frames == 5
        image.seek(0)
        first = np.asarray(image.convert("RGB")).copy()
        image.seek(4)
        last = np.asarray(image.convert("RGB")).copy()
    assert (first != last).any()


def test_plotting_paths_of_two_landscapes_is_refused() -> None:
    paths = [pg.run_path("saddle", "sgd", steps=2), pg.run_path("ravine", "sgd", steps=2)]
    with pytest.raises(ValueError, match="different landscapes"):
        pg.plot_paths(paths, None)
