"""Training throughput of convolutional networks: chainrule against PyTorch, in one run.

Three networks, each trained with batch 64, float32, softmax cross-entropy and
SGD with momentum 0.9, written with each framework's public API as a user writes it:

- ``cnn28``: conv3×3(1→16)–ReLU–maxpool2–conv3×3(16→32)–ReLU–maxpool2–Linear(32·7·7→10)
  on 28×28 grey images (padding 1);
- ``cnn32``: the same on 32×32 colour images (3 input channels, Linear(32·8·8→10));
- ``resnet``: ``chainrule.models.resnet(widths=(16, 32), depth=1)`` (and the same
  network in torch) on 28×28 grey images.

The two frameworks take turns, ``--batches`` batches each, for ``--rounds``
rounds; the median round gives samples/s and the ratio. ``--threads N`` gives both
N threads (NumPy's OpenBLAS and torch); on a busy machine ``--threads 1`` gives far
steadier numbers, as two threads then spend their time waiting for each other.

    python benchmarks/bench_cnn.py --unset-openblas-env
    python benchmarks/bench_cnn.py --unset-openblas-env --threads 1
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import numpy as np
from harness import alternate, blas_environment, rerun_without_openblas

BATCH, CLASSES, LR, MOMENTUM = 64, 10, 0.01, 0.9
SHAPES = {"cnn28": (1, 28, 28), "cnn32": (3, 32, 32), "resnet": (1, 28, 28)}


def images(shape: tuple[int, ...], batches: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batches * BATCH, *shape), dtype=np.float32)
    return x, rng.integers(0, CLASSES, batches * BATCH).astype(np.int64)


def chainrule_net(name: str):
    from chainrule import models, nn

    if name == "resnet":
        return models.resnet(in_channels=1, num_classes=CLASSES, widths=(16, 32), depth=1)
    channels, size = SHAPES[name][0], SHAPES[name][1] // 4
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * size * size, CLASSES),
    )


def torch_net(name: str):
    import torch
    from torch import nn

    if name == "resnet":
        class Block(nn.Module):
            def __init__(self, cin: int, cout: int, stride: int) -> None:
                super().__init__()
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                               nn.BatchNorm2d(cout))
                                 if stride != 1 or cin != cout else nn.Identity())

            def forward(self, x):
                out = torch.relu(self.bn1(self.conv1(x)))
                return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

        class Pool(nn.Module):
            def forward(self, x):
                return x.mean(dim=(2, 3))

        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                             nn.ReLU(), Block(16, 16, 1), Block(16, 32, 2), Pool(),
                             nn.Linear(32, CLASSES))
    channels, size = SHAPES[name][0], SHAPES[name][1] // 4
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * size * size, CLASSES),
    )


def chainrule_trainer(name: str, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    import chainrule as cr
    from chainrule import optim
    from chainrule.nn import functional as F

    cr.manual_seed(0)
    model = chainrule_net(name)
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    batches = [(cr.tensor(x[i:i + BATCH]), cr.tensor(y[i:i + BATCH]))
               for i in range(0, len(x), BATCH)]

    def run() -> float:
        for xb, yb in batches:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    return run


def torch_trainer(name: str, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    import torch
    from torch.nn import functional as F

    torch.manual_seed(0)
    model = torch_net(name)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    batches = [(torch.from_numpy(x[i:i + BATCH]), torch.from_numpy(y[i:i + BATCH]))
               for i in range(0, len(x), BATCH)]

    def run() -> float:
        for xb, yb in batches:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per framework")
    parser.add_argument("--batches", type=int, default=20, help="batches of 64 per round")
    parser.add_argument("--networks", default="cnn28,cnn32,resnet",
                        help="comma-separated: cnn28, cnn32, resnet")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="re-run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of NumPy's BLAS and of torch (default: their own)")
    args = parser.parse_args()
    rerun_without_openblas()
    blas_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if args.threads is not None and blas_threads != str(args.threads):
        # OpenBLAS reads its thread count when NumPy loads it: start again with it set
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(args.threads)}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)

    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"batch {BATCH}, float32, SGD momentum; median of {args.rounds} rounds of "
          f"{args.batches} batches")
    print(f"numpy {np.__version__} (OPENBLAS_NUM_THREADS={blas_threads or 'unset'}), "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"{blas_environment()}")
    for name in args.networks.split(","):
        x, y = images(SHAPES[name], args.batches)
        seconds = alternate({"chainrule": chainrule_trainer(name, x, y),
                             "pytorch": torch_trainer(name, x, y)}, args.rounds)
        ours, theirs = (len(x) / seconds[k] for k in ("chainrule", "pytorch"))
        print(f"{name:<7} chainrule {ours:>8,.0f} samples/s   pytorch {theirs:>8,.0f} "
              f"samples/s   ratio {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
