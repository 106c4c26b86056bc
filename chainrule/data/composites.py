"""Composite classes: many new "classes" of images made from the halves of known ones.

A verifier that must tell apart classes it never saw (digits 7-9 after training on 0-6)
learns better features from more classes than the training set has. Each composite
image takes the top half of an image of class i over the bottom half of an image of
class j (or the left half of i beside the right half of j, or a whole image of i), then
one of the 8 rotations and mirrors of the square, then a small zero-filled shift. Its
class is the tuple (kind, i, j, orientation); two halves of the same class make what is
nearly a whole digit of it, so they take that class (whole, i, i, orientation). k known
classes give

    8·k (whole) + 8·k(k-1) (top/bottom, i ≠ j) + 8·k(k-1) (left/right) = 8k(2k - 1)

composite classes: 728 from the seven digits 0-6. The shift is an augmentation, not
part of the class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.data.transforms import _crop_windows
from chainrule.random import as_generator
from chainrule.tensor import Tensor

__all__ = ["composite_class_count", "make_composites"]

#: how a composite is made, in the order of its class ids
KINDS = ("whole", "top_bottom", "left_right")
ORIENTATIONS = 8


def composite_class_count(n_classes: int) -> int:
    """The number of composite classes from ``n_classes`` known classes: 8k(2k - 1)."""
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 1:
        raise ValueError(f"composite_class_count: n_classes must be a positive int, got "
                         f"{n_classes!r}")
    return ORIENTATIONS * int(n_classes) * (2 * int(n_classes) - 1)


def _orient(images: np.ndarray, orientation: np.ndarray) -> np.ndarray:
    """Each square image (..., H, H) turned by orientation % 4 quarter turns, then
    mirrored left-right when orientation >= 4."""
    out = np.empty_like(images)
    for o in range(ORIENTATIONS):
        chosen = orientation == o
        turned = np.rot90(images[chosen], o % 4, axes=(-2, -1))
        out[chosen] = turned[..., ::-1] if o >= 4 else turned
    return out


def make_composites(
    x: Any, y: Any, n: int, seed: int | np.random.Generator | None = None, *, max_shift: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` composite images of the square images ``x`` (classes ``y``) and their
    composite class ids: ``(images, labels)``.

    - Kind: a third each, at random: a whole image of class i; the top H//2 rows of an
      image of class i over the remaining rows of one of class j; the left W//2 columns
      of class i beside the remaining columns of class j. i and j are drawn uniformly
      from the classes (j may equal i) and each image uniformly within its class.
    - Orientation: one of the 8 symmetries of the square (0-3 quarter turns, 4-7 the
      same then mirrored left-right), uniformly.
    - Shift: a zero-filled shift of -max_shift..max_shift pixels along each axis,
      uniformly; it does not change the class.
    - Labels: with the classes of ``y`` numbered 0..k-1 in sorted order, whole images,
      and composites of two halves of the same class i, get ``8i + o``; for i ≠ j, with
      ``m = (k-1)·i + (j if j < i else j - 1)`` numbering the ordered pairs, top/bottom
      get ``8k + 8m + o`` and left/right ``8k + 8k(k-1) + 8m + o``: ids 0 ..
      ``composite_class_count(k)`` - 1.

    ``x``: an array (or Tensor) of shape (N, H, H) or (N, C, H, H); ``y``: N labels.
    The same ``seed`` (an int or a ``numpy.random.Generator``; None: the global
    chainrule generator) gives the same composites. Returns ``images`` with the dtype
    and trailing shape of ``x`` and ``labels`` int64 of shape (n,).
    """
    op = "make_composites"
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{op}: n must be a positive int, got {n!r}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
        raise ValueError(f"{op}: max_shift must be an int >= 0, got {max_shift!r}")
    x = x.data if isinstance(x, Tensor) else np.asarray(x)
    y = y.data if isinstance(y, Tensor) else np.asarray(y)
    if x.ndim not in (3, 4) or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op}: x must hold square images, shape (N, H, H) or (N, C, H, H), "
                         f"got {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{op}: x holds no images (shape {x.shape}); composites need at "
                         f"least one image")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{op}: y must be 1-D with one label per image, got shape {y.shape} "
                         f"for {len(x)} images")
    if max_shift >= x.shape[-1]:
        raise ValueError(f"{op}: max_shift must be smaller than the image side "
                         f"{x.shape[-1]}, got {max_shift}")
    rng = as_generator(seed, op)
    _, codes, sizes = np.unique(y, return_inverse=True, return_counts=True)
    k = len(sizes)
    members = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    kind = rng.integers(0, len(KINDS), n)
    i = rng.integers(0, k, n)
    j = np.where(kind == 0, i, rng.integers(0, k, n))
    first = x[members[starts[i] + (rng.random(n) * sizes[i]).astype(np.int64)]]
    second = x[members[starts[j] + (rng.random(n) * sizes[j]).astype(np.int64)]]
    side = x.shape[-1]
    rows_from_first = np.arange(side)[:, None] < side // 2  # (H, 1): the top half
    cols_from_first = np.arange(side)[None, :] < side // 2  # (1, W): the left half
    keep = np.where((kind == 1)[:, None, None], rows_from_first,
                    np.where((kind == 2)[:, None, None], cols_from_first, True))
    keep = keep.reshape((n,) + (1,) * (x.ndim - 3) + (side, side))
    images = np.where(keep, first, second).astype(x.dtype, copy=False)
    orientation = rng.integers(0, ORIENTATIONS, n)
    images = _orient(images, orientation)
    if max_shift:  # a window of the zero-padded image, offset by max_shift - shift
        dy, dx = rng.integers(-max_shift, max_shift + 1, (2, n))
        planes = images.reshape(n, -1, side, side)
        padded = np.pad(planes, [(0, 0), (0, 0)] + [(max_shift, max_shift)] * 2)
        offsets = max_shift - np.stack([dy, dx], axis=1)
        images = _crop_windows(padded, (side, side), offsets).reshape(images.shape)
    whole = (kind == 0) | (i == j)
    pair = np.where(whole, i, (k - 1) * i + np.where(j < i, j, j - 1))
    offset = np.array([0, ORIENTATIONS * k, ORIENTATIONS * k * k])[np.where(whole, 0, kind)]
    labels = offset + ORIENTATIONS * pair + orientation
    return np.ascontiguousarray(images), labels.astype(np.int64)
