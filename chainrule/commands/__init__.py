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
