"""MNIST-1D ("Scaling down deep learning", Greydanus & Kobak): an MLP and a 1-D CNN.

The paper reports about 68% test accuracy for an MLP and 94% for a CNN on the
default dataset (4,000 training and 1,000 test signals of length 40, generated
offline by the authors' ``mnist1d`` package: ``pip install "chainrule[data]"``).
This script trains both with chainrule and prints their test accuracy:

    python examples/mnist1d_accuracy.py            # both models, a few minutes on 2 cores
    python examples/mnist1d_accuracy.py --model mlp

An accuracy run, not a test: it takes minutes, so the test suite does not run it.
"""

from __future__ import annotations

import argparse
import time

import chainrule as cr
from chainrule import models, nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.datasets import load_mnist1d
from chainrule.train import evaluate, fit

RECIPES = {  # model, epochs, learning rate, weight decay
    "mlp": (lambda: models.mlp(40, hidden=(256, 256), num_classes=10, dropout=0.3), 60, 2e-3,
            0.05),
    "cnn": (lambda: models.cnn(1, 10, 40, channels=(32, 64, 128), hidden=(128,), kernel_size=5,
                               dropout=0.2, batch_norm=True), 30, 2e-3, 0.01),
}


def train(name: str, seed: int = 0) -> float:
    """Test accuracy of ``name`` trained with AdamW and a cosine schedule, batch 100."""
    (x_train, y_train), (x_test, y_test) = load_mnist1d()
    build, epochs, lr, weight_decay = RECIPES[name]
    cr.manual_seed(seed)
    model = build()
    optimizer = optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=100, shuffle=True, seed=seed)
    test = DataLoader(TensorDataset(x_test, y_test), batch_size=1000)
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, scheduler=schedule,
        verbose=0)
    return evaluate(model, test, nn.CrossEntropyLoss())["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=[*RECIPES, "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in RECIPES if args.model == "both" else [args.model]:
        start = time.perf_counter()
        accuracy = train(name, args.seed)
        print(f"{name}: test accuracy {accuracy:.4f} ({RECIPES[name][1]} epochs, "
              f"{time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
