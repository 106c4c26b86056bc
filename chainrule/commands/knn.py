"""``chainrule knn``: choose k of a k-nearest-neighbour classifier by cross-validation.

    chainrule knn --dataset digits --k 1,3,5,7,9 --folds 5

The dataset is split as ``chainrule train`` splits it (:func:`chainrule.train.recipes.
prepare_data`, fixed by ``--seed``: the same test set, the same normalisation); the
images are flattened to vectors. The test split is set aside. On the rest, the
training and validation splits together, :class:`chainrule.data.StratifiedKFold`
(``--folds`` folds, shuffled with ``--seed``) gives for each k and each fold the
accuracy on the fold's validation part of a :class:`chainrule.neighbors.
KNeighborsClassifier` fitted on the other folds (:func:`chainrule.neighbors.
cross_validate_k`). The table shows, per k, the mean and the standard deviation
(``numpy.std``, ddof 0, as scikit-learn's ``cv_results_``) over the folds.

k is chosen on these validation folds only: the largest mean accuracy, a tie (means
within 1e-12) going to the smallest k. Then, once, a classifier with that k is fitted
on all the training + validation samples and scored on the test split; the last line
printed is ``test accuracy A with k = K (...)``.

Into ``--out`` (by default a new ``runs/<time>-knn-<dataset>``; ``runs/latest`` is
left to ``chainrule train``) it writes ``knn_accuracy.png`` (accuracy against k: the
mean with a ±1 std band, each fold's accuracy as dots, the chosen k marked; needs
matplotlib, else skipped with the reason), ``knn_accuracy.csv`` (one row per k: mean,
std and each fold's accuracy) and ``knn_accuracy.json`` (the same, the chosen k, the
test accuracy and the settings). Files already there with these names are replaced.
"""

from __future__ import annotations

import argparse
import csv
import io as _io
import json
import os
import time
from typing import Any

import numpy as np

from chainrule import io
from chainrule.commands import output_directory
from chainrule.data import StratifiedKFold
from chainrule.neighbors import METRICS, WEIGHTS, KNeighborsClassifier, cross_validate_k
from chainrule.train.recipes import DATASETS, DataUnavailable, prepare_data

NAME = "knn_accuracy"
TIE = 1e-12  # mean accuracies closer than this are a tie (the smaller k wins)


def register(commands: Any) -> None:
    """Add ``chainrule knn`` to the sub-parsers ``commands``."""
    p = commands.add_parser(
        "knn", help="choose k of a k-nearest-neighbour classifier by cross-validation",
        description="Cross-validate a k-nearest-neighbour classifier for each k on the "
                    "training + validation part of a dataset (split as chainrule train "
                    "splits it; images flattened) with stratified k-fold; print the "
                    "accuracy per k (mean ± std over the folds), choose k on the "
                    "validation folds only (ties: the smallest k), then score the test "
                    "split once with that k, fitted on all training + validation samples. "
                    "Writes knn_accuracy.png (accuracy against k; needs matplotlib), "
                    "knn_accuracy.csv and knn_accuracy.json.",
    )
    p.add_argument("--dataset", choices=tuple(DATASETS), default="digits",
                   help="dataset (default digits): "
                        + "; ".join(f"{k}: {v.description}" for k, v in DATASETS.items()))
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="where the files of mnist, fashion-mnist or cifar10 are")
    p.add_argument("--k", default="1,3,5,7,9", metavar="K1,K2,...",
                   help="the numbers of neighbours to compare, distinct positive integers "
                        "no larger than the training part of a fold (default 1,3,5,7,9)")
    p.add_argument("--folds", type=int, default=5, metavar="N",
                   help="number of stratified cross-validation folds, at least 2 "
                        "(default 5)")
    p.add_argument("--metric", choices=METRICS, default="euclidean",
                   help="distance between samples (default euclidean)")
    p.add_argument("--weights", choices=WEIGHTS, default="uniform",
                   help="uniform: one vote per neighbour; distance: a vote of 1/d "
                        "(default uniform)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the train/validation/test split and of the folds (default 0)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="where to write the plot, CSV and JSON (default: a new "
                        "runs/<time>-knn-<dataset>)")
    p.set_defaults(run=_run)


def _fail(message: str) -> SystemExit:
    return SystemExit(f"chainrule knn: {message}")


def parse_ks(text: str) -> list[int]:
    """``"1,3,5"`` as the sorted list ``[1, 3, 5]``; a one-line ``SystemExit`` for a list
    that is empty, not integers, holds a k < 1 or repeats a k."""
    parts = [part.strip() for part in text.split(",")]
    try:
        ks = [int(part) for part in parts]
    except ValueError:
        ks = []
    if not ks:
        raise _fail(f"--k {text}: expected comma-separated integers such as 1,3,5,7,9")
    bad = [k for k in ks if k < 1]
    if bad:
        raise _fail(f"--k {text}: k is a number of neighbours, at least 1; got {bad[0]}")
    repeated = sorted({k for k in ks if ks.count(k) > 1})
    if repeated:
        raise _fail(f"--k {text}: k = {repeated[0]} is given more than once")
    return sorted(ks)


def _load(args: argparse.Namespace) -> tuple[np.ndarray, ...]:
    """Flattened (X, y) of training + validation, and (X_test, y_test)."""
    if args.data_dir is not None and not DATASETS[args.dataset].files:
        raise _fail(f"--data-dir is for the datasets read from files (mnist, fashion-mnist, "
                    f"cifar10); {args.dataset} needs none")
    try:
        s = prepare_data(args.dataset, args.data_dir, args.seed)
    except DataUnavailable as exc:
        raise _fail(str(exc)) from None
    except MemoryError:
        raise _fail(f"out of memory while loading {args.dataset}") from None
    X = np.concatenate([s.x_train.reshape(len(s.x_train), -1),
                        s.x_val.reshape(len(s.x_val), -1)])
    y = np.concatenate([s.y_train, s.y_val])
    return X, y, s.x_test.reshape(len(s.x_test), -1), s.y_test


def _folds(folds: int, seed: int, ks: list[int], y: np.ndarray) -> StratifiedKFold:
    """The splitter, once it is known that every fold has every class and room for each k."""
    smallest = int(np.unique(y, return_counts=True)[1].min())
    if folds > smallest:
        raise _fail(f"--folds {folds}: the smallest class of the {len(y)} training + "
                    f"validation samples has {smallest} samples, so some validation folds "
                    f"would lack it; choose --folds {smallest} or fewer")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    fitted = min(len(train) for train, _ in cv.split(y, y))
    if ks[-1] > fitted:
        raise _fail(f"--k {','.join(map(str, ks))}: k = {ks[-1]} is more than the {fitted} "
                    f"samples the smallest training part of a fold holds ({folds} folds of "
                    f"{len(y)} samples)")
    return cv


def choose_k(ks: list[int], mean: np.ndarray) -> int:
    """The k of the largest mean validation accuracy; of tied ones (within ``TIE``) the
    smallest."""
    best = float(np.max(mean))
    return min(k for k, m in zip(ks, mean) if m >= best - TIE)


def _table(ks: list[int], scores: np.ndarray, chosen: int) -> str:
    lines = [f"{'k':>5}  validation accuracy (mean ± std over {scores.shape[1]} folds)"]
    for k, row in zip(ks, scores):
        mark = "  <- chosen" if k == chosen else ""
        lines.append(f"{k:>5}  {row.mean():.4f} ± {row.std():.4f}{mark}")
    return "\n".join(lines)


def _csv(ks: list[int], scores: np.ndarray) -> bytes:
    text = _io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["k", "mean", "std", *(f"fold_{f + 1}" for f in range(scores.shape[1]))])
    for k, row in zip(ks, scores):
        writer.writerow([k, repr(float(row.mean())), repr(float(row.std())),
                         *(repr(float(v)) for v in row)])
    return text.getvalue().encode()


def plot_accuracy_vs_k(ks: list[int], scores: np.ndarray, chosen: int, path: str,
                       title: str) -> Any:
    """Mean validation accuracy against k with a ±1 std band, each fold's accuracy as dots
    and the chosen k marked; saved as a PNG at ``path``. Returns the matplotlib Figure."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib, which is not installed: "
                          "pip install 'chainrule[plot]'") from exc
    mean, std = scores.mean(axis=1), scores.std(axis=1)
    fig = Figure(figsize=(6.4, 4.2), dpi=110)
    ax = fig.subplots()
    ax.fill_between(ks, mean - std, mean + std, color="#1f77b4", alpha=0.2,
                    label="± 1 std over folds")
    for f in range(scores.shape[1]):
        ax.plot(ks, scores[:, f], ".", color="#7f7f7f", markersize=4,
                label="one fold" if f == 0 else None)
    ax.plot(ks, mean, "o-", color="#1f77b4", label="mean validation accuracy")
    ax.axvline(chosen, color="#2ca02c", linestyle="--", label=f"chosen k = {chosen}")
    ax.set_xticks(ks)
    ax.set_xlabel("k (neighbours)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.86)
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png")
    io.atomic_write(path, buffer.getvalue())
    return fig


def _run(args: argparse.Namespace) -> int:
    ks = parse_ks(args.k)
    if args.folds < 2:  # before loading anything
        raise _fail(f"--folds {args.folds}: cross-validation needs at least 2 folds")
    if args.seed < 0:
        raise _fail(f"--seed {args.seed}: expected an integer >= 0")
    X, y, X_test, y_test = _load(args)
    cv = _folds(args.folds, args.seed, ks, y)
    settings = f"{args.metric} distance, {args.weights} weights"
    print(f"{args.dataset}: {len(y)} training + validation samples of {X.shape[1]} features; "
          f"{len(y_test)} test samples set aside", flush=True)
    print(f"{args.folds}-fold stratified cross-validation (seed {args.seed}), {settings}",
          flush=True)
    started = time.perf_counter()
    scores = cross_validate_k(X, y, ks, cv, metric=args.metric, weights=args.weights)
    chosen = choose_k(ks, scores.mean(axis=1))
    print(_table(ks, scores, chosen))
    print(f"chosen k = {chosen}: the best mean validation accuracy (ties go to the smallest "
          f"k); cross-validation took {time.perf_counter() - started:.1f}s", flush=True)
    knn = KNeighborsClassifier(chosen, metric=args.metric, weights=args.weights).fit(X, y)
    test = knn.score(X_test, y_test)

    out = output_directory(args.out, f"knn-{args.dataset}", "knn")
    record = {
        "dataset": args.dataset, "metric": args.metric, "weights": args.weights,
        "folds": args.folds, "seed": args.seed, "n_train_val": len(y), "n_test": len(y_test),
        "k": ks, "mean": scores.mean(axis=1).tolist(), "std": scores.std(axis=1).tolist(),
        "fold_accuracy": scores.tolist(), "chosen_k": chosen, "test_accuracy": test,
    }
    try:
        io.atomic_write(os.path.join(out, NAME + ".csv"), _csv(ks, scores))
        io.atomic_write(os.path.join(out, NAME + ".json"),
                        (json.dumps(record, indent=2) + "\n").encode())
        try:
            plot_accuracy_vs_k(ks, scores, chosen, os.path.join(out, NAME + ".png"),
                               f"{args.dataset}: k-NN, {settings}, {args.folds}-fold CV\n"
                               f"test accuracy {test:.4f} with k = {chosen}")
            print(f"wrote {NAME}.png, {NAME}.csv and {NAME}.json to {out}", flush=True)
        except ImportError as exc:
            print(f"wrote {NAME}.csv and {NAME}.json to {out}; plot skipped: {exc}", flush=True)
    except OSError as exc:
        raise _fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(f"test accuracy {test:.4f} with k = {chosen} (fitted on all {len(y)} training + "
          f"validation samples)", flush=True)
    return 0
