"""Training throughput of an MLP: chainrule against PyTorch, in one run.

The same network (784-256-128-10, ReLU, softmax cross-entropy, SGD with
momentum 0.9) is trained on the same 60,000 synthetic float32 samples with
batch 128. The two frameworks take turns, one epoch each, for ``--rounds``
rounds; the median epoch of each gives samples/s and the ratio.

    python benchmarks/bench_mlp.py                 # OPENBLAS_* variables as set
    python benchmarks/bench_mlp.py --unset-openblas-env

``--unset-openblas-env`` re-runs this script in a process without
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (both removed together: they slow
NumPy's BLAS on this machine); PyTorch's own BLAS ignores them.
"""

from __future__ import annotations

import argparse

import numpy as np
from harness import alternate, blas_environment, rerun_without_openblas

SAMPLES, FEATURES, CLASSES, BATCH = 60_000, 784, 10, 128
LR, MOMENTUM = 0.01, 0.9


def synthetic_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs whose class is set by a random linear teacher."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SAMPLES, FEATURES), dtype=np.float32)
    teacher = rng.standard_normal((FEATURES, CLASSES), dtype=np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def chainrule_trainer(x: np.ndarray, y: np.ndarray):
    import chainrule as cr
    from chainrule import nn, optim
    from chainrule.data import DataLoader, TensorDataset

    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(FEATURES, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, CLASSES),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, seed=0)

    def epoch() -> float:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    return epoch


def torch_trainer(x: np.ndarray, y: np.ndarray):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(FEATURES, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
        torch.nn.ReLU(), torch.nn.Linear(128, CLASSES),
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch() -> float:
        # Index batches straight from the tensors: PyTorch's fastest input path.
        order = torch.randperm(SAMPLES)
        for start in range(0, SAMPLES, BATCH):
            idx = order[start : start + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        return loss.item()

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per framework")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="re-run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    args = parser.parse_args()
    rerun_without_openblas()

    import torch

    x, y = synthetic_data()
    seconds = alternate({"chainrule": chainrule_trainer(x, y), "pytorch": torch_trainer(x, y)},
                        args.rounds)

    blas = blas_environment()
    print(f"MLP {FEATURES}-256-128-{CLASSES}, {SAMPLES} samples, batch {BATCH}, float32, "
          f"SGD momentum; median of {args.rounds} epochs")
    print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), {blas}")
    rate = {name: SAMPLES / s for name, s in seconds.items()}
    for name, r in rate.items():
        print(f"{name:<10} {r:>10,.0f} samples/s")
    print(f"ratio chainrule/pytorch: {rate['chainrule'] / rate['pytorch']:.2f}x")


if __name__ == "__main__":
    main()
