"""What every benchmark here shares: the OPENBLAS re-run and the alternating timer.

- ``rerun_without_openblas()``: with ``--unset-openblas-env``, run this same
  script again in a process without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (both
  removed together: they slow NumPy's BLAS on this machine; PyTorch's own BLAS
  ignores them), and exit with its status.
- ``alternate(runs, rounds)``: warm every run up once, then time them in turns,
  ``rounds`` times each, so that both frameworks see the same machine state;
  returns the median seconds of each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def rerun_without_openblas() -> None:
    """If ``--unset-openblas-env`` is among the arguments, re-run without it and exit."""
    if "--unset-openblas-env" not in sys.argv:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARIABLES}
    argv = [a for a in sys.argv[1:] if a != "--unset-openblas-env"]
    sys.exit(subprocess.call([sys.executable, sys.argv[0], *argv], env=env))


def blas_environment() -> dict[str, str]:
    """The OPENBLAS variables as this process sees them."""
    return {k: os.environ.get(k, "unset") for k in OPENBLAS_VARIABLES}


def alternate(runs: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each run over ``rounds`` turns, after one warm-up turn each."""
    for run in runs.values():  # warm-up: caches, BLAS threads, allocator, lazy imports
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in seconds.items()}
