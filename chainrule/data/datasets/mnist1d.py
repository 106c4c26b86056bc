"""MNIST-1D (Greydanus and Kobak, 2020/2024): ten 1-D digit templates, padded,
stretched, shifted, sheared and noised into length-40 signals.

Generated offline by the authors' package ``mnist1d`` (Apache-2.0), an optional
dependency: ``pip install "chainrule[data]"``. :func:`load_mnist1d` calls its
generator, ``mnist1d.data.make_dataset``, never ``get_dataset``, which would try to
download a pickle from GitHub and to write a cache file into the working directory.
Small enough (4,000 + 1,000 signals) to regenerate every time (a second or two).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np


def _package() -> Any:
    try:
        import mnist1d.data as data
        import mnist1d.utils as utils
    except ImportError as e:
        raise ImportError(
            "load_mnist1d needs the optional package 'mnist1d' (the MNIST-1D authors' "
            "generator): install it with pip install \"chainrule[data]\" (or pip install "
            "mnist1d)"
        ) from e
    return data, utils


def load_mnist1d(
    seed: int = 42, **dataset_args: Any
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Generate MNIST-1D deterministically, with the paper's defaults.

    Args:
        seed: the generator's seed; 42 is the package's default, the seed of the data
            set the authors published.
        **dataset_args: overrides of ``mnist1d.data.get_dataset_args()``: ``num_samples``
            (5000), ``train_split`` (0.8), ``final_seq_length`` (40), ``template_len``,
            ``padding``, ``scale_coeff``, ``max_translation``, ``corr_noise_scale``,
            ``iid_noise_scale``, ``shear_scale``, ``shuffle_seq``.

    Returns ``((X_train, y_train), (X_test, y_test))``: ``X`` float32 of shape
    ``(N, 1, L)`` (one channel, for ``Conv1d``; ``X[:, 0]`` for an MLP), standardised
    over the whole set to mean 0 and standard deviation 1 (as the package does; not in
    ``[0, 1]`` like the image sets), ``y`` int64 in 0..9; by default 4,000 training and
    1,000 test signals of length 40. The package seeds NumPy's and Python's global
    random state; both are restored afterwards.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"load_mnist1d: seed must be an int, got {seed!r}")
    data, utils = _package()
    args = data.get_dataset_args(as_dict=True)
    allowed = sorted(set(args) - {"seed", "url"})
    unknown = sorted(set(dataset_args) - set(allowed))
    if unknown:
        raise TypeError(f"load_mnist1d: unknown dataset arguments {unknown}; the arguments are "
                        f"{allowed}")
    args.update(dataset_args, seed=int(seed))
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        generated = data.make_dataset(utils.ObjectView(args))
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    out = []
    for x_key, y_key in (("x", "y"), ("x_test", "y_test")):
        X = np.asarray(generated[x_key], dtype=np.float32)[:, None, :]
        out.append((X, np.asarray(generated[y_key]).astype(np.int64)))
    return out[0], out[1]


__all__ = ["load_mnist1d"]
