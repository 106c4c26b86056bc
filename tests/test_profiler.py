"""The per-op profiler: counts per op and direction, a sorted table, the env var."""

import os
import subprocess
import sys

import numpy as np

import chainrule as cr
from chainrule import profiler


def test_profile_counts_forward_and_backward_per_op():
    x = cr.tensor(np.ones((3, 4)), requires_grad=True)
    w = cr.tensor(np.ones((4, 2)), requires_grad=True)
    with profiler.profile() as prof:
        h = (x @ w).exp()
        loss = (h * h).sum() + h.sum()
        loss.backward()
    calls = {key: stats.calls for key, stats in prof.stats.items()}
    assert calls == {
        ("MatMul", "forward"): 1, ("MatMul", "backward"): 1,
        ("Exp", "forward"): 1, ("Exp", "backward"): 1,
        ("Mul", "forward"): 1, ("Mul", "backward"): 1,
        ("Sum", "forward"): 2, ("Sum", "backward"): 2,
        ("Add", "forward"): 1, ("Add", "backward"): 1,
    }
    assert all(s.seconds >= 0 for s in prof.stats.values())
    assert prof.total_seconds() == sum(s.seconds for s in prof.stats.values())
    assert profiler.active is None  # switched off after the block
    (x * 2).sum()  # not recorded
    assert ("Mul", "forward") in prof.stats and prof.stats[("Mul", "forward")].calls == 1


def test_table_is_sorted_by_time_and_has_one_row_per_op_and_pass():
    prof = profiler.Profile()
    prof.stats[("Fast", "forward")] = profiler.OpStats(calls=4, seconds=0.001)
    prof.stats[("Slow", "backward")] = profiler.OpStats(calls=2, seconds=0.5)
    prof.stats[("Mid", "forward")] = profiler.OpStats(calls=1, seconds=0.1)
    lines = prof.table().splitlines()
    assert lines[0].split() == ["op", "pass", "calls", "total", "ms", "per", "call", "us", "%"]
    assert [line.split()[0] for line in lines[1:]] == ["Slow", "Mid", "Fast"]
    slow = lines[1].split()
    assert slow[1:4] == ["backward", "2", "500.000"] and float(slow[4]) == 250000.0
    assert len(prof.table(limit=2).splitlines()) == 3


def test_no_grad_forward_is_profiled_without_backward():
    with profiler.profile() as prof, cr.no_grad():
        cr.tensor([1.0, 2.0]).exp()
    assert {k: s.calls for k, s in prof.stats.items()} == {("Exp", "forward"): 1}


def test_environment_variable_profiles_the_whole_process():
    script = (
        "import chainrule as cr\n"
        "x = cr.tensor([1.0, 2.0], requires_grad=True)\n"
        "for _ in range(3):\n"
        "    (x.exp() * x).sum().backward()\n"
    )
    env = dict(os.environ, CHAINRULE_PROFILE="1")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    rows = {tuple(line.split()[:3]) for line in done.stderr.splitlines()[1:]}
    assert done.stderr.splitlines()[0].split()[:3] == ["op", "pass", "calls"]
    for op in ("Exp", "Mul", "Sum"):
        assert (op, "forward", "3") in rows and (op, "backward", "3") in rows
    env["CHAINRULE_PROFILE"] = "0"
    quiet = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=120, check=True)
    assert quiet.stderr == ""
