"""Labelled pairs for similarity learning (Siamese networks, verification).

``x1, x2, t = make_pairs(x, y, n_pairs, seed)``: pair ``k`` is ``(x1[k], x2[k])`` with
``t[k] = +1`` when both samples come from the same class (a genuine pair) and ``-1``
otherwise (an impostor pair).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.random import as_generator
from chainrule.tensor import Tensor

__all__ = ["make_pairs"]


def _spread_evenly(total: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` items over ``k`` slots: ⌊total/k⌋ each, the remainder one each to
    randomly chosen slots."""
    counts = np.full(k, total // k, dtype=np.int64)
    counts[rng.choice(k, total % k, replace=False)] += 1
    return counts


def make_pairs(
    x: Any, y: Any, n_pairs: int, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_pairs`` labelled pairs of samples of ``x``: ``(x1, x2, t)``, t = +1 genuine
    (same class), -1 impostor (different classes).

    - Balance: ⌈n/2⌉ genuine and ⌊n/2⌋ impostor pairs (an odd ``n_pairs`` gives the
      genuine side the extra pair).
    - Classes: the genuine pairs are spread over the classes as evenly as possible
      (counts differ by at most one); each impostor pair takes its first sample from
      the classes spread the same way and its second from a different class drawn
      uniformly, so every class appears about equally often on both sides.
    - Samples are drawn uniformly within their class, with replacement across pairs
      (a pair may repeat), but a sample is never paired with itself.
    - Order: the pairs are shuffled; the same ``seed`` (an int or a
      ``numpy.random.Generator``; None: the global chainrule generator) gives the same
      pairs.

    ``x`` is an array (or Tensor) of ``N`` samples along its first axis, ``y`` their
    ``N`` class labels. Returns arrays: ``x1`` and ``x2`` of shape
    ``(n_pairs, *x.shape[1:])`` and ``t`` of shape ``(n_pairs,)``, int64.
    """
    op = "make_pairs"
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)):
        raise TypeError(f"{op}: n_pairs must be an int, got {n_pairs!r}")
    if n_pairs < 2:
        raise ValueError(f"{op}: n_pairs must be at least 2 (one genuine and one impostor "
                         f"pair), got {n_pairs}")
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{op}: y must be 1-D class labels, got shape {y.shape}")
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y))
        raise ValueError(f"{op}: y holds {len(bad)} non-finite label(s), first y[{bad[0]}] = "
                         f"{y[bad[0]]}; class labels must be finite: drop or relabel these "
                         "samples")
    if x.ndim == 0 or len(x) != len(y):
        raise ValueError(f"{op}: x and y must hold the same number of samples, got x of "
                         f"shape {x.shape} and {len(y)} labels")
    classes, codes, sizes = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{op}: y must hold at least 2 classes to form impostor pairs, got "
                         f"{classes.tolist()}")
    if sizes.min() < 2:
        lonely = classes[sizes < 2].tolist()
        raise ValueError(f"{op}: every class needs at least 2 samples to form genuine pairs; "
                         f"class(es) {lonely} have 1")
    rng = as_generator(seed, op)
    k = len(classes)
    members = np.argsort(codes, kind="stable")  # sample indices grouped by class
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_genuine, n_impostor = (n_pairs + 1) // 2, n_pairs // 2

    def draw(cls: np.ndarray) -> np.ndarray:
        """The position within its class of one random sample of each class in ``cls``."""
        return (rng.random(len(cls)) * sizes[cls]).astype(np.int64)

    # genuine: i and j from the same class, j ≠ i (an offset of 1..size-1 modulo size)
    same = np.repeat(np.arange(k), _spread_evenly(n_genuine, k, rng))
    i = draw(same)
    offset = 1 + (rng.random(len(same)) * (sizes[same] - 1)).astype(np.int64)
    j = (i + offset) % sizes[same]
    first = [starts[same] + i]
    second = [starts[same] + j]
    # impostor: a class spread evenly, then another class (shift of 1..k-1 modulo k)
    one = np.repeat(np.arange(k), _spread_evenly(n_impostor, k, rng))
    other = (one + 1 + (rng.random(len(one)) * (k - 1)).astype(np.int64)) % k
    first.append(starts[one] + draw(one))
    second.append(starts[other] + draw(other))
    a, b = members[np.concatenate(first)], members[np.concatenate(second)]
    t = np.concatenate([np.ones(n_genuine, np.int64), -np.ones(n_impostor, np.int64)])
    order = rng.permutation(n_pairs)
    return x[a[order]], x[b[order]], t[order]
