"""Per-step overhead of a tiny MLP: chainrule against PyTorch, in one run.

One step is ``opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward();
opt.step()`` for an MLP 64-32-10 (Linear, ReLU, Linear) on one fixed batch of 8
float32 samples, with SGD and momentum 0.9. The matrices are so small that the
time is the framework's own: building the graph, running the engine, the modules
and the optimizer. The two frameworks take turns, ``--steps`` steps each, for
``--rounds`` rounds; the median round of each gives µs/step, steps/s and the
ratio. PyTorch runs with its default number of threads.

    python benchmarks/bench_tiny.py                 # OPENBLAS_* variables as set
    python benchmarks/bench_tiny.py --unset-openblas-env

``--unset-openblas-env`` re-runs this script in a process without
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (both removed together: they slow
NumPy's BLAS on this machine); PyTorch's own BLAS ignores them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from harness import alternate, blas_environment, rerun_without_openblas

FEATURES, HIDDEN, CLASSES, BATCH = 64, 32, 10, 8
LR, MOMENTUM = 0.01, 0.9


def batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One batch of Gaussian inputs and random labels."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, FEATURES), dtype=np.float32)
    return x, rng.integers(0, CLASSES, BATCH).astype(np.int64)


def chainrule_trainer(x: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
    """``run(steps)``: that many training steps in chainrule; returns the last loss."""
    import chainrule as cr
    from chainrule import nn, optim

    F = nn.functional
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = cr.tensor(x), cr.tensor(y)

    def run(steps: int) -> float:
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
        return loss.item()

    return run


def torch_trainer(x: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
    """``run(steps)``: that many training steps in PyTorch; returns the last loss."""
    import torch
    from torch import nn, optim

    F = nn.functional
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run(steps: int) -> float:
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(xt), yt)
            loss.backward()
            opt.step()
        return loss.item()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per framework")
    parser.add_argument("--steps", type=int, default=2000, help="training steps per round")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="re-run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    args = parser.parse_args()
    rerun_without_openblas()

    import torch

    x, y = batch()
    trainers = {"chainrule": chainrule_trainer(x, y), "pytorch": torch_trainer(x, y)}
    seconds = alternate({name: lambda run=run: run(args.steps) for name, run in trainers.items()},
                        args.rounds)

    blas = blas_environment()
    print(f"MLP {FEATURES}-{HIDDEN}-{CLASSES}, batch {BATCH}, float32, cross-entropy, SGD "
          f"momentum; forward + backward + step; median of {args.rounds} rounds of "
          f"{args.steps} steps")
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads, its default), {blas}")
    rate = {name: args.steps / s for name, s in seconds.items()}
    for name, r in rate.items():
        print(f"{name:<10} {1e6 / r:>8.1f} µs/step {r:>10,.0f} steps/s")
    print(f"ratio chainrule/pytorch (steps/s): {rate['chainrule'] / rate['pytorch']:.2f}x")


if __name__ == "__main__":
    main()
