"""Per-op timing: how long each primitive spends in forward and in backward.

Use it as a context manager::

    with chainrule.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.table())

or set ``CHAINRULE_PROFILE=1`` in the environment: the whole process is then
profiled and the table is printed to stderr at exit. The profiler is an engine
:class:`~chainrule.function.Observer`: the engine does not know it is there.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chainrule.function import Function, Observer, add_observer, observe

__all__ = ["Profile", "profile", "active"]


@dataclass
class OpStats:
    """Call count and total seconds of one op in one direction."""

    calls: int = 0
    seconds: float = 0.0


class Profile(Observer):
    """Collects :class:`OpStats` keyed by (op name, "forward" | "backward")."""

    def __init__(self) -> None:
        self.stats: dict[tuple[str, str], OpStats] = {}

    def _timed(self, op: str, direction: str, run: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return run()
        finally:
            entry = self.stats.setdefault((op, direction), OpStats())
            entry.calls += 1
            entry.seconds += time.perf_counter() - start

    def forward(self, op: type[Function], run: Callable[[], Any]) -> Any:
        return self._timed(op.__name__, "forward", run)

    def backward(self, node: Function, run: Callable[[], Any]) -> Any:
        return self._timed(type(node).__name__, "backward", run)

    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.stats.values())

    def table(self, limit: int | None = None) -> str:
        """The ops sorted by time spent, slowest first, as a text table."""
        rows = sorted(self.stats.items(), key=lambda kv: kv[1].seconds, reverse=True)
        if limit is not None:
            rows = rows[:limit]
        total = self.total_seconds() or 1.0
        lines = [f"{'op':<24}{'pass':<10}{'calls':>8}{'total ms':>12}{'per call us':>13}{'%':>7}"]
        for (op, direction), s in rows:
            lines.append(
                f"{op:<24}{direction:<10}{s.calls:>8}{s.seconds * 1e3:>12.3f}"
                f"{s.seconds / s.calls * 1e6:>13.1f}{100 * s.seconds / total:>7.1f}"
            )
        return "\n".join(lines)


active: Profile | None = None  # the innermost profile() running, if any


@contextlib.contextmanager
def profile() -> Iterator[Profile]:
    """Record per-op forward and backward times inside the ``with`` block."""
    global active
    previous, active = active, Profile()
    try:
        with observe(active):
            yield active
    finally:
        active = previous


def _profile_from_environment() -> None:
    if os.environ.get("CHAINRULE_PROFILE", "") not in ("", "0"):
        session = Profile()
        add_observer(session)  # for the whole process
        atexit.register(lambda: print(session.table(), file=sys.stderr))


_profile_from_environment()
