"""Per-op timing: how long each primitive spends in forward and in backward.

Use it as a context manager::

    with chainrule.profiler.profile() as prof:
        loss = model(x).sum(); loss.backward()
    print(prof.table())

or set ``CHAINRULE_PROFILE=1`` in the environment: the whole process is then
profiled and the table is printed to stderr at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Profile", "profile", "active"]


@dataclass
class OpStats:
    """Call count and total seconds of one op in one direction."""

    calls: int = 0
    seconds: float = 0.0


class Profile:
    """Collects :class:`OpStats` keyed by (op name, "forward" | "backward")."""

    def __init__(self) -> None:
        self.stats: dict[tuple[str, str], OpStats] = {}

    @contextlib.contextmanager
    def timing(self, op: str, direction: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            entry = self.stats.setdefault((op, direction), OpStats())
            entry.calls += 1
            entry.seconds += time.perf_counter() - start

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


active: Profile | None = None


@contextlib.contextmanager
def profile() -> Iterator[Profile]:
    """Record per-op forward and backward times inside the ``with`` block."""
    global active
    previous, active = active, Profile()
    try:
        yield active
    finally:
        active = previous


def _profile_from_environment() -> None:
    global active
    if os.environ.get("CHAINRULE_PROFILE", "") not in ("", "0"):
        active = Profile()
        session = active
        atexit.register(lambda: print(session.table(), file=sys.stderr))


_profile_from_environment()
