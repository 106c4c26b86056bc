"""The ``chainrule`` command: ``chainrule train`` and ``chainrule summary``.

``chainrule train`` trains an mlp, cnn or resnet (``--model``) on the bundled
digits, MNIST-1D, or MNIST, Fashion-MNIST and CIFAR-10 read from ``--data-dir``
(``--dataset``; built and loaded by :mod:`chainrule.train.recipes`), optionally
with augmented training batches (``--augment``), on a stratified subset
(``--train-subset``) or some of the classes (``--classes``), or starting from
another run's weights with only the head trained (``--init-from DIR --freeze
body``). It splits the dataset into train/validation/test (stratified,
fixed by ``--seed``), trains with early stopping on the validation loss, prints
one line per epoch and, last, the test metrics of the epoch with the best
validation loss: ``test accuracy 0.9812  macro-F1 0.9809  (epoch 57, best
validation loss)``. Into its run directory (``--out``, by default a new
``runs/<time>-<model>-<dataset>`` with ``runs/latest`` pointing at it) it writes
``model.safetensors`` (a checkpoint, rewritten after every epoch, with the
optimizer, scheduler and random states), ``best.safetensors`` (the weights of the
best epoch so far), ``history.json`` and the plots ``learning_curves.png`` and
``confusion_matrix.png``. ``--resume DIR`` continues DIR's run up to ``--epochs``
epochs in total, ending with exactly the weights an uninterrupted run would have.

Failures are one line on stderr and a non-zero status: 1 for an error (a
diverged run, an unwritable or full disk, a damaged checkpoint ...), 130 after
SIGINT (Ctrl-C), 143 after SIGTERM, 141 when stdout is a closed pipe (``| head``;
the rest of the output is discarded quietly, as a process killed by SIGPIPE).
"""

from __future__ import annotations

import argparse
import errno
import inspect
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import chainrule
from chainrule import io, metrics, nn
from chainrule.commands import missing_directories, register_all, remove_empty
from chainrule.data import DataLoader, TensorDataset
from chainrule.train.callbacks import EarlyStopping, ModelCheckpoint
from chainrule.train.diagnostics import GradientFlow
from chainrule.train.fit import History, NonFiniteLossError, fit, predict, resume
from chainrule.train.lr_find import lr_find
from chainrule.train.recipes import (
    DATASETS,
    DEFAULT_LR,
    LARGE_DATASET_EPOCHS,
    MODEL_DEFAULTS,
    MODELS,
    OPTIMIZERS,
    SCHEDULES,
    DataUnavailable,
    activation_count,
    build_augmentation,
    build_model,
    build_optimizer,
    build_scheduler,
    default_epochs,
    freeze_body,
    load_body,
    parameter_count,
    prepare_data,
)
from chainrule.train.siamese import ENCODERS as SIAMESE_ENCODERS
from chainrule.train.siamese import LOSSES as SIAMESE_LOSSES
from chainrule.train.siamese import RECIPES as SIAMESE_RECIPES
from chainrule.train.siamese import ROC_PLOT, run_siamese
from chainrule.train.siamese import WEIGHTS as SIAMESE_WEIGHTS

SIAMESE_DEFAULT_LOSS = inspect.signature(run_siamese).parameters["loss"].default
# None: the model's default (recipes.MODEL_DEFAULTS), or not used by the model
DEFAULTS: dict[str, Any] = {
    "model": "mlp", "dataset": "digits", "data_dir": None, "hidden": None, "channels": None,
    "depth": None, "dropout": None, "epochs": None, "batch_size": None, "optimizer": "adam",
    "lr": None, "weight_decay": None, "schedule": None, "patience": None, "seed": 0,
    "val_size": 0.1, "test_size": 0.2, "augment": False, "train_subset": None, "classes": None,
    "init_from": None, "freeze": "none",
}
# what a checkpoint of an older chainrule, which lacks these entries, ran with
OLDER_RUNS = {"data_dir": None, "channels": None, "depth": None, "augment": False,
              "train_subset": None, "classes": None, "init_from": None, "freeze": "none"}
ARCHITECTURE = ("hidden", "channels", "depth", "dropout")  # taken from an --init-from run
# the flags a resumed run may change; the others must match the checkpointed run's config
RESUME_MAY_CHANGE = ("epochs", "data_dir")
CHECKPOINT = "model.safetensors"  # resumable: weights, optimizer, scheduler, random states
BEST = "best.safetensors"  # the weights of the epoch with the best validation loss so far
HISTORY = "history.json"
PLOTS = ("learning_curves.png", "confusion_matrix.png")
DIAGNOSTICS = ("diagnostics.json", "diagnostics.png")  # with --diagnose
RUN_FILES = (CHECKPOINT, BEST, HISTORY, *PLOTS, *DIAGNOSTICS, ROC_PLOT, SIAMESE_WEIGHTS)
RUNS = "runs"  # the parent of the default run directories
EXIT_ERROR, EXIT_BROKEN_PIPE, EXIT_SIGINT, EXIT_SIGTERM = 1, 141, 130, 143
# float32 weights, gradients and two optimizer moments, plus initialisation temporaries
BYTES_PER_PARAMETER = 24


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


def _sizes(text: str, example: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive sizes such as "
                                         f"{example}, got {text!r}")
    return sizes


def _learning_rate(text: str) -> float | str:
    return "auto" if text == "auto" else _non_negative_float(text)


def _hidden(text: str) -> list[int]:
    return _sizes(text, "128,64")


def _channels(text: str) -> list[int]:
    return _sizes(text, "32,64")


def _classes(text: str) -> list[int]:
    """``0-4``, ``5,6,7`` or ``0-2,7``: distinct class labels, in the order given."""
    classes: list[int] = []
    try:
        for part in text.split(","):
            low, sep, high = part.strip().partition("-")
            first, last = int(low), int(high) if sep else int(low)
            if first < 0 or last < first:
                raise ValueError
            classes.extend(range(first, last + 1))
    except ValueError:
        classes = []
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise argparse.ArgumentTypeError(f"expected two or more distinct class labels such as "
                                         f"0-4 or 0,1,7, got {text!r}")
    return classes


def _format_classes(classes: Sequence[int]) -> str:
    if list(classes) == list(range(classes[0], classes[-1] + 1)):
        return f"{classes[0]}-{classes[-1]}"
    return ",".join(map(str, classes))


def _defaults_help() -> str:
    parts = []
    for model, d in MODEL_DEFAULTS.items():
        sizes = [f"{k} {','.join(map(str, d[k]))}" for k in ("channels", "hidden") if d[k]]
        if d["depth"]:
            sizes.append(f"depth {d['depth']}")
        if d["dropout"] is not None:
            sizes.append(f"dropout {d['dropout']}")
        parts.append(f"{model}: {', '.join(sizes)}, {d['epochs']} epochs "
                     f"({LARGE_DATASET_EPOCHS[model]} on mnist, fashion-mnist and cifar10), "
                     f"batch size {d['batch_size']}, patience {d['patience']}, schedule "
                     f"{d['schedule']}, weight decay {d['weight_decay']:g}")
    return "; ".join(parts)


def _add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=MODELS, default=None,
                   help=f"architecture (default {DEFAULTS['model']}): a multilayer perceptron, "
                        "a convolutional network (conv-BatchNorm-ReLU-maxpool blocks, then Linear "
                        "layers) or a residual network of basic blocks")
    p.add_argument("--dataset", choices=tuple(DATASETS), default=None,
                   help=f"dataset (default {DEFAULTS['dataset']}): "
                        + "; ".join(f"{k}: {v.description}" for k, v in DATASETS.items()))
    p.add_argument("--hidden", type=_hidden, default=None, metavar="H1,H2,...",
                   help="sizes of the hidden Linear layers of the mlp and of the cnn's "
                        "classifier")
    p.add_argument("--channels", type=_channels, default=None, metavar="C1,C2,...",
                   help="channels of the cnn's convolution blocks, or widths of the resnet's "
                        "stages")
    p.add_argument("--depth", type=_positive_int, default=None, metavar="N",
                   help="basic blocks per stage of the resnet")
    p.add_argument("--dropout", type=_probability, default=None, metavar="P",
                   help="dropout probability after each hidden Linear layer (mlp, cnn)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: train and inspect models on bundled and downloaded datasets.",
        epilog="Run 'chainrule <command> --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {chainrule.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    train = commands.add_parser(
        "train", help="train a model; write checkpoint, history and plots",
        description="Train a model with early stopping on the validation loss. Splits, "
                    "stratified and fixed by --seed: digits 70/10/20 train/validation/test; "
                    "the sets that come with a test set (mnist1d, mnist, fashion-mnist, "
                    "cifar10) keep it and take 10% of their training set for validation. "
                    "Prints one line per epoch and last 'test accuracy A  macro-F1 F  (epoch "
                    "E, best validation loss)': the test set is evaluated once, on the "
                    "weights of the epoch with the lowest validation loss. Writes into the "
                    "run directory: model.safetensors (a checkpoint updated every epoch: "
                    "weights, optimizer, scheduler and random states), best.safetensors "
                    "(the weights of the best epoch), history.json (per-epoch metrics, "
                    "test metrics and tested epoch, configuration), learning_curves.png "
                    "and confusion_matrix.png (plots need matplotlib). Defaults per model: "
                    f"{_defaults_help()}. Exit status: 0 done, 1 error (e.g. the loss "
                    "diverged, the data is missing), 130 SIGINT, 143 SIGTERM, 141 stdout "
                    "closed (| head).",
    )
    _add_model_arguments(train)
    train.add_argument("--task", choices=("classify", "siamese"), default=None,
                       help="classify (the default): a classifier, as above; siamese: a "
                            "shared-weight encoder trained on digits 0-6 (see --loss), then "
                            "verification on "
                            "pairs of the unseen digits 7-9: ROC AUC, equal error rate and "
                            "accuracy at the threshold chosen on validation pairs, and "
                            "roc_curve.png (takes --dataset digits, --model mlp|cnn, --hidden, "
                            "--channels C1,C2, --epochs, --batch-size, --lr, --loss, --seed, "
                            "--out, --overwrite, --quiet)")
    train.add_argument("--loss", choices=SIAMESE_LOSSES, default=None,
                       help="--task siamese: how the encoder learns (default "
                            f"{SIAMESE_DEFAULT_LOSS}): composite, a CNN that tells apart 728 "
                            "classes made of halves of digits 0-6, rotated and mirrored "
                            "(unseen AUC 0.96-0.97, 8-10 minutes); contrastive or cosine, an MLP "
                            "on pairs of 0-6 (a few seconds, unseen AUC 0.75 / 0.55)")
    train.add_argument("--data-dir", default=None, metavar="DIR",
                       help="where the files of mnist, fashion-mnist or cifar10 are (get them "
                            "with chainrule.data.datasets.download_mnist(DIR), "
                            "download_fashion_mnist(DIR) or download_cifar10(DIR))")
    train.add_argument("--augment", action="store_true", default=None,
                       help="augment the training batches (never validation or test): "
                            "rotations up to 10 degrees of digits, rotations and shifts of "
                            "mnist, flips and shifts of fashion-mnist, padded random crops and "
                            "flips of cifar10, shifts of mnist1d signals")
    train.add_argument("--train-subset", type=_positive_int, default=None, metavar="N",
                       help="train on a stratified random subset of N samples of the "
                            "training split (fixed by --seed)")
    train.add_argument("--classes", type=_classes, default=None, metavar="LIST",
                       help="train and evaluate on these classes only, e.g. 0-4 or 0,1,7, "
                            "relabelled 0..k-1 in the order given")
    train.add_argument("--init-from", default=None, metavar="DIR",
                       help="start from the weights of the run in DIR (its best.safetensors, "
                            "else its model.safetensors): the same architecture, whose "
                            "sizes and dataset are taken from that run unless given; the "
                            "head (last Linear) is re-initialised when the number of classes "
                            "differs or with --freeze body")
    train.add_argument("--freeze", choices=("none", "body"), default=None,
                       help="body: train only the head (the last Linear) of the --init-from "
                            "model; the rest keeps its weights (and BatchNorm its running "
                            "statistics) bit for bit (default none)")
    train.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                       help="total number of epochs (default per model and dataset, see "
                            "above; with --resume: the total including the epochs already run)")
    train.add_argument("--batch-size", type=_positive_int, default=None, metavar="B",
                       help="mini-batch size (default per model)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                       help=f"optimizer (default {DEFAULTS['optimizer']}); momentum and "
                            "nesterov are SGD with momentum 0.9")
    train.add_argument("--lr", type=_learning_rate, default=None, metavar="X|auto",
                       help="learning rate (default per optimizer: "
                            + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
                            + "); auto: a tenth of the learning rate with the lowest smoothed "
                              "loss in a one-epoch sweep (chainrule.train.lr_find), which leaves "
                              "the model and optimizer as they were")
    train.add_argument("--weight-decay", type=_non_negative_float, default=None, metavar="X",
                       help="weight decay: L2 added to the gradient, decoupled for adamw "
                            "(default per model, see above)")
    train.add_argument("--schedule", choices=SCHEDULES, default=None,
                       help="learning-rate schedule: step (x0.1 every third of the epochs), "
                            "cosine (annealed to 0), plateau (x0.5 when the validation loss "
                            "stalls) (default per model, see above)")
    train.add_argument("--patience", type=_non_negative_int, default=None, metavar="N",
                       help="early stopping: epochs without validation-loss improvement "
                            "before stopping, 0 to disable (default per model)")
    train.add_argument("--seed", type=_non_negative_int, default=None, metavar="S",
                       help=f"seed for the split, subset, initialisation, shuffling and "
                            f"augmentation (default {DEFAULTS['seed']})")
    train.add_argument("--out", default=None, metavar="DIR",
                       help="run directory (default: a new runs/<time>-<model>-<dataset>, "
                            "with runs/latest pointing at it; with --resume: the resumed "
                            "directory); refused if it holds another run, unless --overwrite")
    train.add_argument("--resume", default=None, metavar="DIR",
                       help="continue the run saved in DIR (its configuration; only "
                            "--epochs, --data-dir, --out and --quiet may be given anew)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the run that --out holds (its checkpoints, history and "
                            "plots are deleted first)")
    train.add_argument("--diagnose", action="store_true",
                       help="watch the gradient flow (chainrule.train.GradientFlow): per layer "
                            "and epoch, gradient norms, update-to-weight ratios, activation "
                            "statistics, dead ReLUs and saturated units; say in plain words "
                            "when gradients vanish or explode or units die, and write "
                            "diagnostics.png and diagnostics.json")
    train.add_argument("--quiet", action="store_true",
                       help="print only the final test line (no progress bar or epoch lines)")

    summary = commands.add_parser(
        "summary", help="print a model's layers, output shapes and parameter counts",
        description="Print the layer-by-layer summary (chainrule.nn.summary) of a model "
                    "sized for a dataset's input shape (no data is read).",
    )
    _add_model_arguments(summary)
    register_all(commands)
    return parser


# ----------------------------------------------------------------------------- train
def _fail(message: str, command: str = "train") -> SystemExit:
    """The one-line error of ``chainrule train`` (stderr, exit status 1)."""
    return SystemExit(f"chainrule {command}: {message}")


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _show(key: str, value: Any) -> str:
    if isinstance(value, list):
        return _format_classes(value) if key == "classes" else ",".join(map(str, value))
    return str(value)


def _architecture_flags(config: dict[str, Any]) -> str:
    """The flags that size the model, e.g. ``--channels 64,128 --hidden 128``."""
    keys = {"mlp": ("hidden",), "cnn": ("channels", "hidden"),
            "resnet": ("channels", "depth")}[config["model"]]
    return " ".join(f"{_flag(k)} {_show(k, config[k])}" for k in keys)


def _num_classes(config: dict[str, Any]) -> int:
    classes = config["classes"]
    return DATASETS[config["dataset"]].classes if classes is None else len(classes)


def _check_applicable(config: dict[str, Any], given: dict[str, Any],
                      command: str = "train") -> None:
    """Refuse flags the chosen model or dataset does not use, and impossible classes."""
    model, dataset = config["model"], config["dataset"]
    unused = {"hidden": model == "resnet", "dropout": model == "resnet",
              "channels": model == "mlp", "depth": model != "resnet"}
    users = {"hidden": "the mlp and the cnn", "dropout": "the mlp and the cnn",
             "channels": "the cnn and the resnet", "depth": "the resnet"}
    for key, not_used in unused.items():
        if key in given and not_used:
            raise _fail(f"{_flag(key)} sizes {users[key]}; the {model} has no such setting",
                        command)
    if "data_dir" in given and not DATASETS[dataset].files:
        raise _fail(f"--data-dir is for the datasets read from files (mnist, fashion-mnist, "
                    f"cifar10); {dataset} needs none")
    if config["freeze"] == "body" and config["init_from"] is None:
        raise _fail("--freeze body trains only the head of a model loaded with --init-from DIR; "
                    "give --init-from")
    classes, count = config["classes"], DATASETS[dataset].classes
    if classes is not None and max(classes) >= count:
        raise _fail(f"--classes {_format_classes(classes)}: {dataset} has the classes "
                    f"0-{count - 1}")


def _config(args: argparse.Namespace, stored: dict[str, Any] | None,
            source: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's configuration: the flags given, then (resuming) the stored configuration
    or (with --init-from) the source run's model and dataset, then the defaults."""
    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k, None) is not None}
    if stored is None:
        config = dict(DEFAULTS)
        if source is not None:
            for key in ("model", "dataset"):
                config[key] = given.get(key, source[key])
            if config["dataset"] == source["dataset"]:
                config["data_dir"] = source["data_dir"]
            if config["model"] == source["model"]:
                config.update({k: source[k] for k in ARCHITECTURE})
        config.update(given)
        _check_applicable(config, given)
        defaults = MODEL_DEFAULTS[config["model"]]
        for key in ("hidden", "channels", "depth", "dropout", "batch_size", "patience",
                    "schedule", "weight_decay"):
            if config[key] is None:
                config[key] = defaults[key]
        if config["epochs"] is None:
            config["epochs"] = default_epochs(config["model"], config["dataset"])
    else:
        clash = {k: (v, stored.get(k)) for k, v in given.items()
                 if k not in RESUME_MAY_CHANGE and v != stored.get(k)}
        if clash:
            detail = ", ".join(f"{_flag(k)} {v!r} (run has {s!r})"
                               for k, (v, s) in clash.items())
            raise _fail(f"--resume continues the saved configuration; cannot change {detail}")
        config = {**stored, **given}
    if config["lr"] is None:
        config["lr"] = DEFAULT_LR[config["optimizer"]]
    return config


def _is_int(v: Any, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_number(v: Any, low: float, high: float) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and low <= v < high)


def _is_sizes(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(_is_int(h, 1) for h in v)


_STORED_CHECKS: dict[str, Callable[[Any], bool]] = {
    "model": lambda v: v in MODELS,
    "dataset": lambda v: isinstance(v, str) and v in DATASETS,
    "data_dir": lambda v: v is None or isinstance(v, str),
    "hidden": lambda v: v is None or _is_sizes(v),
    "channels": lambda v: v is None or _is_sizes(v),
    "depth": lambda v: v is None or _is_int(v, 1),
    "dropout": lambda v: v is None or _is_number(v, 0, 1),
    "epochs": lambda v: _is_int(v, 1),
    "batch_size": lambda v: _is_int(v, 1),
    "optimizer": lambda v: v in OPTIMIZERS,
    "lr": lambda v: v is None or _is_number(v, 0, math.inf),
    "weight_decay": lambda v: _is_number(v, 0, math.inf),
    "schedule": lambda v: v in SCHEDULES,
    "patience": lambda v: _is_int(v, 0),
    "seed": lambda v: _is_int(v, 0),
    "val_size": lambda v: _is_number(v, 1e-9, 1),
    "test_size": lambda v: _is_number(v, 1e-9, 1),
    "augment": lambda v: isinstance(v, bool),
    "train_subset": lambda v: v is None or _is_int(v, 1),
    "classes": lambda v: v is None or (isinstance(v, list) and len(v) >= 2
                                       and all(_is_int(c, 0) for c in v)
                                       and len(set(v)) == len(v)),
    "init_from": lambda v: v is None or isinstance(v, str),
    "freeze": lambda v: v in ("none", "body"),
}
_ARCHITECTURE_CHECKS = {  # which sizes each model has
    "mlp": {"hidden": True, "channels": False, "depth": False, "dropout": True},
    "cnn": {"hidden": True, "channels": True, "depth": False, "dropout": True},
    "resnet": {"hidden": False, "channels": True, "depth": True, "dropout": False},
}


def _stored_config(directory: str, flag: str = "--resume") -> dict[str, Any]:
    """The configuration saved in DIR's checkpoint, checked key by key (entries that an
    older chainrule did not write take the values it ran with)."""
    checkpoint = os.path.join(directory, CHECKPOINT)
    if not os.path.isfile(checkpoint):
        raise _fail(f"{flag} {directory}: no {CHECKPOINT} there")
    try:
        extra = io.checkpoint_extra(checkpoint)
    except (OSError, ValueError) as exc:
        raise _fail(f"{flag} {directory}: cannot read {CHECKPOINT}: {exc}") from None
    stored = extra.get("config")
    if not isinstance(stored, dict):
        use = ("resume it with chainrule.train.resume" if flag == "--resume" else
               "load its weights in Python with model.load_state_dict")
        raise _fail(f"{flag} {directory}: {CHECKPOINT} holds no 'chainrule train' "
                    f"configuration (it was written by another program, e.g. fit with a "
                    f"ModelCheckpoint); {use}")
    stored = {**OLDER_RUNS, **stored}
    bad = [f"{k} {stored.get(k, '(missing)')!r}" for k, check in _STORED_CHECKS.items()
           if k not in stored or not check(stored[k])]
    if not bad and stored["val_size"] + stored["test_size"] >= 1:
        bad = [f"val_size + test_size {stored['val_size'] + stored['test_size']!r}"]
    if not bad:
        bad = [f"{k} {stored[k]!r}" for k, has in _ARCHITECTURE_CHECKS[stored["model"]].items()
               if (stored[k] is None) == has]
    if not bad and stored["classes"] is not None:
        if max(stored["classes"]) >= DATASETS[stored["dataset"]].classes:
            bad = [f"classes {stored['classes']!r}"]
    if bad:
        use = "it cannot be resumed" if flag == "--resume" else "its weights cannot be used"
        raise _fail(f"{flag} {directory}: the configuration stored in {CHECKPOINT} is "
                    f"damaged or from another version ({', '.join(bad)}); {use}")
    return {k: stored[k] for k in DEFAULTS}


def _check_source(config: dict[str, Any], source: dict[str, Any]) -> None:
    """Refuse an --init-from run whose weights cannot fit the model to train."""
    where = f"--init-from {config['init_from']}"
    if source["model"] != config["model"]:
        raise _fail(f"{where}: that run trained a {source['model']}, not a {config['model']}; "
                    f"initialise a {config['model']} from a {config['model']} run (or leave "
                    f"out --model to train a {source['model']})")
    differ = [k for k in ("hidden", "channels", "depth") if source[k] != config[k]]
    if differ:
        raise _fail(f"{where}: that run's {source['model']} has "
                    + " ".join(f"{_flag(k)} {_show(k, source[k])}" for k in differ)
                    + ", this one " + " ".join(f"{_flag(k)} {_show(k, config[k])}"
                                               for k in differ)
                    + f"; leave out {', '.join(map(_flag, differ))} to take the run's")
    theirs, ours = DATASETS[source["dataset"]].shape, DATASETS[config["dataset"]].shape
    if theirs != ours:
        shape = "x".join
        raise _fail(f"{where}: that run trained on {source['dataset']} (inputs "
                    f"{shape(map(str, theirs))}); {config['dataset']} has inputs "
                    f"{shape(map(str, ours))}, which its weights do not fit")


def _source_weights(directory: str) -> tuple[dict[str, Any], str]:
    """The weights of DIR's best epoch (best.safetensors), else its last (model.safetensors),
    and a description of where they came from."""
    best = os.path.join(directory, BEST)
    try:
        if os.path.exists(best):
            epoch = io.load_metadata(best).get("epoch")
            return io.load(best), f"{best} (epoch {epoch})"
        state = io.load(os.path.join(directory, CHECKPOINT))
        epoch = io.checkpoint_extra(os.path.join(directory, CHECKPOINT)).get("epoch")
    except (OSError, ValueError) as exc:
        raise _fail(f"--init-from {directory}: cannot read its weights: {exc}") from None
    reserved = tuple(f"{section}." for section in ("optimizer", "scheduler", "rng", "extra"))
    return ({k: v for k, v in state.items() if not k.startswith(reserved)},
            f"{os.path.join(directory, CHECKPOINT)} (epoch {epoch}, the last)")


def _memory_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _sizes_of(config: dict[str, Any]) -> dict[str, Any]:
    return {"hidden": config["hidden"], "channels": config["channels"],
            "depth": config["depth"], "num_classes": _num_classes(config)}


def _check_size(config: dict[str, Any]) -> None:
    """Refuse, before allocating anything, a model that cannot fit in memory."""
    count = parameter_count(config["model"], config["dataset"], **_sizes_of(config))
    numbers = activation_count(config["model"], config["dataset"], **_sizes_of(config))
    # a training batch keeps outputs, masks and their gradients; evaluation: 512 at a time
    need = count * BYTES_PER_PARAMETER + max(16 * config["batch_size"], 4 * 512) * numbers
    available = _memory_available()
    if available is not None and need > available:
        flags = _architecture_flags(config)
        names = "/".join(part for part in flags.split() if part.startswith("--"))
        raise _fail(f"{flags}: the {config['model']} "
                    f"would have {count:,} parameters and need about {need / 1e9:,.1f} GB "
                    f"to train, more than the {available / 1e9:,.1f} GB of memory available; "
                    f"choose smaller {names} sizes (or a smaller --batch-size)")


def _holds_run(directory: str) -> bool:
    return any(os.path.exists(os.path.join(directory, name)) for name in (CHECKPOINT, HISTORY))


def _remove_run_files(directory: str) -> None:
    for name in RUN_FILES:
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _fail(f"--out {directory}: cannot remove {name}: "
                        f"{exc.strerror or exc}") from None


def _new_run_directory(config: dict[str, Any]) -> str:
    """``runs/<YYYYmmdd-HHMMSS>-<model>-<dataset>`` (``-2``, ``-3`` ... if taken)."""
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{config['model']}-{config['dataset']}"
    try:
        os.makedirs(RUNS, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create the directory {RUNS}: {exc.strerror or exc}") from None
    for n in range(1, 1000):
        candidate = os.path.join(RUNS, name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise _fail(f"cannot create the run directory {candidate}: "
                        f"{exc.strerror or exc}") from None
    raise _fail(f"cannot find a free run directory name {name}-N in {RUNS}")


def _point_latest(run: str) -> str:
    """Make ``runs/latest`` a symlink to ``run``; where that fails (no symlinks, or an
    older chainrule's ``runs/latest`` directory), write ``run``'s name to ``runs/LATEST``.
    Returns the path that names the newest run."""
    name = os.path.basename(run)
    link, note = os.path.join(RUNS, "latest"), os.path.join(RUNS, "LATEST")
    tmp = os.path.join(RUNS, f".latest.{os.getpid()}.tmp")
    try:
        os.symlink(name, tmp)
        try:
            os.replace(tmp, link)  # atomic: never a missing or half-made link
        except OSError:
            os.unlink(tmp)
            raise
        if os.path.exists(note):
            os.unlink(note)
        return link
    except (OSError, NotImplementedError):
        pass
    try:
        if os.path.islink(link):  # a link to an older run would mislead
            os.unlink(link)
        io.atomic_write(note, (name + "\n").encode())
        return note
    except OSError:
        return run


def _check_writable(directory: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=".chainrule-probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _fail(f"--out {directory}: cannot write there: {exc.strerror or exc}") from None


def _output_directory(args: argparse.Namespace, config: dict[str, Any],
                      resumable: bool = True) -> str:
    """The run directory, created, checked writable and not holding another run
    (``resumable``: whether the refusal may suggest ``--resume``)."""
    if args.overwrite and args.resume is not None and args.out is None:
        raise _fail("--overwrite would delete the run that --resume continues; give --out "
                    "to write the continued run elsewhere")
    if args.out is None and args.resume is None:
        return _new_run_directory(config)
    out = args.out if args.out is not None else args.resume
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise _fail(f"--out {out}: cannot create the directory: {exc.strerror or exc}") from None
    _check_writable(out)
    resuming_here = args.resume is not None and os.path.samefile(out, args.resume)
    if not resuming_here:
        if _holds_run(out) and not args.overwrite:
            resume = f"continue it with --resume {out}, " if resumable else ""
            raise _fail(f"--out {out} holds another run ({CHECKPOINT} or {HISTORY}); "
                        f"{resume}replace it with --overwrite, or choose another --out")
        _remove_run_files(out)  # with --overwrite, or leftovers of a run killed in epoch 1
    return out


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the run stops where a resumed run can continue."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


def _write_history(out: str, record: dict[str, Any]) -> None:
    io.atomic_write(os.path.join(out, HISTORY), (json.dumps(record, indent=2) + "\n").encode())


def _write_diagnostics(out: str, flow: GradientFlow) -> None:
    """--diagnose: the records as JSON, and their picture where matplotlib is installed."""
    records, picture = (os.path.join(out, name) for name in DIAGNOSTICS)
    io.atomic_write(records, (json.dumps(flow.to_dict(), indent=2) + "\n").encode())
    if flow.epochs:
        try:
            flow.plot(picture)
        except ImportError:
            print(f"chainrule train: {picture} not drawn: the plots need matplotlib "
                  "(pip install \"chainrule[plot]\")", file=sys.stderr, flush=True)


def _best_weights(model: Any, out: str, history: History) -> tuple[int, str, str | None]:
    """Load the best validation epoch's weights from best.safetensors into ``model``.

    Returns (tested epoch, how it was chosen, why not the best epoch or None). Falls
    back to the last epoch's weights (already in ``model``) when the file is missing,
    unreadable or holds another epoch (e.g. a run of an older chainrule resumed).
    """
    last = int(history.epochs[-1]["epoch"])
    if "val_loss" not in history.epochs[-1]:
        return last, "last epoch", None
    best = int(history.best("val_loss")["epoch"])
    path = os.path.join(out, BEST)
    try:
        saved = io.load_metadata(path).get("epoch")
        if saved == str(best):
            model.load_state_dict(io.load(path))
            return best, "best validation loss", None
        reason = f"{path} holds epoch {saved}, not the best epoch {best}"
    except FileNotFoundError:
        reason = f"there is no {path}"
    except (OSError, ValueError, TypeError, KeyError) as exc:
        reason = f"{path} is unusable: {exc}"
    return last, f"last epoch, not the best ({best})", reason


#: the flags of `chainrule train --task siamese`; any other is refused
SIAMESE_FLAGS = ("task", "loss", "dataset", "model", "hidden", "channels", "epochs",
                 "batch_size", "lr", "seed", "out", "overwrite", "quiet")


def _siamese(args: argparse.Namespace) -> int:
    """``chainrule train --task siamese``: :func:`chainrule.train.siamese.run_siamese`."""
    other = [_flag(k) for k, v in vars(args).items()
             if k not in (*SIAMESE_FLAGS, "command") and v not in (None, False)]
    if other:
        raise _fail(f"--task siamese does not take {', '.join(sorted(other))}")
    if args.dataset not in (None, "digits"):
        raise _fail(f"--task siamese trains on digits 0-6 and verifies on 7-9; --dataset "
                    f"{args.dataset} is not supported")
    if args.lr == "auto":
        raise _fail("--task siamese does not take --lr auto; give a number")
    if args.model not in (None, *SIAMESE_ENCODERS):
        raise _fail(f"--task siamese takes --model {' or '.join(SIAMESE_ENCODERS)} (the "
                    f"encoder), not {args.model}")
    encoder = args.model or SIAMESE_RECIPES[
        "composite" if args.loss in (None, "composite") else "pairs"]["model"]
    if encoder == "cnn" and args.hidden is not None:
        why = "--model cnn" if args.model else "the default of --loss composite"
        raise _fail(f"--task siamese: --hidden sizes the MLP encoder; the CNN encoder ({why}) "
                    f"takes --channels C1,C2")
    if encoder == "mlp" and args.channels is not None:
        raise _fail("--task siamese: --channels sizes the CNN encoder; the MLP encoder takes "
                    "--hidden H1,H2,...")
    if args.channels is not None and len(args.channels) != 2:
        raise _fail(f"--task siamese: --channels must be two numbers C1,C2 (the CNN "
                    f"encoder's), got {','.join(map(str, args.channels))}")
    if args.lr == 0:
        print("chainrule train: warning: --lr 0: a learning rate of 0 never changes the "
              "weights", file=sys.stderr, flush=True)
    given = {"epochs": args.epochs, "seed": args.seed, "lr": args.lr,
             "batch_size": args.batch_size, "hidden": args.hidden, "loss": args.loss,
             "model": args.model, "channels": args.channels}
    made = missing_directories(RUNS if args.out is None else args.out)
    out = _output_directory(args, {"model": "siamese", "dataset": "digits"}, resumable=False)
    if args.out is None:
        made.insert(0, os.path.abspath(out))
    try:
        run_siamese("digits", out_dir=out, quiet=args.quiet,
                    **{k: v for k, v in given.items() if v is not None})
    except (ValueError, FloatingPointError) as exc:
        remove_empty(made)  # nothing was written: leave none of the directories it made
        raise _fail(str(exc).removeprefix("run_siamese: ")) from None
    except KeyboardInterrupt as exc:  # files are written at the end: none yet, as a rule
        remove_empty(made)
        name = "SIGTERM" if isinstance(exc, _Terminated) else "SIGINT"
        print(f"chainrule train: interrupted ({name}) during the siamese run; a siamese run "
              f"cannot be resumed, start it again", file=sys.stderr, flush=True)
        return EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT
    latest = _point_latest(out) if args.out is None else None
    if latest not in (None, out) and not args.quiet:
        print(f"{latest} points to {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    if args.task != "siamese" and args.loss is not None:
        raise _fail("--loss is the loss of --task siamese; a classifier trains with "
                    "cross-entropy")
    installed, previous = False, None
    if threading.current_thread() is threading.main_thread():
        previous, installed = signal.signal(signal.SIGTERM, _raise_terminated), True
    try:
        return _siamese(args) if args.task == "siamese" else _run(args)
    except KeyboardInterrupt as exc:  # the phases that write files handle their own
        name = "SIGTERM" if isinstance(exc, _Terminated) else "SIGINT"
        print(f"chainrule train: interrupted ({name}) before training started; nothing "
              f"to resume", file=sys.stderr, flush=True)
        return EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _architecture_label(config: dict[str, Any]) -> str:
    """``512-256`` (mlp), ``32-64/128`` (cnn: channels/hidden), ``16-32-64x2`` (resnet)."""
    join = "-".join
    if config["model"] == "mlp":
        return join(map(str, config["hidden"]))
    if config["model"] == "cnn":
        return join(map(str, config["channels"])) + "/" + join(map(str, config["hidden"]))
    return join(map(str, config["channels"])) + f"x{config['depth']}"


def _load_data(config: dict[str, Any]) -> Any:
    try:
        return prepare_data(config["dataset"], config["data_dir"], config["seed"],
                            config["val_size"], config["test_size"], config["classes"],
                            config["train_subset"])
    except DataUnavailable as exc:
        raise _fail(str(exc)) from None
    except MemoryError:
        raise _fail(f"out of memory while loading {config['dataset']}") from None


def _run(args: argparse.Namespace) -> int:
    stored = _stored_config(args.resume) if args.resume is not None else None
    source = None
    if args.init_from is not None and stored is None:
        source = _stored_config(args.init_from, "--init-from")
    config = _config(args, stored, source)
    if source is not None:
        _check_source(config, source)
    _check_size(config)
    if config["lr"] == 0:
        print("chainrule train: warning: --lr 0: a learning rate of 0 never changes the "
              "weights", file=sys.stderr, flush=True)
    data = _load_data(config)  # before the run directory: missing data leaves nothing behind
    init = _source_weights(config["init_from"]) if source is not None else None
    out = _output_directory(args, config)
    latest = _point_latest(out) if args.out is None and args.resume is None else None
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    started = time.perf_counter()
    x_train, y_train, x_val, y_val, x_test, y_test = data
    num_classes = _num_classes(config)

    try:
        chainrule.manual_seed(config["seed"])
        augment = build_augmentation(config["dataset"]) if config["augment"] else None
        train_loader = DataLoader(TensorDataset(x_train, y_train),
                                  batch_size=config["batch_size"], shuffle=True,
                                  seed=config["seed"], transform=augment)
        val_loader = DataLoader(TensorDataset(x_val, y_val), batch_size=512)
        test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=512)
        model = build_model(config["model"], config["dataset"], config["hidden"],
                            config["dropout"], channels=config["channels"],
                            depth=config["depth"], num_classes=num_classes)
    except (MemoryError, ValueError) as exc:
        raise _fail(f"cannot build the {config['model']} with {_architecture_flags(config)}: "
                    f"{'out of memory' if isinstance(exc, MemoryError) else exc}") from None
    if init is not None:
        same_head = config["freeze"] == "none" and _num_classes(source) == num_classes
        try:
            load_body(model, init[0], head=same_head)
        except ValueError as exc:
            raise _fail(f"--init-from {config['init_from']}: {exc}") from None
        say(f"initialised from {init[1]}"
            + ("" if same_head else ", all but the head (re-initialised: "
               + ("--freeze body)" if config["freeze"] == "body" else
                  f"{_num_classes(source)} classes there, {num_classes} here)")))
    if config["freeze"] == "body":
        model = freeze_body(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    auto_lr = config["lr"] == "auto"
    try:
        optimizer = build_optimizer(config["optimizer"], trainable,
                                    DEFAULT_LR[config["optimizer"]] if auto_lr else config["lr"],
                                    config["weight_decay"])
        if auto_lr:  # before the scheduler, which records the groups' initial lr
            found = lr_find(model, nn.functional.cross_entropy, optimizer, train_loader)
            config["lr"] = found.suggestion  # a number in the checkpoint and history
            for group in optimizer.param_groups:
                group["lr"] = found.suggestion
            say(f"--lr auto: {found.suggestion:.3g} (a tenth of lr {found.best_lr:.3g}, the "
                f"lowest smoothed loss of lr_find's {len(found.lrs)}-batch sweep)")
        scheduler = build_scheduler(config["schedule"], optimizer, config["epochs"],
                                    config["patience"])
    except ValueError as exc:
        raise _fail(str(exc)) from None
    path, best_path = os.path.join(out, CHECKPOINT), os.path.join(out, BEST)
    callbacks: list[Any] = []
    stopper = None
    if config["patience"] > 0:
        stopper = EarlyStopping(monitor="val_loss", patience=config["patience"])
        callbacks.append(stopper)
    # best.safetensors is written before model.safetensors: a run killed between the two
    # redoes that epoch on --resume and writes the same best weights again
    callbacks.append(ModelCheckpoint(best_path, monitor="val_loss", save_best_only=True,
                                     save_weights_only=True))
    checkpointer = ModelCheckpoint(path, save_best_only=False, extra={"config": config})
    callbacks.append(checkpointer)
    flow = None
    if args.diagnose:  # no state of its own: checkpoints and --resume are unaffected
        flow = GradientFlow(report="print")
        callbacks.insert(0, flow)

    history = History()
    epochs = config["epochs"]
    resumed = 0
    if args.resume is not None:
        try:
            history, stopped = resume(os.path.join(args.resume, CHECKPOINT), model, optimizer,
                                      scheduler, train_loader, callbacks)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _fail(f"--resume {args.resume}: cannot continue that run: {exc}") from None
        resumed = len(history)
        if os.path.abspath(path) != os.path.abspath(os.path.join(args.resume, CHECKPOINT)):
            try:
                for name in (BEST, CHECKPOINT):  # atomic copies, the checkpoint last
                    source = os.path.join(args.resume, name)
                    if os.path.exists(source):
                        with open(source, "rb") as f:
                            io.atomic_write(os.path.join(out, name), f.read())
            except OSError as exc:
                raise _fail(f"cannot copy the run {args.resume} to {out}: "
                            f"{exc.strerror or exc}") from None
    total = sum(p.numel() for p in model.parameters())
    frozen = total - sum(p.numel() for p in trainable)
    classes, notes = config["classes"], []
    if classes is not None:
        notes.append(f"classes {_format_classes(classes)}"
                     + ("" if classes == list(range(num_classes))
                        else f" as 0-{num_classes - 1}"))
    if config["train_subset"] is not None:
        notes.append("a stratified subset for training")
    if config["augment"]:
        notes.append("training batches augmented")
    say(f"{config['dataset']}" + (f" ({'; '.join(notes)})" if notes else "")
        + f": {len(y_train)} train / {len(y_val)} validation / {len(y_test)} test samples; "
        f"{config['model']} "
        f"with {total} parameters" + (f" ({frozen} frozen)" if frozen else "")
        + f"; {config['optimizer']} lr {config['lr']:g}; writing to {out}"
        + (f" ({latest} points there)" if latest not in (None, out) else ""))
    if args.resume is not None:
        say(f"resumed {args.resume} after epoch {resumed}")
        if config["schedule"] in ("step", "cosine") and config["epochs"] != stored["epochs"]:
            say(f"note: the {config['schedule']} schedule keeps the {stored['epochs']}-epoch "
                f"plan it was built with (--epochs {config['epochs']} changes only the length)")
        if stopped:
            say(f"the run had stopped early at epoch {resumed}; not training further")
            epochs = resumed
        elif epochs <= resumed:
            say(f"the run already has {resumed} epochs (--epochs {epochs}); "
                f"not training further")

    def saved() -> int:  # the epochs that model.safetensors holds
        return checkpointer.saved_epoch or resumed

    def record(status: str, **more: Any) -> dict[str, Any]:
        return {"status": status, **History(history.epochs[:saved()]).to_dict(), **more,
                "config": config}

    def keep_history(status: str, **more: Any) -> None:
        if saved():
            try:
                _write_history(out, record(status, **more))
            except OSError:
                pass

    def interrupted(exc: KeyboardInterrupt, during: str) -> int:
        name = "SIGTERM" if isinstance(exc, _Terminated) else "SIGINT"
        if saved():
            state = (f"{path} holds epoch {saved()}: continue with "
                     f"'chainrule train --resume {out}'")
        else:
            state = "no checkpoint was written yet: nothing to resume"
        print(f"chainrule train: interrupted ({name}) {during}; {state}", file=sys.stderr,
              flush=True)
        return EXIT_SIGTERM if name == "SIGTERM" else EXIT_SIGINT

    try:
        fit(model, nn.functional.cross_entropy, optimizer, train_loader, val_loader,
            epochs=max(epochs, resumed), scheduler=scheduler, callbacks=callbacks,
            metrics=("accuracy",), verbose=0 if args.quiet else "auto", history=history)
    except KeyboardInterrupt as exc:
        keep_history("interrupted")
        return interrupted(exc, f"in epoch {len(history) + 1}"
                           if len(history) == saved() else f"while saving epoch {len(history)}")
    except BrokenPipeError:
        keep_history("interrupted")
        raise
    except NonFiniteLossError as exc:
        keep_history("diverged", error=str(exc))
        if flow is not None:  # diagnose the diverged epoch ("gradients explode ...")
            flow.on_train_end()
            _write_diagnostics(out, flow)
        where = (f"the validation loss is {exc.loss} after epoch {exc.epoch}"
                 if exc.batch is None else
                 f"the training loss became {exc.loss} at epoch {exc.epoch}, batch "
                 f"{exc.batch} of {exc.batches}")
        kept = (f"{path} keeps epoch {saved()}, the last good one" if saved()
                else "no checkpoint was written")
        raise _fail(f"{where} (lr {exc.lr:g}): training diverged; try a smaller learning rate "
                    f"such as --lr {exc.lr / 10:g}; {kept}") from None
    except MemoryError:
        keep_history("interrupted")
        names = "/".join(p for p in _architecture_flags(config).split() if p.startswith("--"))
        raise _fail(f"out of memory in epoch {len(history) + 1}; choose smaller {names} "
                    f"sizes or a smaller --batch-size") from None
    except OSError as exc:
        keep_history("interrupted")
        kept = f"{path} holds epoch {saved()}" if saved() else "no checkpoint was written"
        raise _fail(f"cannot save epoch {len(history)} to {out}: {exc.strerror or exc}"
                    + ("" if exc.errno != errno.ENOSPC else " (the disk is full)")
                    + f"; {kept}") from None

    if flow is not None:
        _write_diagnostics(out, flow)
        say("gradient flow, last epoch (diagnostics.json and diagnostics.png hold every "
            "epoch):\n" + flow.summary())
    if stopper is not None and stopper.stopped_epoch:
        say(f"early stopping after epoch {stopper.stopped_epoch}: val_loss last improved at "
            f"epoch {stopper.best_epoch} ({stopper.best:.4f})")
    during = "while testing"
    try:
        tested, chosen, reason = _best_weights(model, out, history)
        if reason is not None:
            print(f"chainrule train: warning: testing the last epoch's weights: {reason}",
                  file=sys.stderr, flush=True)
        y_pred = predict(model, test_loader).argmax(axis=1)
        test = {"epoch": tested, "chosen_by": chosen,
                "accuracy": metrics.accuracy(y_test, y_pred),
                "f1_macro": metrics.f1_score(y_test, y_pred, average="macro")}
        _write_history(out, record("finished", test=test))
        during = "while drawing the plots (the history and checkpoints are complete)"
        try:
            from chainrule.train.plots import plot_confusion_matrix, plot_learning_curves

            hidden = _architecture_label(config)
            schedule = "" if config["schedule"] == "none" else f", {config['schedule']} schedule"
            decay = f", weight decay {config['weight_decay']:g}" if config["weight_decay"] else ""
            plot_learning_curves(
                history, os.path.join(out, PLOTS[0]), tested_epoch=tested,
                lr_panel=config["schedule"] != "none",
                title=f"{config['model']} {hidden} on {config['dataset']}: "
                      f"{config['optimizer']} lr {config['lr']:g}{schedule}{decay}, "
                      f"seed {config['seed']}")
            plot_confusion_matrix(metrics.confusion_matrix(y_test, y_pred),
                                  os.path.join(out, PLOTS[1]),
                                  title=f"{config['dataset']} test set, epoch {tested} "
                                        f"({config['model']} {hidden}, seed {config['seed']})")
            say(f"wrote {CHECKPOINT}, {BEST}, {HISTORY}, {', '.join(PLOTS)} to {out}")
        except ImportError as exc:
            say(f"wrote {CHECKPOINT}, {BEST} and {HISTORY} to {out}; plots skipped: {exc}")
    except KeyboardInterrupt as exc:
        return interrupted(exc, during)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}"
                    + ("" if exc.errno != errno.ENOSPC else " (the disk is full)")
                    + f"; {path} holds all {saved()} epochs") from None
    say(f"{len(history)} epochs in {time.perf_counter() - started:.1f}s")
    print(f"test accuracy {test['accuracy']:.4f}  macro-F1 {test['f1_macro']:.4f}  "
          f"(epoch {tested}, {chosen})", flush=True)
    return 0


# ----------------------------------------------------------------------------- summary
def _summary(args: argparse.Namespace) -> int:
    given = {k: getattr(args, k) for k in ("model", "dataset", *ARCHITECTURE)
             if getattr(args, k) is not None}
    config = {**DEFAULTS, **given}
    _check_applicable(config, given, "summary")
    config.update({k: MODEL_DEFAULTS[config["model"]][k] for k in ARCHITECTURE
                   if config[k] is None})
    model = build_model(config["model"], config["dataset"], config["hidden"], config["dropout"],
                        channels=config["channels"], depth=config["depth"])
    info = DATASETS[config["dataset"]]
    print(f"{config['model']} {_architecture_flags(config)} for {config['dataset']}: input "
          f"{tuple(info.shape)}, {info.classes} classes")
    print(nn.summary(model, info.shape))
    return 0


def _discard_stdout() -> None:
    """After a broken pipe: send what is left of stdout to devnull, so the interpreter's
    final flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` command; returns the exit status.

    A closed stdout (``chainrule train | head``) ends the command quietly with
    status 141, as a process killed by SIGPIPE.
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "summary":
            return _summary(args)
        return args.run(args)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
