"""The ``chainrule`` subcommands beyond ``train`` and ``summary``, one module each.

Each module here defines ``register(commands)``, which adds its parser to the
``argparse`` sub-parsers ``commands`` and sets ``run=`` (a function of the parsed
arguments returning the exit status) with ``set_defaults``. ``chainrule.cli``
registers every module of this package, in alphabetical order.
"""

import importlib
import pkgutil
from typing import Any


def register_all(commands: Any) -> None:
    """Add the parser of every command module of this package to ``commands``."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}").register(commands)
