"""Accuracy runs of `chainrule train`: the figures of the README, reproduced.

Each experiment is a list of `chainrule train` command lines, run one after the
other in a fresh process; the table gives, for each run, the tested epoch (the
lowest validation loss), the accuracy of that epoch's weights on the training
split (as trained on: after --train-subset, without augmentation, in eval mode),
on the validation and test splits, and the wall time of the command.

    python benchmarks/accuracy.py digits-cnn
    python benchmarks/accuracy.py mnist --data-dir ../shared/data/mnist
    python benchmarks/accuracy.py cnn-vs-resnet --data-dir ../shared/data/mnist

`--unset-openblas-env` runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
(they slow NumPy's BLAS on some machines). Runs go to --out (default: a new
temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from harness import rerun_without_openblas

import chainrule
from chainrule import io
from chainrule.train.fit import predict
from chainrule.train.recipes import build_model, prepare_data

SUBSET = ["--train-subset", "5000", "--epochs", "12"]
CNN = ["--model", "cnn", "--channels", "16,32", "--weight-decay", "0"]
RESNET = ["--model", "resnet", "--channels", "8,16,32", "--depth", "1"]
EXPERIMENTS: dict[str, dict[str, list[str]]] = {
    "digits-cnn": {"cnn": ["--model", "cnn", "--dataset", "digits"]},
    "mnist": {
        "mlp": ["--model", "mlp", "--dataset", "mnist"],
        "cnn": [*CNN, "--dataset", "mnist", "--augment", "--schedule", "cosine",
                "--epochs", "10"],
    },
    "cnn-vs-resnet": {
        "cnn": [*CNN, "--dataset", "mnist", *SUBSET],
        "cnn --augment": [*CNN, "--dataset", "mnist", "--augment", *SUBSET],
        "resnet": [*RESNET, "--dataset", "mnist", *SUBSET],
        "resnet --augment": [*RESNET, "--dataset", "mnist", "--augment", *SUBSET],
    },
}
NEEDS_DATA_DIR = {"mnist", "cnn-vs-resnet"}


def train_accuracy(run: str) -> float:
    """Accuracy of the run's best weights on its training split (no augmentation)."""
    config = json.load(open(os.path.join(run, "history.json")))["config"]
    data = prepare_data(config["dataset"], config["data_dir"], config["seed"],
                        config["val_size"], config["test_size"], config["classes"],
                        config["train_subset"])
    model = build_model(config["model"], config["dataset"], config["hidden"], config["dropout"],
                        channels=config["channels"], depth=config["depth"])
    model.load_state_dict(io.load(os.path.join(run, "best.safetensors")))
    return float((predict(model, data.x_train, batch_size=512).argmax(1) == data.y_train).mean())


def run_one(args: list[str], out: str) -> dict[str, float]:
    """Run ``chainrule train ARGS --out OUT --quiet``; its accuracies and wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "chainrule", "train", *args, "--out", out,
                    "--quiet"], check=True)
    seconds = time.perf_counter() - started
    history = json.load(open(os.path.join(out, "history.json")))
    epoch = history["test"]["epoch"]
    logs = next(e for e in history["epochs"] if e["epoch"] == epoch)
    return {"epoch": epoch, "epochs": len(history["epochs"]), "train": train_accuracy(out),
            "val": logs["val_accuracy"], "test": history["test"]["accuracy"],
            "seconds": seconds}


def main() -> None:
    rerun_without_openblas()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="the MNIST files (mnist and cnn-vs-resnet)")
    parser.add_argument("--out", default=None, metavar="DIR", help="where the runs go")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    args = parser.parse_args()
    if args.experiment in NEEDS_DATA_DIR and args.data_dir is None:
        parser.error(f"{args.experiment} needs --data-dir (the MNIST files)")
    out = args.out or tempfile.mkdtemp(prefix="chainrule-accuracy-")
    extra = ["--data-dir", args.data_dir] if args.data_dir else []
    print(f"chainrule {chainrule.__version__}, runs in {out}")
    print("| run | command | tested epoch / run | train | validation | test | wall time |")
    print("|---|---|---|---|---|---|---|")
    for name, flags in EXPERIMENTS[args.experiment].items():
        run = os.path.join(out, name.replace(" --", "-"))
        r = run_one([*flags, *extra], run)
        command = "chainrule train " + " ".join(flags)
        print(f"| {name} | `{command}` | {r['epoch']} / {r['epochs']} | {r['train']:.4f} | "
              f"{r['val']:.4f} | {r['test']:.4f} | {r['seconds']:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
