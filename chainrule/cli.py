"""The ``chainrule`` command: ``chainrule train`` and ``chainrule summary``.

``chainrule train`` splits the dataset into train/validation/test (stratified,
fixed by ``--seed``), trains with early stopping on the validation loss, prints
one line per epoch and, last, ``test accuracy 0.9812  macro-F1 0.9809``. Into
``--out`` it writes ``model.safetensors`` (a checkpoint, rewritten after every
epoch, with the optimizer, scheduler and random states), ``history.json`` and the
plots ``learning_curves.png`` and ``confusion_matrix.png``. ``--resume DIR``
continues DIR's run up to ``--epochs`` epochs in total, ending with exactly the
weights an uninterrupted run would have.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import chainrule
from chainrule import io, metrics, nn
from chainrule.data import DataLoader, TensorDataset, train_val_test_split
from chainrule.train.callbacks import EarlyStopping, ModelCheckpoint, PrintLogs
from chainrule.train.fit import fit, predict, resume
from chainrule.train.recipes import (
    DATASETS,
    DEFAULT_LR,
    MODELS,
    OPTIMIZERS,
    SCHEDULES,
    build_model,
    build_optimizer,
    build_scheduler,
)

DEFAULTS: dict[str, Any] = {
    "model": "mlp", "dataset": "digits", "hidden": [512, 256], "dropout": 0.3,
    "epochs": 60, "batch_size": 32, "optimizer": "adam", "lr": None, "weight_decay": 0.0,
    "schedule": "none", "patience": 20, "seed": 0, "val_size": 0.1, "test_size": 0.2,
}
# the flags a resumed run may change; the others must match the checkpointed run's config
RESUME_MAY_CHANGE = ("epochs",)
CHECKPOINT = "model.safetensors"


# ----------------------------------------------------------------------------- parser
def _number(text: str, kind: type, valid: Callable[[Any], bool], expected: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def _non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def _non_negative_float(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < float("inf"), "a finite number >= 0")


def _probability(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < 1, "a probability in [0, 1)")


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive sizes such as "
                                         f"128,64, got {text!r}")
    return sizes


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=MODELS, default=None,
                   help=f"architecture (default {DEFAULTS['model']})")
    p.add_argument("--dataset", choices=sorted(DATASETS), default=None,
                   help=f"dataset (default {DEFAULTS['dataset']}: 1797 8x8 handwritten digits)")
    p.add_argument("--hidden", type=_hidden, default=None, metavar="H1,H2,...",
                   help="hidden layer sizes of the mlp (default "
                        f"{','.join(map(str, DEFAULTS['hidden']))})")
    p.add_argument("--dropout", type=_probability, default=None, metavar="P",
                   help=f"dropout probability after each hidden layer (default "
                        f"{DEFAULTS['dropout']})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: train and inspect models on bundled datasets.",
        epilog="Run 'chainrule <command> --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    train = commands.add_parser(
        "train", help="train a model; write checkpoint, history and plots",
        description="Train a model on a stratified 70/10/20 train/validation/test split "
                    "fixed by --seed, with early stopping on the validation loss. Prints one line "
                    "per epoch and last 'test accuracy A  macro-F1 F'. Writes into --out: "
                    "model.safetensors (a checkpoint updated every epoch: weights, "
                    "optimizer, scheduler and random states), history.json (per-epoch "
                    "metrics, test metrics, configuration), learning_curves.png and "
                    "confusion_matrix.png (plots need matplotlib).",
    )
    _add_model_arguments(train)
    train.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                       help=f"total number of epochs (default {DEFAULTS['epochs']}; with "
                            "--resume: the total including the epochs already run)")
    train.add_argument("--batch-size", type=_positive_int, default=None, metavar="B",
                       help=f"mini-batch size (default {DEFAULTS['batch_size']})")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                       help=f"optimizer (default {DEFAULTS['optimizer']}); momentum and "
                            "nesterov are SGD with momentum 0.9")
    train.add_argument("--lr", type=_non_negative_float, default=None, metavar="X",
                       help="learning rate (default per optimizer: "
                            + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    train.add_argument("--weight-decay", type=_non_negative_float, default=None, metavar="X",
                       help="weight decay: L2 added to the gradient, decoupled for adamw "
                            f"(default {DEFAULTS['weight_decay']})")
    train.add_argument("--schedule", choices=SCHEDULES, default=None,
                       help="learning-rate schedule: step (x0.1 every third of the epochs), "
                            "cosine (annealed to 0), plateau (x0.5 when the validation loss "
                            f"stalls) (default {DEFAULTS['schedule']})")
    train.add_argument("--patience", type=_non_negative_int, default=None, metavar="N",
                       help="early stopping: epochs without validation-loss improvement "
                            f"before stopping, 0 to disable (default {DEFAULTS['patience']})")
    train.add_argument("--seed", type=_non_negative_int, default=None, metavar="S",
                       help=f"seed for the split, initialisation and shuffling (default "
                            f"{DEFAULTS['seed']})")
    train.add_argument("--out", default=None, metavar="DIR",
                       help="output directory (default runs/latest; with --resume: the "
                            "resumed directory)")
    train.add_argument("--resume", default=None, metavar="DIR",
                       help="continue the run saved in DIR (its configuration; only "
                            "--epochs, --out and --quiet may be given anew)")
    train.add_argument("--quiet", action="store_true",
                       help="print only the final test line (no progress bar or epoch lines)")

    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes and parameter counts",
        description="Print the layer-by-layer summary (chainrule.nn.summary) of a model "
                    "sized for a dataset.",
    )
    _add_model_arguments(summary)
    return parser


# ----------------------------------------------------------------------------- train
def _config(args: argparse.Namespace, stored: dict[str, Any] | None) -> dict[str, Any]:
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}
    if stored is None:
        config = {**DEFAULTS, **given}
    else:
        clash = {k: (v, stored.get(k)) for k, v in given.items()
                 if k not in RESUME_MAY_CHANGE and v != stored.get(k)}
        if clash:
            detail = ", ".join(f"--{k.replace('_', '-')} {v!r} (run has {s!r})"
                               for k, (v, s) in clash.items())
            raise SystemExit(f"chainrule train: --resume continues the saved configuration; "
                             f"cannot change {detail}")
        config = {**stored, **given}
    if config["lr"] is None:
        config["lr"] = DEFAULT_LR[config["optimizer"]]
    return config


def _train(args: argparse.Namespace) -> int:
    stored = None
    if args.resume is not None:
        checkpoint = os.path.join(args.resume, CHECKPOINT)
        if not os.path.isfile(checkpoint):
            raise SystemExit(f"chainrule train: --resume {args.resume}: no {CHECKPOINT} there")
        try:
            stored = io.checkpoint_extra(checkpoint)["config"]
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"chainrule train: --resume {args.resume}: cannot read "
                             f"{CHECKPOINT}: {exc}") from None
    config = _config(args, stored)
    out = args.out or args.resume or os.path.join("runs", "latest")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise SystemExit(f"chainrule train: --out {out}: cannot create the directory: "
                         f"{exc.strerror or exc}") from None
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    started = time.perf_counter()

    chainrule.manual_seed(config["seed"])
    load, shape, _ = DATASETS[config["dataset"]]
    X, y = load()
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        X, y, val_size=config["val_size"], test_size=config["test_size"], stratify=y,
        seed=config["seed"])
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=config["batch_size"],
                              shuffle=True, seed=config["seed"])
    val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=512)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=512)
    model = build_model(config["model"], config["dataset"], config["hidden"], config["dropout"])
    optimizer = build_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                config["weight_decay"])
    scheduler = build_scheduler(config["schedule"], optimizer, config["epochs"],
                                config["patience"])
    callbacks: list[Any] = []
    if config["patience"] > 0:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=config["patience"]))
    path = os.path.join(out, CHECKPOINT)
    callbacks.append(ModelCheckpoint(path, save_best_only=False, extra={"config": config}))
    if not args.quiet:
        callbacks.append(PrintLogs())
    say(f"{config['dataset']}: {len(y_train)} train / {len(y_val)} validation / "
        f"{len(y_test)} test samples; {config['model']} with "
        f"{sum(p.numel() for p in model.parameters())} parameters; {config['optimizer']} "
        f"lr {config['lr']:g}")

    history = None
    epochs = config["epochs"]
    if args.resume is not None:
        history, stopped = resume(os.path.join(args.resume, CHECKPOINT), model, optimizer,
                                  scheduler, train_loader, callbacks)
        say(f"resumed {args.resume} after epoch {len(history)}")
        if config["schedule"] in ("step", "cosine") and config["epochs"] != stored["epochs"]:
            say(f"note: the {config['schedule']} schedule keeps the {stored['epochs']}-epoch "
                f"plan it was built with (--epochs {config['epochs']} changes only the length)")
        if stopped:
            say(f"the run had stopped early at epoch {len(history)}; not training further")
            epochs = len(history)
        elif epochs <= len(history):
            say(f"the run already has {len(history)} epochs (--epochs {epochs}); "
                f"not training further")
        if os.path.abspath(path) != os.path.abspath(os.path.join(args.resume, CHECKPOINT)):
            with open(os.path.join(args.resume, CHECKPOINT), "rb") as f:
                io.atomic_write(path, f.read())  # never a half-copied checkpoint
    try:
        history = fit(model, nn.functional.cross_entropy, optimizer, train_loader, val_loader,
                      epochs=max(epochs, len(history or ())), scheduler=scheduler,
                      callbacks=callbacks, metrics=("accuracy",), progress=not args.quiet,
                      history=history)
    except KeyboardInterrupt:
        print(f"\ninterrupted; {path} holds the last completed epoch: continue with "
              f"'chainrule train --resume {out}'", file=sys.stderr)
        return 130

    stopper = next((cb for cb in callbacks if isinstance(cb, EarlyStopping)), None)
    if stopper is not None and stopper.stopped_epoch:
        say(f"early stopping after epoch {stopper.stopped_epoch}: val_loss last improved at "
            f"epoch {stopper.best_epoch} ({stopper.best:.4f})")
    y_pred = predict(model, test_loader).argmax(axis=1)
    test = {"accuracy": metrics.accuracy(y_test, y_pred),
            "f1_macro": metrics.f1_score(y_test, y_pred, average="macro")}
    record = {**history.to_dict(), "test": test, "config": config}
    io.atomic_write(os.path.join(out, "history.json"),
                    (json.dumps(record, indent=2) + "\n").encode())
    try:
        from chainrule.train.plots import plot_confusion_matrix, plot_learning_curves

        plot_learning_curves(history, os.path.join(out, "learning_curves.png"),
                             title=f"{config['model']} on {config['dataset']}")
        plot_confusion_matrix(metrics.confusion_matrix(y_test, y_pred),
                              os.path.join(out, "confusion_matrix.png"),
                              title=f"{config['dataset']} test set")
        say(f"wrote {CHECKPOINT}, history.json, learning_curves.png, confusion_matrix.png "
            f"to {out}")
    except ImportError as exc:
        say(f"wrote {CHECKPOINT} and history.json to {out}; plots skipped: {exc}")
    say(f"{len(history)} epochs in {time.perf_counter() - started:.1f}s")
    print(f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['f1_macro']:.4f}", flush=True)
    return 0


# ----------------------------------------------------------------------------- summary
def _summary(args: argparse.Namespace) -> int:
    config = {k: getattr(args, k) if getattr(args, k) is not None else DEFAULTS[k]
              for k in ("model", "dataset", "hidden", "dropout")}
    model = build_model(config["model"], config["dataset"], config["hidden"], config["dropout"])
    _, shape, _ = DATASETS[config["dataset"]]
    print(nn.summary(model, shape))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "train":
        return _train(args)
    return _summary(args)


if __name__ == "__main__":
    sys.exit(main())
