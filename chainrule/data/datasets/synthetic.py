"""Toy 2-D classification problems: moons, spirals, blobs.

Each returns ``(X, y)`` with ``X`` float32 of shape ``(n_samples, n_features)`` and
``y`` int64 class labels. ``seed`` is an int, a ``numpy.random.Generator``, or None
for the global chainrule generator (``chainrule.manual_seed``).
"""

from __future__ import annotations

import numpy as np

from chainrule.random import as_generator


def _check_n(n_samples: int, minimum: int, name: str) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"{name}: n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < minimum:
        raise ValueError(f"{name}: n_samples must be at least {minimum}, got {n_samples}")
    return int(n_samples)


def _check_noise(noise: float, name: str) -> None:
    if noise < 0:
        raise ValueError(f"{name}: noise must be non-negative, got {noise}")


def _finish(
    X: np.ndarray, y: np.ndarray, shuffle: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X.astype(np.float32), y.astype(np.int64)


def make_moons(
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``).

    Class 0 (``n_samples // 2`` points) lies on ``(cos t, sin t)``, class 1 on
    ``(1 - cos t, 1/2 - sin t)``, ``t`` evenly spaced in ``[0, π]``; then Gaussian
    noise of standard deviation ``noise`` is added to every coordinate.
    """
    n = _check_n(n_samples, 2, "make_moons")
    _check_noise(noise, "make_moons")
    rng = as_generator(seed, "make_moons")
    n_out = n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n - n_out)
    X = np.concatenate(
        [np.stack([np.cos(t_out), np.sin(t_out)], 1),
         np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)]
    )
    y = np.repeat([0, 1], [n_out, n - n_out])
    X, y = _finish(X, y, shuffle, rng)
    if noise:
        X += rng.normal(scale=noise, size=X.shape).astype(np.float32)
    return X, y


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.0,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
    turns: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the classic non-linearly-separable toy).

    Point ``i`` of class ``k`` (of ``K`` classes) has radius ``r = i / (n_k - 1)`` and
    angle ``θ = 2πk/K + 2π·turns·r``, i.e. ``(r cos θ, r sin θ)``; Gaussian noise of
    standard deviation ``noise`` is added to every coordinate. Classes get
    ``n_samples // K`` points, the first ``n_samples % K`` classes one more.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"make_spirals: n_classes must be an int, got {n_classes!r}")
    if n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be at least 2, got {n_classes}")
    n = _check_n(n_samples, 2 * n_classes, "make_spirals")
    _check_noise(noise, "make_spirals")
    rng = as_generator(seed, "make_spirals")
    sizes = np.full(n_classes, n // n_classes)
    sizes[: n % n_classes] += 1
    y = np.repeat(np.arange(n_classes), sizes)
    r = np.concatenate([np.linspace(0.0, 1.0, s) for s in sizes])
    theta = 2 * np.pi * y / n_classes + 2 * np.pi * turns * r
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], 1)
    X, y = _finish(X, y, shuffle, rng)
    if noise:
        X += rng.normal(scale=noise, size=X.shape).astype(np.float32)
    return X, y


def make_blobs(
    n_samples: int = 100,
    centers: int | np.ndarray = 3,
    cluster_std: float | np.ndarray = 1.0,
    seed: int | np.random.Generator | None = None,
    n_features: int = 2,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs (as ``sklearn.datasets.make_blobs``).

    ``centers`` is a number of centers (drawn uniformly in ``center_box``) or an array
    of shape ``(n_centers, n_features)``; ``cluster_std`` a float or one per center.
    Center ``k`` gets ``n_samples // n_centers`` points (the first
    ``n_samples % n_centers`` one more), drawn from ``N(center_k, cluster_std_k² I)``.
    """
    n = _check_n(n_samples, 1, "make_blobs")
    rng = as_generator(seed, "make_blobs")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        if centers < 1:
            raise ValueError(f"make_blobs: centers must be at least 1, got {centers}")
        centers = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or len(centers) == 0:
            raise ValueError(
                "make_blobs: centers must be an int or an array of shape (n_centers, "
                f"n_features), got shape {centers.shape}"
            )
    k = len(centers)
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(std < 0):
        raise ValueError(f"make_blobs: cluster_std must be non-negative, got {cluster_std}")
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    X = np.concatenate(
        [rng.normal(c, s, size=(m, centers.shape[1])) for c, s, m in zip(centers, std, sizes)]
    )
    y = np.repeat(np.arange(k), sizes)
    return _finish(X, y, shuffle, rng)
