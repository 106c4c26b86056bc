"""``chainrule check-derivation FILE.py``: check a hand-derived gradient.

    chainrule check-derivation my_gradient.py [--points 5] [--seed 0]

FILE.py is a Python file that defines

- ``forward(...)``: the scalar L, computed with chainrule ops from one float64
  Tensor per input (constants belong in the file, outside the argument list);
- ``claimed(...)``: the hand-derived gradient, a NumPy function of the same inputs
  returning one array per input, in order;
- ``inputs``: the point to check at, a list of arrays (named after ``forward``'s
  parameters) or a dict name → array.

The file is run as a module (code under ``if __name__ == "__main__":`` does not
run), then :func:`chainrule.check.derivation` compares the claim with autograd at
``inputs`` and at random points and prints its report: per input, correct or wrong,
the errors, the elements that differ and the slip that explains a wrong gradient
(a sign, a transpose, a constant factor, a missing path).

Exit status: 0 when every gradient is correct, 1 when one is wrong; 1 too, with a
one-line message on stderr, for a missing file, a file that raises, or one that
lacks ``forward``, ``claimed`` or ``inputs``.
"""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path
from typing import Any

from chainrule.check import derivation

NEEDED = ("forward", "claimed", "inputs")


def register(commands: Any) -> None:
    """Add ``chainrule check-derivation`` to the sub-parsers ``commands``."""
    p = commands.add_parser(
        "check-derivation", help="check a hand-derived gradient against autograd",
        description="Run FILE.py, which defines forward (a scalar L computed with chainrule "
                    "ops from one Tensor per input), claimed (the hand-derived gradient: a "
                    "NumPy function of the same inputs returning one array per input) and "
                    "inputs (a list of arrays, or a dict name -> array). Compare the claim "
                    "with autograd at inputs and at random points, print the verdict per "
                    "input and name the slip (sign, transpose, constant factor, missing "
                    "path). Exit status 0 when every gradient is correct, 1 otherwise.",
    )
    p.add_argument("file", metavar="FILE.py", help="the file defining forward, claimed, inputs")
    p.add_argument("--points", type=int, default=5, metavar="N",
                   help="points compared: the given one and N-1 random ones (default 5)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random points (default 0)")
    p.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-9, help="absolute tolerance (default 1e-9)")
    p.set_defaults(run=_run)


def _fail(message: str) -> SystemExit:
    return SystemExit(f"chainrule check-derivation: {message}")


def _load(file: str) -> dict[str, Any]:
    """The names FILE.py defines; a missing file, an error or a missing name is a message."""
    path = Path(file)
    if not path.is_file():
        raise _fail(f"no such file: {file}")
    try:
        names = runpy.run_path(str(path), run_name="__chainrule_check__")
    except Exception as error:  # the user's file: any error it raises is reported
        raise _fail(f"{file} raised {type(error).__name__}: {error}") from None
    missing = [name for name in NEEDED if name not in names]
    if missing:
        raise _fail(f"{file} does not define {', '.join(missing)} (it must define "
                    f"forward, claimed and inputs)")
    return names


def _run(args: argparse.Namespace) -> int:
    names = _load(args.file)
    try:
        report = derivation(names["forward"], names["claimed"], names["inputs"],
                            points=args.points, seed=args.seed, rtol=args.rtol, atol=args.atol)
    except Exception as error:  # the user's functions: any error they raise is reported
        raise _fail(f"{args.file}: {type(error).__name__}: {error}") from None
    print(report)
    return 0 if report.ok else 1
