"""``chainrule optim-path``: optimizers side by side on a test landscape.

Runs each optimizer of ``--optimizers`` from the same start on ``--function`` with
chainrule's own optimizer classes (:mod:`chainrule.playground`), prints one line per
optimizer -- learning rate, final point, loss, and the step at which the loss came
within ``--tol`` of the minimum (for ``saddle`` and ``piecewise``, which are unbounded
below: fell below their goal) or ``not reached`` -- and writes
``optim-path-<function>.png`` (and with ``--gif`` an animated
``optim-path-<function>.gif``) into ``--out``::

    chainrule optim-path --function rosenbrock --optimizers sgd,momentum,adam --lr adam=0.05
    chainrule optim-path --function piecewise --width 0.15 --optimizers sgd --lr 0.3 --steps 1000
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

from chainrule import playground

COMMAND = "optim-path"


def _fail(message: str) -> SystemExit:
    return SystemExit(f"chainrule {COMMAND}: {message}")


def _number(flag: str, text: str, expected: str, low: float = -math.inf,
            strict: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise _fail(f"{flag}: expected {expected}, got {text!r}")
    return value


def _optimizers(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in playground.OPTIMIZERS]
    if not names or unknown:
        raise _fail(f"--optimizers: unknown optimizer {unknown[0] if unknown else text!r}"
                    f"; choose from {','.join(playground.OPTIMIZERS)}")
    if len(set(names)) != len(names):
        raise _fail(f"--optimizers: {text!r} names an optimizer twice")
    return names


def _learning_rates(text: str | None, names: list[str]) -> dict[str, float | None]:
    """``X`` for all, or ``name=X,name=X`` for some (the others keep their default)."""
    rates: dict[str, float | None] = {name: None for name in names}
    if text is None:
        return rates
    expected = "a number >= 0 or a list such as adam=0.1,sgd=0.001"
    if "=" not in text:
        value = _number("--lr", text, expected, 0)
        return {name: value for name in names}
    for part in text.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep:
            raise _fail(f"--lr: expected {expected}, got {text!r}")
        if name not in names:
            raise _fail(f"--lr: {name!r} is not one of the --optimizers "
                        f"({','.join(names)})")
        rates[name] = _number("--lr", value, f"a learning rate >= 0 for {name}", 0)
    return rates


def _start(text: str | None, land: playground.Landscape) -> tuple[float, ...] | None:
    if text is None:
        return None
    parts = text.split(",")
    shape = "x,y" if land.dim == 2 else "x"
    if len(parts) != land.dim:
        raise _fail(f"--start: {land.name} takes {land.dim} coordinate"
                    f"{'s' if land.dim > 1 else ''} ({shape}), got {text!r}")
    return tuple(_number("--start", p, f"finite numbers {shape}") for p in parts)


def _format_point(point: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")"


def _reached(path: playground.Path) -> str:
    if path.steps_to_tol is not None:
        return str(path.steps_to_tol)
    if path.diverged_at is not None:
        return f"diverged at step {path.diverged_at}"
    return "not reached"


def _run(args: argparse.Namespace) -> int:
    if args.function not in playground.LANDSCAPES:
        raise _fail(f"--function: unknown function {args.function!r}; choose from "
                    f"{'|'.join(playground.LANDSCAPES)}")
    width = None
    if args.width is not None:
        if args.function != "piecewise":
            raise _fail(f"--width is the bump width of --function piecewise; {args.function} "
                        f"has none")
        width = _number("--width", args.width, "a bump width > 0", 0, strict=True)
    land = playground.landscape(args.function, width)
    names = _optimizers(args.optimizers)
    rates = _learning_rates(args.lr, names)
    start = _start(args.start, land)
    steps = land.steps
    if args.steps is not None:
        try:
            steps = int(args.steps)
        except ValueError:
            steps = -1
        if steps < 1:
            raise _fail(f"--steps: expected a positive integer, got {args.steps!r}")
    tol = _number("--tol", args.tol, "a tolerance > 0", 0, strict=True)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise _fail(f"--out {args.out}: not a directory")

    paths = [playground.run_path(land, name, rates[name], steps, start, tol) for name in names]
    goal = (f"f - min < {tol:g}" if land.minimum_value is not None
            else f"f < {land.goal:g}")
    where = (f"; {land.landmark_label}" if land.minimum is not None
             else f"; unbounded below, {land.landmark_label}")
    print(f"{land.name}: f = {land.formula}; start {_format_point(tuple(paths[0].points[0]))}"
          f"{where}; {steps} steps")
    rows = [(p.optimizer, f"{p.lr:g}", _format_point(p.final_point), f"{p.final_loss:.4g}",
             _reached(p)) for p in paths]
    header = ("optimizer", "lr", "final point", "loss", f"steps to {goal}")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) if i in (0, 2) else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row[:4], widths)))
              + "  " + row[4])
    try:
        os.makedirs(args.out, exist_ok=True)
        png = os.path.join(args.out, f"optim-path-{land.name}.png")
        playground.plot_paths(paths, png)
        written = [png]
        if args.gif:
            gif = os.path.join(args.out, f"optim-path-{land.name}.gif")
            playground.animate_paths(paths, gif)
            written.append(gif)
    except ImportError as exc:
        print(f"plot skipped: {exc}")
        return 0
    except OSError as exc:
        raise _fail(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print("wrote " + " and ".join(written))
    return 0


def register(commands: Any) -> None:
    """Add ``chainrule optim-path`` to the sub-parsers ``commands``."""
    functions = "|".join(playground.LANDSCAPES)
    p = commands.add_parser(
        COMMAND, help="run optimizers on a test function; print and plot their paths",
        description="Run each optimizer from the same start on a test function with "
                    "chainrule's own optimizer classes (momentum and nesterov: SGD with "
                    "momentum 0.9), print its final point, loss and the step at which the "
                    "loss came within --tol of the minimum (saddle and piecewise are "
                    "unbounded below: the step at which f fell below -1, away from the "
                    "saddle, or below 0, past the bump), and plot the paths over the "
                    "contours (over the curve for piecewise) to DIR/optim-path-<function>"
                    ".png. Functions: " + "; ".join(
                        f"{name}: f = {land.formula}, start {land.start}"
                        for name, land in playground.LANDSCAPES.items()) + ".",
    )
    p.add_argument("--function", required=True, metavar=functions,
                   help="the test function")
    p.add_argument("--optimizers", default=",".join(playground.OPTIMIZERS),
                   metavar="LIST",
                   help=f"comma-separated, from {','.join(playground.OPTIMIZERS)} "
                        "(default: all)")
    p.add_argument("--steps", default=None, metavar="N",
                   help="steps per optimizer (default per function: "
                        + ", ".join(f"{k} {v.steps}" for k, v in playground.LANDSCAPES.items())
                        + ")")
    p.add_argument("--lr", default=None, metavar="X|NAME=X,...",
                   help="one learning rate for all, or some per optimizer such as "
                        "adam=0.1,sgd=0.001 (default per function and optimizer, see "
                        "chainrule.playground)")
    p.add_argument("--start", default=None, metavar="x,y",
                   help="start point (default per function); write a negative first "
                        "coordinate as --start=-1.2,1")
    p.add_argument("--width", default=None, metavar="H",
                   help="bump width h of piecewise (default 0.5)")
    p.add_argument("--tol", default="1e-4", metavar="T",
                   help="a run has reached the minimum when f - min < T (default 1e-4)")
    p.add_argument("--out", default=".", metavar="DIR",
                   help="directory for the plot (default: the current directory)")
    p.add_argument("--gif", action="store_true",
                   help="also write an animated GIF of the paths")
    p.set_defaults(run=_run)
