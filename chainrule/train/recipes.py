"""Recipes: datasets, models, optimizers and schedules built from their names.

The ``chainrule`` command builds its runs with these, and a hyper-parameter search
or a script can build its candidates the same way:

>>> model = build_model("mlp", "digits", hidden=[128], dropout=0.2)
>>> optimizer = build_optimizer("adam", model.parameters(), DEFAULT_LR["adam"], 0.0)
>>> scheduler = build_scheduler("cosine", optimizer, epochs=30, patience=5)
>>> build_model("cnn", "mnist1d")[0]  # sized for the dataset's input shape (1, 40)
Conv1d(1, 64, kernel_size=(3,), stride=(1,), padding=(1,), bias=False)

Data: :data:`DATASETS` describes each dataset (input shape, classes, where it comes
from, its normalisation); :func:`prepare_data` loads one and splits it into
train/validation/test arrays; :func:`build_augmentation` gives the training-time
augmentation for it. Transfer learning: :func:`load_body` copies a trained model's
weights into a new one (the head, the last Linear, only when asked) and
:func:`freeze_body` leaves only the head trainable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from chainrule import nn, optim
from chainrule.data import train_val_test_split
from chainrule.data import transforms as T
from chainrule.data.datasets import (
    load_cifar10,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist1d,
)
from chainrule.data.datasets.mnist import FILES as IDX_FILES
from chainrule.models import cnn, mlp, resnet


@dataclass(frozen=True)
class DatasetInfo:
    """What a recipe needs to know about a dataset without loading it."""

    shape: tuple[int, ...]  # one sample: (C, H, W) for images, (C, L) for signals
    classes: int
    description: str
    files: bool = False  # read from --data-dir (MNIST-like sets, CIFAR-10)
    official_test: bool = False  # comes with its own test set
    mean: tuple[float, ...] | None = None  # per channel, applied as (x - mean) / std
    std: tuple[float, ...] | None = None


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo((1, 8, 8), 10, "1,797 8x8 handwritten digits, bundled"),
    "mnist1d": DatasetInfo((1, 40), 10, "MNIST-1D: 4,000 + 1,000 signals of length 40 "
                           "(the mnist1d package)", official_test=True),
    "mnist": DatasetInfo((1, 28, 28), 10, "MNIST: 60,000 + 10,000 28x28 digits (--data-dir)",
                         files=True, official_test=True, mean=(0.1307,), std=(0.3081,)),
    "fashion-mnist": DatasetInfo((1, 28, 28), 10, "Fashion-MNIST: 60,000 + 10,000 28x28 "
                                 "articles (--data-dir)", files=True, official_test=True,
                                 mean=(0.2860,), std=(0.3530,)),
    "cifar10": DatasetInfo((3, 32, 32), 10, "CIFAR-10: 50,000 + 10,000 32x32 colour images "
                           "(--data-dir)", files=True, official_test=True,
                           mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616)),
}
MODELS = ("mlp", "cnn", "resnet")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05,
              "rmsprop": 1e-3, "adam": 1e-3, "adamw": 1e-3}
SCHEDULES = ("none", "step", "cosine", "plateau")

#: The defaults of each model's run (``chainrule train --model M``); ``None``: not used.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {"hidden": [512, 256], "channels": None, "depth": None, "dropout": 0.3,
            "epochs": 60, "batch_size": 32, "patience": 20, "schedule": "none",
            "weight_decay": 0.0},
    "cnn": {"hidden": [128], "channels": [64, 128], "depth": None, "dropout": 0.3,
            "epochs": 30, "batch_size": 32, "patience": 10, "schedule": "plateau",
            "weight_decay": 5e-4},
    "resnet": {"hidden": None, "channels": [16, 32, 64], "depth": 2, "dropout": None,
               "epochs": 30, "batch_size": 32, "patience": 10, "schedule": "plateau",
               "weight_decay": 0.0},
}
#: Fewer epochs on the large sets (tens of thousands of images per epoch).
LARGE_DATASET_EPOCHS = {"mlp": 20, "cnn": 10, "resnet": 10}


def default_epochs(model: str, dataset: str) -> int:
    if DATASETS[dataset].files:
        return LARGE_DATASET_EPOCHS[model]
    return MODEL_DEFAULTS[model]["epochs"]


# ----------------------------------------------------------------------------- data
class DataUnavailable(Exception):
    """A dataset cannot be read; the message (one line) says how to get it."""


_DOWNLOADERS = {"mnist": "download_mnist", "fashion-mnist": "download_fashion_mnist",
                "cifar10": "download_cifar10"}
_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}


def how_to_get(dataset: str, data_dir: str | None = None) -> str:
    """How to get a dataset's files: a command that downloads them into ``data_dir``."""
    where = data_dir if data_dir is not None else "DIR"
    command = (f"python3 -c \"from chainrule.data.datasets import {_DOWNLOADERS[dataset]}; "
               f"{_DOWNLOADERS[dataset]}('{where}')\"")
    if dataset == "cifar10":
        return (f"download it with {command}, or put cifar-10-binary.tar.gz (the binary "
                f"version, https://www.cs.toronto.edu/~kriz/cifar.html) there")
    if dataset == "fashion-mnist":
        return f"download it with {command} (a directory of its own: the file names are MNIST's)"
    return f"download it with {command}"


def _missing_files(dataset: str, root: str) -> list[str]:
    if dataset in ("mnist", "fashion-mnist"):
        return [name for name in IDX_FILES.values()
                if not os.path.isfile(os.path.join(root, name))]
    bins = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    if os.path.isfile(os.path.join(root, "cifar-10-binary.tar.gz")):
        return []
    for folder in (os.path.join(root, "cifar-10-batches-bin"), root):
        if all(os.path.isfile(os.path.join(folder, name)) for name in bins):
            return []
    return ["cifar-10-binary.tar.gz"]


def load_dataset(dataset: str, data_dir: str | None = None) -> tuple[tuple[np.ndarray, np.ndarray],
                                                                    tuple[np.ndarray, np.ndarray]
                                                                    | None]:
    """``((X, y), (X_test, y_test))`` of a dataset with an official test set, else
    ``((X, y), None)``; raises :class:`DataUnavailable` saying how to get missing data."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {tuple(DATASETS)}")
    if dataset == "digits":
        return load_digits(), None
    if dataset == "mnist1d":
        try:
            return load_mnist1d()
        except ImportError:
            raise DataUnavailable(
                "--dataset mnist1d needs the optional package mnist1d: pip install "
                "\"chainrule[data]\" (or pip install mnist1d)") from None
    name = _NAMES[dataset]
    if data_dir is None:
        raise DataUnavailable(f"--dataset {dataset} reads the {name} files from --data-dir DIR; "
                              f"{how_to_get(dataset)}")
    if not os.path.isdir(data_dir):
        raise DataUnavailable(f"--data-dir {data_dir}: no such directory; "
                              f"{how_to_get(dataset, data_dir)}")
    missing = _missing_files(dataset, data_dir)
    if missing:
        raise DataUnavailable(f"--data-dir {data_dir}: no {name} data there (missing "
                              f"{', '.join(missing)}); {how_to_get(dataset, data_dir)}")
    loader = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist,
              "cifar10": load_cifar10}[dataset]
    try:
        return loader(data_dir)
    except (OSError, ValueError) as exc:
        raise DataUnavailable(f"--data-dir {data_dir}: {exc}") from None


class Splits(NamedTuple):
    """Train/validation/test arrays, normalised, labels relabelled to 0..k-1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _keep_classes(X: np.ndarray, y: np.ndarray,
                  classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    lookup = np.full(int(max(y.max(), max(classes))) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    keep = lookup[y] >= 0
    return X[keep], lookup[y[keep]]


def stratified_subset(y: np.ndarray, n: int, seed: Any) -> np.ndarray:
    """The indices of a stratified random subset of ``n`` of the labels ``y`` (each
    class's share within one sample of its share in ``y``), fixed by ``seed``."""
    if not 1 <= n <= len(y):
        raise ValueError(f"a subset of {n} samples out of {len(y)}")
    if n == len(y):
        return np.arange(n)
    index, _, _ = train_val_test_split(np.arange(len(y)), val_size=0, test_size=len(y) - n,
                                       stratify=y, seed=seed)
    return np.sort(index)


def prepare_data(dataset: str, data_dir: str | None = None, seed: int = 0,
                 val_size: float = 0.1, test_size: float = 0.2,
                 classes: Sequence[int] | None = None,
                 train_subset: int | None = None) -> Splits:
    """Load ``dataset`` and split it, stratified and fixed by ``seed``.

    A dataset with an official test set (MNIST-1D, MNIST, Fashion-MNIST, CIFAR-10)
    keeps it as the test split and takes ``val_size`` of its training set for
    validation; digits is split ``1 - val_size - test_size`` / ``val_size`` /
    ``test_size``. ``classes`` keeps only those labels, relabelled 0..k-1 in the
    given order; ``train_subset`` keeps a stratified subset of that many training
    samples. Images are normalised with the dataset's fixed per-channel mean and
    standard deviation (:data:`DATASETS`; digits and MNIST-1D are used as loaded).
    """
    info = DATASETS[dataset]
    (X, y), test = load_dataset(dataset, data_dir)
    if classes is not None:
        X, y = _keep_classes(X, y, classes)
        if test is not None:
            test = _keep_classes(*test, classes)
    if test is None:
        x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
            X, y, val_size=val_size, test_size=test_size, stratify=y, seed=seed)
    else:
        x_train, x_val, _, y_train, y_val, _ = train_val_test_split(
            X, y, val_size=val_size, test_size=0, stratify=y, seed=seed)
        x_test, y_test = test
    del X
    if train_subset is not None:
        if train_subset > len(y_train):
            raise DataUnavailable(f"--train-subset {train_subset}: the training split has only "
                                  f"{len(y_train)} samples")
        index = stratified_subset(y_train, train_subset, np.random.default_rng([seed, 1]))
        x_train, y_train = x_train[index], y_train[index]
    if info.mean is not None:
        shape = (1, -1) + (1,) * (len(info.shape) - 1)
        mean = np.asarray(info.mean, np.float32).reshape(shape)
        std = np.asarray(info.std, np.float32).reshape(shape)
        for array in (x_train, x_val, x_test):  # copies made by the split: safe in place
            array -= mean
            array /= std
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test)


def background(dataset: str) -> float:
    """The value of a black pixel after normalisation (what padding fills with)."""
    info = DATASETS[dataset]
    return 0.0 if info.mean is None else -info.mean[0] / info.std[0]


def build_augmentation(dataset: str) -> T.Transform:
    """The training-time augmentation of ``dataset`` (on normalised batches):

    - digits: RandomRotation(10°) (no shifts: these 8×8 digits are centred, and a shift
      of one pixel, an eighth of the image, costs test accuracy);
    - mnist: RandomRotation(10°) and RandomCrop(28, padding=2) (shifts up to 2 pixels);
    - fashion-mnist: RandomHorizontalFlip and RandomCrop(28, padding=2);
    - cifar10: RandomCrop(32, padding=4, reflect) and RandomHorizontalFlip;
    - mnist1d: RandomTranslate(2) along the signal.

    Padding and rotation fill with the normalised value of a black pixel.
    """
    fill = background(dataset)
    if dataset == "digits":
        return T.RandomRotation(10, fill=fill)
    if dataset == "mnist":
        return T.Compose([T.RandomRotation(10, fill=fill),
                          T.RandomCrop(28, padding=2, fill=fill)])
    if dataset == "fashion-mnist":
        return T.Compose([T.RandomHorizontalFlip(), T.RandomCrop(28, padding=2, fill=fill)])
    if dataset == "cifar10":
        return T.Compose([T.RandomCrop(32, padding=4, padding_mode="reflect"),
                          T.RandomHorizontalFlip()])
    if dataset == "mnist1d":
        return T.RandomTranslate(2, fill=fill)
    raise ValueError(f"unknown dataset {dataset!r}; choose from {tuple(DATASETS)}")


# ----------------------------------------------------------------------------- models
def _sizes(name: str, hidden: Sequence[int] | None, dropout: float | None,
           channels: Sequence[int] | None, depth: int | None) -> dict[str, Any]:
    """The model's sizes: the given ones, the model's defaults for the others."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {MODELS}")
    defaults = MODEL_DEFAULTS[name]
    given = {"hidden": hidden, "dropout": dropout, "channels": channels, "depth": depth}
    return {k: defaults[k] if v is None else v for k, v in given.items()}


def build_model(name: str, dataset: str, hidden: Sequence[int] | None = None,
                dropout: float | None = None, *, channels: Sequence[int] | None = None,
                depth: int | None = None, num_classes: int | None = None) -> nn.Sequential:
    """The model ``name`` sized for ``dataset``'s input shape (and ``num_classes``
    outputs, by default the dataset's number of classes).

    - ``mlp``: Flatten, then ``hidden`` Linear-ReLU(-Dropout) layers;
    - ``cnn``: conv3-BatchNorm-ReLU-maxpool blocks of ``channels``, then ``hidden`` Linear
      layers with ``dropout`` (:func:`chainrule.models.cnn`; 1-D convolutions for MNIST-1D);
    - ``resnet``: stages of ``depth`` basic blocks of widths ``channels``, global
      average pooling (:func:`chainrule.models.resnet`).

    Sizes left ``None`` take the model's defaults (:data:`MODEL_DEFAULTS`). The last
    module is always the head, a Linear to the classes.
    """
    info = DATASETS[dataset]
    s = _sizes(name, hidden, dropout, channels, depth)
    classes = info.classes if num_classes is None else num_classes
    spatial = info.shape[1:]
    if name == "mlp":
        return mlp(math.prod(info.shape), hidden=tuple(s["hidden"]), num_classes=classes,
                   dropout=s["dropout"])
    if name == "cnn":
        return cnn(info.shape[0], classes, spatial[0] if len(spatial) == 1 else spatial,
                   channels=tuple(s["channels"]), hidden=tuple(s["hidden"]),
                   dropout=s["dropout"], batch_norm=True)
    return resnet(info.shape[0], classes, widths=tuple(s["channels"]), depth=s["depth"],
                  dims=len(spatial))


def _cnn_plan(shape: Sequence[int], channels: Sequence[int]) -> list[tuple[int, int, int]]:
    """Per conv block of :func:`cnn`: (in channels, out channels, positions of its output)."""
    size = list(shape[1:])
    plan, fan_in = [], shape[0]
    for width in channels:
        plan.append((fan_in, width, math.prod(size)))
        if min(size) >= 2:
            size = [n // 2 for n in size]
        fan_in = width
    plan.append((fan_in, 0, math.prod(size)))  # what the classifier sees
    return plan


def _resnet_plan(shape: Sequence[int], widths: Sequence[int],
                 depth: int) -> list[tuple[int, int, int, int]]:
    """Per basic block: (in channels, out channels, stride, positions of its output)."""
    size = list(shape[1:])
    plan, fan_in = [], widths[0]
    for stage, width in enumerate(widths):
        for block in range(depth):
            stride = 2 if stage > 0 and block == 0 else 1
            size = [(n - 1) // stride + 1 for n in size]
            plan.append((fan_in, width, stride, math.prod(size)))
            fan_in = width
    return plan


def parameter_count(name: str, dataset: str, hidden: Sequence[int] | None = None,
                    channels: Sequence[int] | None = None, depth: int | None = None,
                    num_classes: int | None = None) -> int:
    """The number of parameters :func:`build_model` would give, computed without building it
    (so an impossible size can be refused before any memory is allocated)."""
    info = DATASETS[dataset]
    s = _sizes(name, hidden, None, channels, depth)
    classes = info.classes if num_classes is None else num_classes
    kernel = 3 ** (len(info.shape) - 1)
    if name == "mlp":
        sizes = [math.prod(info.shape), *map(int, s["hidden"]), classes]
    elif name == "cnn":
        plan = _cnn_plan(info.shape, s["channels"])
        convs = sum(a * b * kernel + 2 * b for a, b, _ in plan[:-1])  # no bias; BN γ, β
        sizes = [plan[-1][0] * plan[-1][2], *map(int, s["hidden"]), classes]
        return convs + sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    else:
        widths = s["channels"]
        count = info.shape[0] * widths[0] * kernel + 2 * widths[0]  # stem conv + BN
        for a, b, stride, _ in _resnet_plan(info.shape, widths, s["depth"]):
            count += a * b * kernel + b * b * kernel + 4 * b
            if stride != 1 or a != b:
                count += a * b + 2 * b
        return count + widths[-1] * classes + classes
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def activation_count(name: str, dataset: str, hidden: Sequence[int] | None = None,
                     channels: Sequence[int] | None = None, depth: int | None = None,
                     num_classes: int | None = None) -> int:
    """About how many numbers one sample's forward pass keeps for the backward pass
    (layer outputs; a memory estimate, not exact)."""
    info = DATASETS[dataset]
    s = _sizes(name, hidden, None, channels, depth)
    classes = info.classes if num_classes is None else num_classes
    if name == "mlp":
        return sum(s["hidden"]) + classes
    if name == "cnn":
        plan = _cnn_plan(info.shape, s["channels"])
        return sum(3 * b * n for _, b, n in plan[:-1]) + sum(s["hidden"]) + classes
    positions = math.prod(info.shape[1:])
    blocks = _resnet_plan(info.shape, s["channels"], s["depth"])
    return (3 * s["channels"][0] * positions + sum(8 * b * n for _, b, _, n in blocks)
            + classes)


# ----------------------------------------------------------------------------- transfer
def head_prefix(model: nn.Sequential) -> str:
    """The state-dict prefix of the head, the model's last module (a Linear)."""
    last = len(model) - 1
    if not isinstance(model[last], nn.Linear):
        raise ValueError(f"the model's last module is a {type(model[last]).__name__}, not the "
                         f"Linear head")
    return f"{last}."


def load_body(model: nn.Sequential, state: dict[str, Any], head: bool = False) -> list[str]:
    """Copy ``state`` (a trained model's state dict) into ``model``: every entry, or every
    entry but the head's (``head=False``: the head keeps its fresh initialisation).

    Raises ``ValueError`` naming the first entry that is missing, unexpected or of
    another shape, with nothing changed. Returns the names loaded.
    """
    prefix = head_prefix(model)
    own = model.state_dict()
    wanted = {k for k in own if head or not k.startswith(prefix)}
    given = {k for k in state if head or not k.startswith(prefix)}
    missing, unexpected = sorted(wanted - given), sorted(given - wanted)
    if missing or unexpected:
        detail = (f"lacks {', '.join(missing[:3])}" if missing
                  else f"has {', '.join(unexpected[:3])}, which this model lacks")
        raise ValueError(f"the weights do not fit this architecture: the file {detail}")
    for key in sorted(wanted):
        theirs = np.shape(state[key])
        if theirs != np.shape(own[key]):
            raise ValueError(f"the weights do not fit this architecture: {key} has shape "
                             f"{theirs} in the file, {np.shape(own[key])} here")
    model.load_state_dict({k: state[k] for k in wanted}, strict=False)
    return sorted(wanted)


class FrozenBody(nn.Sequential):
    """A Sequential whose body (everything but the last module, the head) is frozen:
    its parameters have ``requires_grad=False`` and its BatchNorm layers stay in eval
    mode (they normalise with the stored running statistics and never update them),
    so training changes nothing but the head. The state dict's names are the
    Sequential's."""

    def train(self, mode: bool = True) -> FrozenBody:
        super().train(mode)
        for module in list(self)[:-1]:
            for sub in module.modules():
                if isinstance(sub, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    sub.training = False
        return self


def freeze_body(model: nn.Sequential) -> FrozenBody:
    """``model``'s modules (shared, not copied) as a :class:`FrozenBody`: only the head
    (the last Linear) keeps ``requires_grad=True``. Give the optimizer only
    ``p for p in frozen.parameters() if p.requires_grad``, so weight decay, too, leaves
    the body untouched."""
    head_prefix(model)
    frozen = FrozenBody(*model)
    for module in list(frozen)[:-1]:
        module.requires_grad_(False)
    frozen[len(frozen) - 1].requires_grad_(True)
    frozen.train(model.training)
    return frozen


# ----------------------------------------------------------------------------- optimizers
def build_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> optim.Optimizer:
    """sgd, momentum/nesterov (SGD with momentum 0.9), adagrad, rmsprop, adam or adamw
    (whose ``weight_decay`` is decoupled; the others add it to the gradient as L2)."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay,
                         nesterov=name == "nesterov")
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose from {OPTIMIZERS}")


def build_scheduler(name: str, optimizer: optim.Optimizer, epochs: int, patience: int) -> Any:
    """``step`` (×0.1 every third of the run), ``cosine`` (to 0 over the run),
    ``plateau`` (×0.5 after patience/2 epochs without val-loss improvement);
    ``none`` gives ``None``."""
    sched = optim.lr_scheduler
    if name == "none":
        return None
    if name == "step":
        return sched.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                       patience=max(1, patience // 2))
    raise ValueError(f"unknown schedule {name!r}; choose from {SCHEDULES}")
