"""The optimizer playground: chainrule's own optimizers on classic test landscapes.

>>> from chainrule import playground
>>> path = playground.run_path("rosenbrock", "adam", steps=300)
>>> path.final_point, path.final_loss, path.steps_to_tol      # doctest: +SKIP
>>> playground.plot_paths([playground.run_path("ravine", name)
...                        for name in playground.OPTIMIZERS], "ravine.png")  # doctest: +SKIP

Each landscape's f is written with chainrule ops, so autograd supplies the gradient
the optimizers follow; :data:`LANDSCAPES` holds each one with its start, its minimum,
a plot window, a default number of steps and a default learning rate per optimizer:

============  =========================================================  ===========  ==============
name          f                                                          start        minimum
============  =========================================================  ===========  ==============
rosenbrock    (1 − x)² + 100 (y − x²)²: a narrow curved valley           (−1.2, 1)    f(1, 1) = 0
beale         (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²   (1, 1.5)     f(3, 0.5) = 0
saddle        x² − y²: a saddle point at (0, 0)                          (1, 0.001)   none
plateau       1 − exp(−(x² + y²)/2): flat far out, then a drop           (3, 2)       f(0, 0) = 0
ravine        ½ (x² + 100 y²): curvatures 1 and 100 (condition 100)      (−4, 1)      f(0, 0) = 0
piecewise     the bump below, of width h = 0.5 unless told otherwise     0            none
============  =========================================================  ===========  ==============

The piecewise-linear bump of width h, with slope β = 2 beyond it (the worked
examples ``gd_piecewise_linear_oscillation`` and ``adam_escape_local_minimum_hmax``)::

    f(x) = 1 − x           x ≤ 1             slope −1
           x − 1           1 < x ≤ 1 + h     slope +1   (a local minimum f(1) = 0)
           1 + 2h − x      1 + h < x ≤ 1 + 2h  slope −1
           β (1 + 2h − x)  x > 1 + 2h        slope −β   (f < 0: past the bump, and on to −∞)

At a kink the gradient is the slope of the piece on its left (f'(1) = −1), the
convention of both worked examples. ``saddle`` and ``piecewise`` are unbounded
below: there a run "reaches" its goal when f falls below ``goal`` (saddle: −1,
away from the saddle; piecewise: 0, past the bump).

Optimizers (:data:`OPTIMIZERS`, built by :func:`make_optimizer` from
:mod:`chainrule.optim` with torch's defaults unless told otherwise): ``sgd``,
``momentum`` (SGD, momentum 0.9), ``nesterov`` (SGD, Nesterov momentum 0.9),
``adagrad``, ``rmsprop`` and ``adam``. Default steps and learning rates
(``Landscape.steps``, ``Landscape.lr``), picked by hand so that no run diverges and
each method's character shows within the default number of steps (momentum 0.9 moves
about as fast as plain SGD with ten times the lr, hence its smaller values)::

                steps   sgd     momentum  nesterov  adagrad  rmsprop  adam
    rosenbrock   1000   0.002   0.001     0.001     1        0.01     0.1
    beale        1000   0.01    0.001     0.001     1        0.01     0.1
    saddle        100   0.05    0.01      0.01      0.2      0.01     0.05
    plateau       300   1       0.1       0.1       0.5      0.05     0.1
    ravine        300   0.015   0.01      0.01      1        0.05     0.1
    piecewise     100   0.3     0.1       0.1       0.3      0.1      0.1

:func:`run_path` records a :class:`Path` (every point and loss, the step at which
the tolerance was reached); :func:`plot_paths` draws paths over the contours (2-D)
or the curve (1-D) to a PNG, :func:`animate_paths` to an animated GIF (Pillow);
:func:`largest_escaping_width` finds the widest bump Adam still escapes.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import chainrule as cr
from chainrule import optim
from chainrule.function import no_grad
from chainrule.io import atomic_write
from chainrule.tensor import Tensor

__all__ = ["LANDSCAPES", "OPTIMIZERS", "Landscape", "Path", "animate_paths", "beale",
           "landscape", "largest_escaping_width", "make_optimizer", "piecewise", "plateau",
           "plot_paths", "ravine", "rosenbrock", "run_path", "saddle"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
_COLOURS = {"sgd": "#1f77b4", "momentum": "#ff7f0e", "nesterov": "#2ca02c",
            "adagrad": "#d62728", "rmsprop": "#9467bd", "adam": "#8c564b"}
_MORE_COLOURS = ("#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


# ---------------------------------------------------------------------------- functions
def rosenbrock(x: Tensor, y: Tensor) -> Tensor:
    """f(x, y) = (1 − x)² + 100 (y − x²)²; minimum f(1, 1) = 0 at the end of a curved valley.

    ∂f/∂x = −2 (1 − x) − 400 x (y − x²)    ∂f/∂y = 200 (y − x²)
    """
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def beale(x: Tensor, y: Tensor) -> Tensor:
    """f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; minimum f(3, ½) = 0.

    With rₖ = cₖ − x + x yᵏ (c = 1.5, 2.25, 2.625):
    ∂f/∂x = Σₖ 2 rₖ (yᵏ − 1)    ∂f/∂y = Σₖ 2 rₖ k x yᵏ⁻¹
    """
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
            + (2.625 - x + x * y**3) ** 2)


def saddle(x: Tensor, y: Tensor) -> Tensor:
    """f(x, y) = x² − y²: a saddle point at (0, 0), unbounded below along y.

    ∂f/∂x = 2x    ∂f/∂y = −2y
    """
    return x**2 - y**2


def plateau(x: Tensor, y: Tensor) -> Tensor:
    """f(x, y) = 1 − exp(−(x² + y²)/2): nearly flat (f ≈ 1) far out, then a drop to f(0, 0) = 0.

    ∇f = (x, y) exp(−(x² + y²)/2): at the start (3, 2) its length is only 0.0054.
    """
    return 1 - cr.exp(-(x**2 + y**2) / 2)


def ravine(x: Tensor, y: Tensor) -> Tensor:
    """f(x, y) = ½ (x² + 100 y²): curvature 1 along x, 100 along y; minimum f(0, 0) = 0.

    ∂f/∂x = x    ∂f/∂y = 100 y    (gradient descent is stable only for lr < 2/100)
    """
    return 0.5 * (x**2 + 100 * y**2)


def piecewise(x: Tensor, h: Any = 0.5, beta: float = 2.0) -> Tensor:
    """The bump of width ``h`` (see the module docstring), elementwise; ``h`` may be an array.

    f = 1 − x (x ≤ 1), x − 1 (≤ 1 + h), 1 + 2h − x (≤ 1 + 2h), β (1 + 2h − x) beyond;
    f' = −1, +1, −1, −β: ``where`` routes the gradient to the piece that was chosen, so
    at a kink it is the slope on the left.
    """
    top = 1 + 2 * np.asarray(h, dtype=np.float64)
    return cr.where(x <= 1, 1 - x,
                    cr.where(x <= 1 + np.asarray(h, dtype=np.float64), x - 1,
                             cr.where(x <= top, top - x, beta * (top - x))))


# ---------------------------------------------------------------------------- landscapes
@dataclass(frozen=True)
class Landscape:
    """A test function with what a run and a plot need.

    ``f`` takes one Tensor per coordinate; ``minimum`` is the global minimiser and
    ``minimum_value`` f there (both None when f is unbounded below, and then a run
    reaches its goal once f < ``goal``); ``landmark`` is the point marked on plots
    (the minimum, the saddle point, the local minimum), named by ``landmark_label``;
    ``window`` is the plot's range per coordinate; ``steps`` the default number of
    steps and ``lr`` the default learning rate per optimizer.
    """

    name: str
    formula: str
    f: Callable[..., Tensor]
    start: tuple[float, ...]
    window: tuple[tuple[float, float], ...]
    landmark: tuple[float, ...]
    landmark_label: str
    steps: int
    lr: Mapping[str, float]
    minimum: tuple[float, ...] | None = None
    minimum_value: float | None = None
    goal: float | None = None
    width: float | None = field(default=None)

    @property
    def dim(self) -> int:
        """The number of coordinates (1 or 2)."""
        return len(self.start)

    def __call__(self, point: Tensor) -> Tensor:
        """f at ``point`` (a Tensor of ``dim`` coordinates, or ``dim`` × grid)."""
        return self.f(*(point[i] for i in range(self.dim)))

    def goal_below(self, tol: float) -> float:
        """The loss a run must fall below: f_min + tol, or ``goal`` if f is unbounded below."""
        return self.goal if self.minimum_value is None else self.minimum_value + tol


def _piecewise_landscape(width: float, beta: float = 2.0) -> Landscape:
    return Landscape(
        name="piecewise", f=lambda x: piecewise(x, width, beta),
        formula=f"bump of width h = {width:g}: slopes −1, +1, −1, −{beta:g}",
        start=(0.0,), window=((-0.25, 2.0 + 2 * width),), landmark=(1.0,),
        landmark_label="local minimum f(1) = 0", steps=100,
        lr={"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.3, "rmsprop": 0.1,
            "adam": 0.1},
        goal=0.0, width=width)


LANDSCAPES: dict[str, Landscape] = {
    land.name: land for land in (
        Landscape("rosenbrock", "(1 − x)² + 100 (y − x²)²", rosenbrock, start=(-1.2, 1.0),
                  window=((-2.0, 2.0), (-1.0, 3.0)), landmark=(1.0, 1.0),
                  landmark_label="minimum f(1, 1) = 0", steps=1000,
                  lr={"sgd": 2e-3, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1.0,
                      "rmsprop": 0.01, "adam": 0.1},
                  minimum=(1.0, 1.0), minimum_value=0.0),
        Landscape("beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²", beale,
                  start=(1.0, 1.5), window=((-4.5, 4.5), (-4.5, 4.5)), landmark=(3.0, 0.5),
                  landmark_label="minimum f(3, 0.5) = 0", steps=1000,
                  lr={"sgd": 0.01, "momentum": 1e-3, "nesterov": 1e-3, "adagrad": 1.0,
                      "rmsprop": 0.01, "adam": 0.1},
                  minimum=(3.0, 0.5), minimum_value=0.0),
        Landscape("saddle", "x² − y²", saddle, start=(1.0, 1e-3),
                  window=((-1.5, 1.5), (-1.5, 1.5)), landmark=(0.0, 0.0),
                  landmark_label="saddle point (0, 0)", steps=100,
                  lr={"sgd": 0.05, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.2,
                      "rmsprop": 0.01, "adam": 0.05},
                  goal=-1.0),
        Landscape("plateau", "1 − exp(−(x² + y²)/2)", plateau, start=(3.0, 2.0),
                  window=((-4.0, 4.0), (-4.0, 4.0)), landmark=(0.0, 0.0),
                  landmark_label="minimum f(0, 0) = 0", steps=300,
                  lr={"sgd": 1.0, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5,
                      "rmsprop": 0.05, "adam": 0.1},
                  minimum=(0.0, 0.0), minimum_value=0.0),
        Landscape("ravine", "½ (x² + 100 y²)", ravine, start=(-4.0, 1.0),
                  window=((-5.0, 5.0), (-1.5, 1.5)), landmark=(0.0, 0.0),
                  landmark_label="minimum f(0, 0) = 0", steps=300,
                  lr={"sgd": 0.015, "momentum": 0.01, "nesterov": 0.01, "adagrad": 1.0,
                      "rmsprop": 0.05, "adam": 0.1},
                  minimum=(0.0, 0.0), minimum_value=0.0),
        _piecewise_landscape(0.5),
    )
}


def landscape(name: str, width: float | None = None) -> Landscape:
    """The landscape called ``name``; ``width`` sets the bump width h of ``piecewise``."""
    if not isinstance(name, str) or name not in LANDSCAPES:
        raise ValueError(f"landscape: unknown function {name!r}; choose from "
                         f"{', '.join(LANDSCAPES)}")
    if width is None:
        return LANDSCAPES[name]
    if name != "piecewise":
        raise ValueError(f"landscape: width={width!r} is the bump width of piecewise; "
                         f"{name} has none")
    if isinstance(width, bool) or not isinstance(width, (int, float)) or \
            not 0 < width < math.inf:
        raise ValueError(f"landscape: width must be a finite number > 0, got {width!r}")
    return _piecewise_landscape(float(width))


# ---------------------------------------------------------------------------- runs
def make_optimizer(name: str, params: Any, lr: float, **options: Any) -> optim.Optimizer:
    """The chainrule optimizer called ``name`` (see :data:`OPTIMIZERS`) over ``params``.

    ``momentum`` and ``nesterov`` are SGD with momentum 0.9; ``options`` are passed on
    (e.g. ``eps=0`` for Adam) and override those.
    """
    if name == "sgd":
        return optim.SGD(params, lr=lr, **options)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, **{"momentum": 0.9, "nesterov": name == "nesterov",
                                           **options})
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, **options)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, **options)
    if name == "adam":
        return optim.Adam(params, lr=lr, **options)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


@dataclass
class Path:
    """The trajectory of one optimizer on one landscape (a path of points, not a file).

    ``points[k]`` is the point after k steps (``points[0]`` the start) and
    ``losses[k]`` f there. ``steps_to_tol`` is the first k with
    f(points[k]) < ``target`` (f_min + tol; for unbounded landscapes their goal), or
    None. ``diverged_at`` is the first k where f or the point stopped being finite
    (the run ends there; ``points`` and ``losses`` stop before it), else None.
    """

    landscape: Landscape
    optimizer: str
    lr: float
    points: np.ndarray
    losses: np.ndarray
    target: float
    steps_to_tol: int | None
    diverged_at: int | None = None

    @property
    def steps(self) -> int:
        """The number of finite steps recorded (``len(points) - 1``)."""
        return len(self.points) - 1

    @property
    def final_point(self) -> tuple[float, ...]:
        """The last finite point."""
        return tuple(float(v) for v in self.points[-1])

    @property
    def final_loss(self) -> float:
        """f at the last finite point."""
        return float(self.losses[-1])


def _as_landscape(function: Landscape | str) -> Landscape:
    if isinstance(function, Landscape):
        return function
    return landscape(function)


def _check_number(owner: str, name: str, value: Any, low: float, strict: bool) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating))
          and math.isfinite(value) and (value > low if strict else value >= low))
    if not ok:
        raise ValueError(f"{owner}: {name} must be a finite number {'>' if strict else '>='} "
                         f"{low:g}, got {value!r}")
    return float(value)


def run_path(
    function: Landscape | str,
    optimizer_name: str,
    lr: float | None = None,
    steps: int | None = None,
    start: Sequence[float] | None = None,
    tol: float = 1e-4,
    options: Mapping[str, Any] | None = None,
) -> Path:
    """Run chainrule's optimizer ``optimizer_name`` on ``function`` and record its path.

    ``function`` is a name in :data:`LANDSCAPES` or a :class:`Landscape`;
    ``lr``, ``steps`` and ``start`` default to the landscape's. Each step is
    ``zero_grad(); loss = f(θ); loss.backward(); step()`` in float64, from the same
    start for every optimizer; ``options`` go to the optimizer (e.g. ``{"eps": 0}``).
    A run whose loss or point stops being finite ends there (``Path.diverged_at``).
    """
    land = _as_landscape(function)
    if optimizer_name not in OPTIMIZERS:
        raise ValueError(f"run_path: unknown optimizer {optimizer_name!r}; choose from "
                         f"{', '.join(OPTIMIZERS)}")
    lr = land.lr[optimizer_name] if lr is None else _check_number("run_path", "lr", lr, 0, False)
    steps = land.steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"run_path: steps must be an int >= 0, got {steps!r}")
    start = land.start if start is None else tuple(start)
    if len(start) != land.dim:
        raise ValueError(f"run_path: start={start!r} has {len(start)} coordinates, "
                         f"{land.name} takes {land.dim}")
    start = tuple(_check_number("run_path", "start", v, -math.inf, False) for v in start)
    target = land.goal_below(_check_number("run_path", "tol", tol, 0, True))

    theta = cr.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = make_optimizer(optimizer_name, [theta], lr, **dict(options or {}))
    points, losses = np.empty((steps + 1, land.dim)), np.empty(steps + 1)
    diverged = None
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            opt.zero_grad()
            loss = land(theta)
            points[k], losses[k] = theta.data, loss.item()
            if not (math.isfinite(losses[k]) and np.isfinite(points[k]).all()):
                diverged = k
                break
            if k < steps:
                loss.backward()
                opt.step()
    end = steps + 1 if diverged is None else diverged
    points, losses = points[:end], losses[:end]
    below = np.flatnonzero(losses < target)
    return Path(land, optimizer_name, float(lr), points, losses, target,
                int(below[0]) if below.size else None, diverged)


def largest_escaping_width(
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 0.0,
    beta: float = 2.0,
    steps: int = 3000,
    high: float = 0.01,
    grid: int = 4001,
    xtol: float = 1e-9,
) -> float:
    """The widest bump h that Adam, started at x = 0, still escapes (x > 1 + 2h within
    ``steps`` steps) on :func:`piecewise` -- the worked example ``adam_escape_local_minimum_hmax``.

    The search is a multisection: each round runs Adam (``chainrule.optim.Adam``, float64)
    on ``grid`` widths spread evenly over the bracket [lo, hi] at once -- coordinate i of
    one vector x has its own width hᵢ, and Adam treats coordinates independently -- then
    keeps [widest escaping h, first trapped h]; it starts from [0, ``high``] and stops
    when the bracket is narrower than ``xtol``; returns its lower end. Escaping must be
    monotone in h (the escaping widths of a round must come first, else ``RuntimeError``)
    and ``high`` must trap (else ``ValueError``).

    With the defaults it returns 0.002434062 = lr Σₖ₌₁..₆ (2β₁ᵏ − 1): the six steps that
    momentum still carries x forward after the gradient turns at x = 1.
    """
    _check_number("largest_escaping_width", "high", high, 0, True)
    _check_number("largest_escaping_width", "xtol", xtol, 0, True)
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 3:
        raise ValueError(f"largest_escaping_width: grid must be an int >= 3, got {grid!r}")
    lo, hi = 0.0, float(high)
    first = True
    while hi - lo > xtol:
        widths = np.linspace(lo, hi, grid)
        escaped = _adam_escapes(widths, lr, betas, eps, beta, steps)
        if first and escaped[-1]:
            raise ValueError(f"largest_escaping_width: Adam escapes even the widest bump "
                             f"high={high!r}; give a larger high")
        first = False
        k = int(np.argmin(escaped))  # the first trapped width
        if k == 0 or escaped[k:].any():
            raise RuntimeError(f"largest_escaping_width: escaping is not monotone in h on "
                               f"[{lo!r}, {hi!r}]; no single largest width")
        lo, hi = float(widths[k - 1]), float(widths[k])
    return lo


def _adam_escapes(widths: np.ndarray, lr: float, betas: tuple[float, float], eps: float,
                  beta: float, steps: int) -> np.ndarray:
    """Whether Adam escapes each bump: coordinate i of x runs on the bump of width wᵢ."""
    x = cr.tensor(np.zeros(len(widths)), requires_grad=True)
    opt = optim.Adam([x], lr=lr, betas=betas, eps=eps)
    top = 1 + 2 * widths
    escaped = np.zeros(len(widths), dtype=bool)
    for _ in range(steps):
        opt.zero_grad()
        piecewise(x, widths, beta).sum().backward()
        opt.step()
        escaped |= x.data > top
        if escaped.all():
            break
    return escaped


# ---------------------------------------------------------------------------- pictures
def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib, which is not installed: "
                          "pip install 'chainrule[plot]'") from exc
    return Figure(figsize=(width, height), dpi=100)


def _check_paths(paths: Sequence[Path], caller: str) -> Landscape:
    paths = list(paths)
    if not paths or not all(isinstance(p, Path) for p in paths):
        raise ValueError(f"{caller}: expected a non-empty list of playground.Path, got "
                         f"{paths!r:.80}")
    land = paths[0].landscape
    if any(p.landscape != land for p in paths):
        raise ValueError(f"{caller}: the paths run on different landscapes "
                         f"{sorted({p.landscape.name for p in paths})}; plot them separately")
    return land


def _colours(paths: Sequence[Path]) -> list[str]:
    """The optimizer's own colour; a repeated optimizer (another lr) takes a spare one."""
    seen: set[str] = set()
    spare = iter(_MORE_COLOURS * len(paths))
    out = []
    for p in paths:
        out.append(next(spare) if p.optimizer in seen else _COLOURS[p.optimizer])
        seen.add(p.optimizer)
    return out


def _label(p: Path) -> str:
    end = (f"diverged at step {p.diverged_at}" if p.diverged_at is not None
           else f"f = {p.final_loss:.3g}")
    return f"{p.optimizer} lr {p.lr:g}: {end}"


def _background(land: Any, ax: Any) -> None:
    """Contours (2-D) or the curve (1-D) of the landscape over its window."""
    if land.dim == 1:
        xs = np.linspace(*land.window[0], 801)
        with no_grad():
            ys = land(cr.tensor(xs[None])).numpy()
        ax.plot(xs, ys, color="black", linewidth=1, label="f")
        ax.set_xlim(*land.window[0])
        pad = 0.08 * (ys.max() - ys.min())
        ax.set_ylim(ys.min() - pad, ys.max() + pad)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        return
    (x0, x1), (y0, y1) = land.window
    gx, gy = np.meshgrid(np.linspace(x0, x1, 241), np.linspace(y0, y1, 241))
    with no_grad():
        z = land(cr.tensor(np.stack([gx, gy]))).numpy()
    if land.minimum_value is None:
        levels = np.linspace(z.min(), z.max(), 25)
    else:  # geometric levels: the valleys of rosenbrock and beale span many decades
        rise = z - land.minimum_value
        low = max(float(np.percentile(rise, 0.5)), float(rise.max()) * 1e-6)
        levels = land.minimum_value + np.geomspace(low, float(rise.max()), 25)
    ax.contour(gx, gy, z, levels=levels, cmap="viridis", linewidths=0.7, alpha=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def _draw(paths: Sequence[Path], title: str | None) -> tuple[Any, Any, list[Any]]:
    """Figure, axes and one line per path (full paths drawn), start and landmark marked."""
    land = _check_paths(paths, "plot_paths")
    fig = _figure(7.5, 5.6)
    ax = fig.subplots()
    _background(land, ax)
    lines = []
    for p, colour in zip(paths, _colours(paths)):
        xs = p.points[:, 0]
        ys = p.points[:, 1] if land.dim == 2 else p.losses
        (line,) = ax.plot(xs, ys, "-o", color=colour, markersize=2, linewidth=1.2,
                          label=_label(p))
        lines.append(line)
    start = paths[0].points[0]
    mark_y = float(start[1]) if land.dim == 2 else float(paths[0].losses[0])
    ax.plot([start[0]], [mark_y], "o", color="black", markersize=7, label="start",
            zorder=5)
    with no_grad():
        land_y = (land.landmark[1] if land.dim == 2
                  else land(cr.tensor(np.array(land.landmark))).item())
    ax.plot([land.landmark[0]], [land_y], "*", color="gold", markeredgecolor="black",
            markersize=14, label=land.landmark_label, zorder=5)
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    steps = max(p.steps for p in paths)
    ax.set_title(title or f"{land.name}: f = {land.formula}\n{steps} steps", fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.88)
    return fig, ax, lines


def plot_paths(paths: Sequence[Path], path: str | os.PathLike | None,
               title: str | None = None) -> Any:
    """Draw ``paths`` (all on one landscape) over its contours (2-D: the points θₖ) or
    its curve (1-D: the points (xₖ, f(xₖ))), one colour per optimizer, the start and the
    minimum (or saddle point, or local minimum) marked, a legend with each final loss;
    write a PNG to ``path`` (atomically) unless it is None. Returns the Figure."""
    fig, _, _ = _draw(paths, title)
    if path is not None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        atomic_write(path, buffer.getvalue())
    return fig


def animate_paths(paths: Sequence[Path], path: str | os.PathLike, frames: int = 60,
                  fps: int = 12, title: str | None = None) -> None:
    """Write an animated GIF of ``paths`` growing step by step (Pillow, which matplotlib
    depends on, writes the GIF).

    ``frames`` snapshots are spread evenly over the longest path; the last shows the
    whole paths, as :func:`plot_paths` does. The contours are drawn once and each frame
    draws only the paths over them (blitting), so a frame costs milliseconds.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"animate_paths: frames must be an int >= 2, got {frames!r}")
    if isinstance(fps, bool) or not isinstance(fps, int) or fps < 1:
        raise ValueError(f"animate_paths: fps must be a positive int, got {fps!r}")
    fig, ax, lines = _draw(paths, title)
    canvas = FigureCanvasAgg(fig)
    for line in lines:
        line.set_visible(False)
    canvas.draw()
    background = canvas.copy_from_bbox(ax.bbox)
    dim = paths[0].landscape.dim
    shown = np.unique(np.linspace(0, max(p.steps for p in paths), frames).round().astype(int))
    images = []
    for k in shown:
        canvas.restore_region(background)
        for p, line in zip(paths, lines):
            ys = p.points[: k + 1, 1] if dim == 2 else p.losses[: k + 1]
            line.set_data(p.points[: k + 1, 0], ys)
            line.set_visible(True)
            ax.draw_artist(line)
        canvas.blit(ax.bbox)
        images.append(Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB"))
    # one palette, from the last frame (it has every colour), for all: quantizing each
    # frame on its own would take most of the time
    palette = images[-1].quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0)
    atomic_write(path, buffer.getvalue())
