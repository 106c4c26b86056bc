"""The ``chainrule`` subcommands beyond ``train`` and ``summary``, one module each.

Each module here defines ``register(commands)``, which adds its parser to the
``argparse`` sub-parsers ``commands`` and sets ``run=`` (a function of the parsed
arguments returning the exit status) with ``set_defaults``. ``chainrule.cli``
registers every module of this package, in alphabetical order.
"""

import importlib
import os
import pkgutil
import time
from typing import Any

RUNS = "runs"


def register_all(commands: Any) -> None:
    """Add the parser of every command module of this package to ``commands``."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}").register(commands)


def output_directory(out: str | None, name: str, command: str) -> str:
    """``out``, or a new ``runs/<YYYYmmdd-HHMMSS>-<name>`` (``-2``, ``-3`` ... if taken),
    created; a directory that cannot be made is a one-line error of ``chainrule command``."""
    if out is None:
        base = out = os.path.join(RUNS, f"{time.strftime('%Y%m%d-%H%M%S')}-{name}")
        n = 1
        while os.path.exists(out):
            n += 1
            out = f"{base}-{n}"
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"chainrule {command}: --out {out}: cannot create the directory: "
                         f"{exc.strerror or exc}") from None
    return out


def missing_directories(path: str) -> list[str]:
    """The directories of ``path`` that do not exist yet, the deepest first: what a run
    writing there is about to create."""
    missing = []
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        missing.append(path)
        path = os.path.dirname(path)
    return missing


def remove_empty(directories: list[str]) -> None:
    """Remove ``directories`` (the deepest first) while they are empty: what a run that
    failed before writing anything made."""
    for directory in directories:
        try:
            os.rmdir(directory)
        except OSError:
            return
