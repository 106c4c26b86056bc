"""The Siamese recipes behind ``chainrule train --task siamese --dataset digits``:
verification of digit classes the network never saw.

- Data: the bundled digits. Classes 0-6 are split, stratified and fixed by ``seed``,
  into a training part (80 %) and a validation part (20 %); classes 7-9 are held out
  entirely. Pairs come from :func:`chainrule.data.pairs.make_pairs`: fixed validation
  pairs (0-6, validation part) and fixed test pairs (7-9); fresh training pairs every
  epoch for the pair losses.
- ``loss='composite'`` (the default): a CNN encoder (:func:`cnn_encoder`, 32-64
  channels, 64-d embedding) learns to tell apart 728 *composite classes* made only from
  the training images of 0-6 (:func:`chainrule.data.composites.make_composites`: whole
  digits, top halves over bottom halves, left halves beside right halves, each in the
  8 rotations and mirror images of the square, shifted by up to a pixel), with the
  normalised softmax: cross-entropy of 16·cos(z, w_c) over the classes c. 30 epochs of
  51,200 fresh composites in batches of 256 (6,000 Adam steps). A pair's score is the
  cosine of the embeddings, each averaged over the 9 one-pixel shifts of its image
  (``test_shift=1``).
- ``loss='contrastive'`` (ℓ = ½ d² / ½ max(0, margin - d)²; the score is -d) or
  ``'cosine'`` (ℓ = -y cos(z1, z2); the score is cos(z1, z2)): an MLP encoder
  64 → 128 → 32 trained on 5 epochs of 4,000 fresh pairs. The cosine loss rewards every
  impostor pair for cos = -1, which seven classes cannot all reach at once: the
  embeddings crowd onto a few opposite directions, and pairs of unseen classes are
  then scored near chance (AUC about 0.55 against 0.7-0.75 with the contrastive loss,
  whose margin leaves impostors alone once they are far enough apart).
- Report: ROC AUC and equal error rate on the unseen-class pairs, and the accuracy
  there of the threshold chosen on the validation pairs (:func:`best_threshold`);
  beside them, the ROC AUC of plain pixel distance on the same pairs (``pixel_auc``),
  the baseline a learned similarity has to beat.
  The last epoch's weights are evaluated; the test pairs are scored once.

What to expect on the unseen digits 7-9 (pixel distance: 0.83 on seed 0):

- composite (8-10 minutes on two cores or one): ROC AUC 0.971 on seed 0 (EER 0.095);
  on one BLAS thread 0.962, 0.973 and 0.966 on seeds 0, 1 and 2.
  Seven classes as they are teach no features that separate three new ones; 728
  classes composed of their parts do.
- contrastive (a few seconds): validation AUC on the seen classes about 0.999, but
  0.75 on the unseen ones (seeds 1, 2: 0.64-0.76), below pixel distance. Trained on
  pairs of all ten classes, the same MLP reaches 0.98 on held-out images of 7-9.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule import io, metrics, nn, optim
from chainrule.data import train_val_test_split
from chainrule.data.composites import composite_class_count, make_composites
from chainrule.data.datasets import load_digits
from chainrule.data.pairs import make_pairs
from chainrule.factory import randn, tensor
from chainrule.function import no_grad
from chainrule.models import mlp
from chainrule.models.siamese import Siamese, siamese
from chainrule.ops.distance import (
    contrastive_loss,
    cosine_similarity,
    cosine_similarity_loss,
    normalize,
)
from chainrule.ops.loss import cross_entropy
from chainrule.random import manual_seed

__all__ = ["ENCODERS", "LOSSES", "SEEN", "UNSEEN", "cnn_encoder", "plot_roc_curve",
           "run_siamese"]

SEEN, UNSEEN = tuple(range(7)), (7, 8, 9)
LOSSES = ("composite", "contrastive", "cosine")
ENCODERS = ("mlp", "cnn")
#: what each way of training works best with, for the arguments left at None
RECIPES = {
    "composite": {"model": "cnn", "epochs": 30, "batch_size": 256, "embedding_dim": 64,
                  "test_shift": 1},
    "pairs": {"model": "mlp", "epochs": 5, "batch_size": 64, "embedding_dim": 32,
              "test_shift": 0},
}
#: the scale s of the composite loss's logits s·cos(z, w_c)
COMPOSITE_SCALE = 16.0
HISTORY, ROC_PLOT, WEIGHTS = "history.json", "roc_curve.png", "siamese.safetensors"


def _check(name: str, value: Any, kind: type, low: float) -> None:
    """``value`` is a ``kind`` (int or float) of at least ``low``, else a clear error."""
    numbers = (int, np.integer) if kind is int else (int, float, np.number)
    if isinstance(value, bool) or not isinstance(value, numbers):
        raise TypeError(f"run_siamese: {name} must be {'an int' if kind is int else 'a number'}"
                        f", got {value!r}")
    if not (low <= value < np.inf):
        finite = "a finite number of " if kind is float else ""
        raise ValueError(f"run_siamese: {name} must be {finite}at least {low}, got {value!r}")


def _embed(model: Siamese, images: np.ndarray, test_shift: int) -> np.ndarray:
    """The embeddings of ``images`` (float64); with ``test_shift`` = s > 0, the mean of
    the unit embeddings of the (2s + 1)² copies shifted by -s..s pixels along each
    axis (zero-filled), scaled to unit length again: test-time augmentation."""
    if test_shift == 0:
        return model.embed(tensor(images)).numpy().astype(np.float64)
    h, w = images.shape[-2:]
    padded = np.pad(images, [(0, 0)] * (images.ndim - 2) + [(test_shift, test_shift)] * 2)
    total = 0.0
    for dy in range(2 * test_shift + 1):
        for dx in range(2 * test_shift + 1):
            z = model.embed(tensor(np.ascontiguousarray(padded[..., dy:dy + h, dx:dx + w])))
            total = total + normalize(z, dim=1).numpy().astype(np.float64)
    return total / np.linalg.norm(total, axis=1, keepdims=True)


def _scores(model: Siamese, x1: np.ndarray, x2: np.ndarray, loss: str,
            test_shift: int) -> np.ndarray:
    """The pairs' scores, higher for "more alike": cos(z1, z2), or -‖z1 - z2‖ for the
    contrastive loss."""
    model.eval()
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        z1, z2 = _embed(model, x1, test_shift), _embed(model, x2, test_shift)
    model.train()
    if not (np.isfinite(z1).all() and np.isfinite(z2).all()):
        raise FloatingPointError("run_siamese: the trained encoder gives non-finite "
                                 "embeddings: training diverged; try a smaller lr")
    if loss != "contrastive":
        return cosine_similarity(tensor(z1), tensor(z2), dim=1).numpy()
    return -np.linalg.norm(z1 - z2, axis=1)


def cnn_encoder(channels: Sequence[int] = (32, 64), embedding_dim: int = 32,
                side: int = 8) -> nn.Sequential:
    """A small CNN encoder for one-channel ``side``×``side`` images: conv 3×3 1→c1,
    ReLU, conv 3×3 c1→c2, ReLU, max-pool 2, conv 3×3 c2→c2, ReLU, flatten, Linear
    c2·(side/2)² → ``embedding_dim`` (every convolution padded to keep the size)."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(c2, c2, 3, padding=1), nn.ReLU(), nn.Flatten(),
        nn.Linear(c2 * (side // 2) ** 2, embedding_dim))


def _pair_loss(loss: str, margin: float, model: Siamese, x1: np.ndarray, x2: np.ndarray,
               t: np.ndarray) -> Any:
    z1, z2 = model(tensor(x1), tensor(x2))
    if loss == "cosine":
        return cosine_similarity_loss(z1, z2, t)
    return contrastive_loss(z1, z2, t, margin=margin)


def _composite_loss(model: Siamese, head: nn.Parameter, images: np.ndarray,
                    labels: np.ndarray) -> Any:
    """Cross-entropy of the logits s·cos(z, w_c) over the composite classes c: the
    normalised softmax, which spreads the classes' unit vectors w_c over the sphere and
    pulls each embedding towards its class's."""
    z = normalize(model.embed(tensor(images)), dim=1)
    logits = (z @ normalize(head, dim=1).T) * COMPOSITE_SCALE
    return cross_entropy(logits, tensor(labels))


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
    epochs: int | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    loss: str = "composite",
    quiet: bool = False,
    lr: float = 1e-3,
    batch_size: int | None = None,
    model: str | None = None,
    hidden: Sequence[int] | None = None,
    channels: Sequence[int] | None = None,
    embedding_dim: int | None = None,
    margin: float = 1.0,
    train_pairs: int = 4000,
    train_composites: int = 51200,
    val_pairs: int = 1000,
    test_pairs: int = 2000,
    test_shift: int | None = None,
) -> dict[str, Any]:
    """Train a Siamese encoder on digits 0-6; verify pairs of the unseen 7-9.

    ``loss``: ``'composite'`` (composite classes, the default), ``'contrastive'`` or
    ``'cosine'`` (pairs); see the module docstring. ``epochs``, ``batch_size``,
    ``model`` (``'mlp'`` or ``'cnn'``), ``embedding_dim`` and ``test_shift`` left at None
    take the loss's recipe (:data:`RECIPES`). ``hidden`` sizes the MLP (default
    (128,)), ``channels`` = (c1, c2) the CNN (default (32, 64)); each is refused with
    the other model. ``train_pairs`` (pair losses) and ``train_composites`` (composite
    loss) are the fresh examples of each epoch. ``test_shift`` = s > 0 scores each image
    by the mean of its unit embeddings over the (2s + 1)² shifts by up to s pixels (s
    below the image side); the per-epoch validation AUC is without them, the returned
    ``val_auc`` with them (the scores the threshold is chosen on).

    Prints one line per epoch (unless ``quiet``) and last ``verification on unseen
    classes 7-9: ROC AUC A  EER E  accuracy C (threshold T from validation pairs)``.
    With ``out_dir`` (created if missing) writes ``history.json`` (configuration,
    per-epoch loss and validation AUC, results), ``siamese.safetensors`` (the trained
    weights: ``siamese(cnn_encoder(channels, embedding_dim))`` or
    ``siamese(mlp(64, hidden, embedding_dim))``, then ``.load_state_dict(cr.load(path))``)
    and ``roc_curve.png`` (needs matplotlib; skipped with a note without it). A loss
    that turns NaN or infinite, or a trained encoder whose embeddings do, stops the run
    with a ``FloatingPointError`` before anything is written. Returns the results: ``auc``,
    ``eer``, ``eer_threshold``, ``pixel_auc``, ``accuracy``, ``threshold``, ``val_auc``,
    ``epochs`` (the per-epoch logs) and ``seconds``.
    """
    if dataset != "digits":
        raise ValueError(f"run_siamese: dataset must be 'digits' (classes 0-6 to train, 7-9 "
                         f"unseen), got {dataset!r}")
    if loss not in LOSSES:
        raise ValueError(f"run_siamese: loss must be one of {LOSSES}, got {loss!r}")
    defaults = RECIPES["composite" if loss == "composite" else "pairs"]
    epochs = defaults["epochs"] if epochs is None else epochs
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    model = defaults["model"] if model is None else model
    embedding_dim = defaults["embedding_dim"] if embedding_dim is None else embedding_dim
    test_shift = defaults["test_shift"] if test_shift is None else test_shift
    if model not in ENCODERS:
        raise ValueError(f"run_siamese: model must be one of {ENCODERS} (the encoder), got "
                         f"{model!r}")
    if model == "cnn" and hidden is not None:
        raise ValueError(f"run_siamese: hidden sizes the MLP encoder; the CNN encoder takes "
                         f"channels, got hidden={tuple(hidden)!r} with model='cnn'")
    if model == "mlp" and channels is not None:
        raise ValueError(f"run_siamese: channels size the CNN encoder; the MLP encoder takes "
                         f"hidden, got channels={tuple(channels)!r} with model='mlp'")
    for name, widths in (("hidden", hidden), ("channels", channels)):
        if widths is not None and (isinstance(widths, str)
                                   or not isinstance(widths, (Sequence, np.ndarray))):
            raise TypeError(f"run_siamese: {name} must be a sequence of ints, got {widths!r}")
    hidden = (128,) if hidden is None else hidden
    channels = (32, 64) if channels is None else channels
    if len(channels) != 2:
        raise ValueError(f"run_siamese: channels must be two numbers (c1, c2) for the CNN "
                         f"encoder, got {tuple(channels)!r}")
    for name, widths in (("hidden", hidden), ("channels", channels)):
        for width in widths:
            _check(name, width, int, 1)
    for name, value in (("epochs", epochs), ("batch_size", batch_size),
                        ("embedding_dim", embedding_dim), ("train_composites", train_composites)):
        _check(name, value, int, 1)
    for name, value in (("train_pairs", train_pairs), ("val_pairs", val_pairs),
                        ("test_pairs", test_pairs)):
        _check(name, value, int, 2)
    _check("test_shift", test_shift, int, 0)
    if test_shift >= 8:
        raise ValueError(f"run_siamese: test_shift must be smaller than the 8-pixel side of "
                         f"the digits, got {test_shift}")
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
    if model == "mlp":
        encoder, shape = mlp(int(np.prod(x.shape[1:])), tuple(hidden), embedding_dim), hidden
    else:
        encoder, shape = cnn_encoder(tuple(channels), embedding_dim, x.shape[-1]), channels
    network = siamese(encoder)
    parameters = list(network.parameters())
    if loss == "composite":
        head = nn.Parameter(randn(composite_class_count(len(SEEN)), embedding_dim) * 0.1)
        parameters.append(head)
    optimizer = optim.Adam(parameters, lr=lr)
    logs: list[dict[str, float]] = []
    per_epoch = train_composites if loss == "composite" else train_pairs
    examples = (f"{per_epoch} fresh composites of {composite_class_count(len(SEEN))} "
                f"classes" if loss == "composite" else f"{per_epoch} fresh pairs")
    say(f"siamese {model} {'-'.join(map(str, shape))}->{embedding_dim} on digits 0-6, {loss} "
        f"loss, {examples} per epoch, {len(x_train)} training / {len(x_val)} validation "
        f"images")
    for epoch in range(1, epochs + 1):
        epoch_seed = np.random.default_rng([seed, 0, epoch])
        if loss == "composite":
            images, labels = make_composites(x_train, y_train, per_epoch, seed=epoch_seed)
        else:
            x1, x2, t = make_pairs(x_train, y_train, train_pairs, seed=epoch_seed)
        total = 0.0
        for lo in range(0, per_epoch, batch_size):
            part = slice(lo, lo + batch_size)
            optimizer.zero_grad()
            with np.errstate(over="ignore", invalid="ignore"):  # reported once, just below
                if loss == "composite":
                    batch_loss = _composite_loss(network, head, images[part], labels[part])
                else:
                    batch_loss = _pair_loss(loss, margin, network, x1[part], x2[part], t[part])
            if not np.isfinite(batch_loss.item()):
                raise FloatingPointError(
                    f"run_siamese: the loss is {batch_loss.item()} at epoch {epoch}, batch "
                    f"{lo // batch_size + 1}: training diverged; try a smaller lr (now {lr:g})")
            batch_loss.backward()
            with np.errstate(over="ignore", invalid="ignore"):
                optimizer.step()
            total += batch_loss.item() * min(batch_size, per_epoch - lo)
        val_auc = metrics.roc_auc_score(val[2], _scores(network, val[0], val[1], loss, 0))
        logs.append({"epoch": epoch, "loss": total / per_epoch, "val_auc": val_auc})
        say(f"epoch {epoch}/{epochs}  loss {total / per_epoch:.4f}  val_auc {val_auc:.4f}")

    val_scores = _scores(network, val[0], val[1], loss, test_shift)
    threshold = metrics.best_threshold(val[2], val_scores)
    scores = _scores(network, test[0], test[1], loss, test_shift)
    auc = metrics.roc_auc_score(test[2], scores)
    eer, eer_threshold = metrics.equal_error_rate(test[2], scores)
    pixel_scores = -np.linalg.norm((test[0] - test[1]).reshape(len(test[2]), -1), axis=1)
    results = {"auc": auc, "eer": eer, "eer_threshold": eer_threshold,
               "pixel_auc": metrics.roc_auc_score(test[2], pixel_scores),
               "accuracy": metrics.threshold_accuracy(test[2], scores, threshold),
               "threshold": threshold, "val_auc": metrics.roc_auc_score(val[2], val_scores),
               "epochs": logs,
               "seconds": time.perf_counter() - start}
    say(f"verification on unseen classes 7-9: ROC AUC {auc:.4f}  EER {eer:.4f}  accuracy "
        f"{results['accuracy']:.4f} (threshold {threshold:.4f} from validation pairs)")
    say(f"the same pairs by plain pixel distance, which learns nothing: ROC AUC "
        f"{results['pixel_auc']:.4f}")
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        config = {"task": "siamese", "dataset": dataset, "epochs": epochs, "seed": seed,
                  "loss": loss, "lr": lr, "batch_size": batch_size, "model": model,
                  "hidden": list(hidden) if model == "mlp" else None,
                  "channels": list(channels) if model == "cnn" else None,
                  "embedding_dim": embedding_dim, "margin": margin, "train_pairs": train_pairs,
                  "train_composites": train_composites, "val_pairs": val_pairs,
                  "test_pairs": test_pairs, "test_shift": test_shift}
        record = {"config": config, **results}
        io.atomic_write(os.path.join(out_dir, HISTORY),
                        (json.dumps(record, indent=2) + "\n").encode())
        io.save(network.state_dict(), os.path.join(out_dir, WEIGHTS),
                metadata={"task": "siamese", "model": model,
                          "hidden" if model == "mlp" else "channels":
                              json.dumps(list(hidden if model == "mlp" else channels)),
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
