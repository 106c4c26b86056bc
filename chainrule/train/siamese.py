"""The Siamese recipe behind ``chainrule train --task siamese --dataset digits``:
verification of digit classes the network never saw.

- Data: the bundled digits. Classes 0-6 are split, stratified and fixed by ``seed``,
  into a training part (80 %) and a validation part (20 %); classes 7-9 are held out
  entirely. Pairs come from :func:`chainrule.data.pairs.make_pairs`: fresh training
  pairs every epoch, fixed validation pairs (0-6, validation part) and fixed test
  pairs (7-9).
- Model: :func:`chainrule.models.siamese` around an MLP encoder, 64 → 128 → 32 by
  default (the last Linear gives the embedding).
- Loss: ``'contrastive'`` (ℓ = ½ d² / ½ max(0, margin - d)²; the score of a pair is
  -d, the default) or ``'cosine'`` (ℓ = -y cos(z1, z2); the score is cos(z1, z2)), Adam.
  The cosine loss rewards every impostor pair for cos = -1, which seven classes cannot
  all reach at once: the embeddings crowd onto a few opposite directions, and pairs of
  unseen classes are then scored near chance (AUC about 0.55 against 0.7-0.75 with the
  contrastive loss, whose margin leaves impostors alone once they are far enough apart).
- Report: ROC AUC and equal error rate on the unseen-class pairs, and the accuracy
  there of the threshold chosen on the validation pairs (:func:`best_threshold`);
  beside them, the ROC AUC of plain pixel distance on the same pairs (``pixel_auc``),
  the baseline a learned similarity has to beat.
  The last epoch's weights are evaluated; the test pairs are scored once.

What to expect (seed 0, defaults, a few seconds): validation AUC on pairs of the seen
classes about 0.999, but ROC AUC about 0.75 on the unseen classes 7-9 (seeds 1, 2:
0.64-0.76) — below the 0.82 of plain pixel distances: features learned to tell 0-6
apart do not transfer to 8×8 sevens, eights and nines. Trained on pairs of all ten
classes, the same network reaches 0.98 on held-out images of 7-9.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import io, metrics, optim
from chainrule.data import train_val_test_split
from chainrule.data.datasets import load_digits
from chainrule.data.pairs import make_pairs
from chainrule.factory import tensor
from chainrule.function import no_grad
from chainrule.models import mlp
from chainrule.models.siamese import Siamese, siamese
from chainrule.ops.distance import contrastive_loss, cosine_similarity, cosine_similarity_loss
from chainrule.random import manual_seed

__all__ = ["LOSSES", "SEEN", "UNSEEN", "plot_roc_curve", "run_siamese"]

SEEN, UNSEEN = tuple(range(7)), (7, 8, 9)
LOSSES = ("cosine", "contrastive")
HISTORY, ROC_PLOT, WEIGHTS = "history.json", "roc_curve.png", "siamese.safetensors"


def _check(name: str, value: Any, kind: type, low: float) -> None:
    """``value`` is a ``kind`` (int or float) of at least ``low``, else a clear error."""
    numbers = (int, np.integer) if kind is int else (int, float, np.number)
    if isinstance(value, bool) or not isinstance(value, numbers):
        raise TypeError(f"run_siamese: {name} must be {'an int' if kind is int else 'a number'}"
                        f", got {value!r}")
    if not value >= low:
        raise ValueError(f"run_siamese: {name} must be at least {low}, got {value!r}")


def _scores(model: Siamese, x1: np.ndarray, x2: np.ndarray, loss: str) -> np.ndarray:
    """The pairs' scores, higher for "more alike": cos(z1, z2), or -‖z1 - z2‖."""
    model.eval()
    with no_grad():
        z1, z2 = model(tensor(x1), tensor(x2))
    model.train()
    if loss == "cosine":
        return cosine_similarity(z1, z2, dim=1).numpy().astype(np.float64)
    return -np.linalg.norm(z1.numpy().astype(np.float64) - z2.numpy(), axis=1)


def _loss(loss: str, margin: float, z1: Any, z2: Any, t: Any) -> Any:
    if loss == "cosine":
        return cosine_similarity_loss(z1, z2, t)
    return contrastive_loss(z1, z2, t, margin=margin)


def plot_roc_curve(fpr: Any, tpr: Any, path: str | os.PathLike | None, auc: float | None = None,
                   eer: float | None = None, title: str = "ROC curve",
                   baseline: tuple[Any, Any, str] | None = None) -> Any:
    """Save an ROC curve (TPR against FPR, the chance diagonal dashed) as a PNG; ``auc``
    goes into the legend, ``eer`` marks the point where FPR = 1 - TPR, ``baseline`` =
    (fpr, tpr, label) is another score's curve drawn beside it to compare. Needs matplotlib
    (an ImportError saying so otherwise); ``path=None`` only returns the figure."""
    from chainrule.train.plots import _figure, _save

    fig = _figure(4.8, 4.6)
    ax = fig.subplots()
    label = "ROC" if auc is None else f"ROC, AUC {auc:.4f}"
    ax.plot(fpr, tpr, color="#1f77b4", lw=2, label=label)
    if baseline is not None:
        ax.plot(baseline[0], baseline[1], color="#ff7f0e", lw=1.2, label=baseline[2])
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="chance")
    if eer is not None:
        ax.plot([0, 1], [1, 0], color="#d62728", lw=0.8, ls=":")
        ax.plot([eer], [1 - eer], "o", color="#d62728", label=f"EER {eer:.4f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate (impostors accepted)")
    ax.set_ylabel("true positive rate (genuine accepted)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.subplots_adjust(left=0.14, right=0.96, bottom=0.12, top=0.9)
    if path is not None:
        _save(fig, path)
    return fig


def run_siamese(
    dataset: str = "digits",
    *,
    epochs: int = 5,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    loss: str = "contrastive",
    quiet: bool = False,
    lr: float = 1e-3,
    batch_size: int = 64,
    hidden: Sequence[int] = (128,),
    embedding_dim: int = 32,
    margin: float = 1.0,
    train_pairs: int = 4000,
    val_pairs: int = 1000,
    test_pairs: int = 2000,
) -> dict[str, Any]:
    """Train a Siamese MLP on pairs of digits 0-6; verify pairs of the unseen 7-9.

    Prints one line per epoch (unless ``quiet``) and last ``verification on unseen
    classes 7-9: ROC AUC A  EER E  accuracy C (threshold T from validation pairs)``.
    With ``out_dir`` (created if missing) writes ``history.json`` (configuration,
    per-epoch loss and validation AUC, results), ``siamese.safetensors`` (the trained
    weights: ``siamese(mlp(64, hidden, embedding_dim)).load_state_dict(cr.load(path))``)
    and ``roc_curve.png`` (needs matplotlib; skipped with a note without it). A loss
    that turns NaN or infinite stops the run with a ``FloatingPointError`` before
    anything is written. Returns the results: ``auc``,
    ``eer``, ``eer_threshold``, ``accuracy``, ``threshold``, ``val_auc``, ``epochs``
    (the per-epoch logs) and ``seconds``.
    """
    if dataset != "digits":
        raise ValueError(f"run_siamese: dataset must be 'digits' (classes 0-6 to train, 7-9 "
                         f"unseen), got {dataset!r}")
    if loss not in LOSSES:
        raise ValueError(f"run_siamese: loss must be one of {LOSSES}, got {loss!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size),
                        ("embedding_dim", embedding_dim)):
        _check(name, value, int, 1)
    for name, value in (("train_pairs", train_pairs), ("val_pairs", val_pairs),
                        ("test_pairs", test_pairs)):
        _check(name, value, int, 2)
    _check("seed", seed, int, 0)
    _check("lr", lr, float, 0.0)
    _check("margin", margin, float, 0.0)
    say = (lambda text: None) if quiet else (lambda text: print(text, flush=True))
    start = time.perf_counter()

    x, y = load_digits()
    seen = y < len(SEEN)
    x_train, x_val, _, y_train, y_val, _ = train_val_test_split(
        x[seen], y[seen], val_size=0.2, test_size=0, stratify=y[seen], seed=seed)
    val = make_pairs(x_val, y_val, val_pairs, seed=np.random.default_rng([seed, 1]))
    test = make_pairs(x[~seen], y[~seen], test_pairs, seed=np.random.default_rng([seed, 2]))

    manual_seed(seed)
    model = siamese(mlp(int(np.prod(x.shape[1:])), tuple(hidden), embedding_dim))
    optimizer = optim.Adam(model.parameters(), lr=lr)
    logs: list[dict[str, float]] = []
    say(f"siamese {'-'.join(map(str, hidden))}->{embedding_dim} on digits 0-6, {loss} loss, "
        f"{train_pairs} fresh pairs per epoch, {len(x_train)} training / {len(x_val)} "
        f"validation images")
    for epoch in range(1, epochs + 1):
        x1, x2, t = make_pairs(x_train, y_train, train_pairs,
                               seed=np.random.default_rng([seed, 0, epoch]))
        total = 0.0
        for lo in range(0, train_pairs, batch_size):
            part = slice(lo, lo + batch_size)
            optimizer.zero_grad()
            with np.errstate(over="ignore", invalid="ignore"):  # reported once, just below
                z1, z2 = model(tensor(x1[part]), tensor(x2[part]))
                batch_loss = _loss(loss, margin, z1, z2, t[part])
            if not np.isfinite(batch_loss.item()):
                raise FloatingPointError(
                    f"run_siamese: the loss is {batch_loss.item()} at epoch {epoch}, batch "
                    f"{lo // batch_size + 1}: training diverged; try a smaller lr (now {lr:g})")
            batch_loss.backward()
            with np.errstate(over="ignore", invalid="ignore"):
                optimizer.step()
            total += batch_loss.item() * len(t[part])
        val_auc = metrics.roc_auc_score(val[2], _scores(model, val[0], val[1], loss))
        logs.append({"epoch": epoch, "loss": total / train_pairs, "val_auc": val_auc})
        say(f"epoch {epoch}/{epochs}  loss {total / train_pairs:.4f}  val_auc {val_auc:.4f}")

    threshold = metrics.best_threshold(val[2], _scores(model, val[0], val[1], loss))
    scores = _scores(model, test[0], test[1], loss)
    auc = metrics.roc_auc_score(test[2], scores)
    eer, eer_threshold = metrics.equal_error_rate(test[2], scores)
    pixel_scores = -np.linalg.norm((test[0] - test[1]).reshape(len(test[2]), -1), axis=1)
    results = {"auc": auc, "eer": eer, "eer_threshold": eer_threshold,
               "pixel_auc": metrics.roc_auc_score(test[2], pixel_scores),
               "accuracy": metrics.threshold_accuracy(test[2], scores, threshold),
               "threshold": threshold, "val_auc": logs[-1]["val_auc"], "epochs": logs,
               "seconds": time.perf_counter() - start}
    say(f"verification on unseen classes 7-9: ROC AUC {auc:.4f}  EER {eer:.4f}  accuracy "
        f"{results['accuracy']:.4f} (threshold {threshold:.4f} from validation pairs)")
    say(f"the same pairs by plain pixel distance, which learns nothing: ROC AUC "
        f"{results['pixel_auc']:.4f}")
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        config = {"task": "siamese", "dataset": dataset, "epochs": epochs, "seed": seed,
                  "loss": loss, "lr": lr, "batch_size": batch_size, "hidden": list(hidden),
                  "embedding_dim": embedding_dim, "margin": margin, "train_pairs": train_pairs,
                  "val_pairs": val_pairs, "test_pairs": test_pairs}
        record = {"config": config, **results}
        io.atomic_write(os.path.join(out_dir, HISTORY),
                        (json.dumps(record, indent=2) + "\n").encode())
        io.save(model.state_dict(), os.path.join(out_dir, WEIGHTS),
                metadata={"task": "siamese", "hidden": json.dumps(list(hidden)),
                          "embedding_dim": str(embedding_dim), "loss": loss})
        fpr, tpr, _ = metrics.roc_curve(test[2], scores)
        pixel_fpr, pixel_tpr, _ = metrics.roc_curve(test[2], pixel_scores)
        try:
            plot_roc_curve(fpr, tpr, os.path.join(out_dir, ROC_PLOT), auc=auc, eer=eer,
                           title=f"digits 7-9 (unseen), {loss} loss, seed {seed}",
                           baseline=(pixel_fpr, pixel_tpr,
                                     f"pixel distance, AUC {results['pixel_auc']:.4f}"))
            say(f"wrote {HISTORY}, {WEIGHTS} and {ROC_PLOT} to {out_dir}")
        except ImportError as exc:
            say(f"wrote {HISTORY} and {WEIGHTS} to {out_dir}; plot skipped: {exc}")
    return results
