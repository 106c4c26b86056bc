"""The 8×8 handwritten digits bundled with chainrule (the set scikit-learn ships).

``digits.csv.gz`` is a copy of ``sklearn/datasets/data/digits.csv.gz`` from
scikit-learn 1.9.1 (BSD-3-Clause); see README.md next to it for origin and license.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

N_DIGITS = 1797


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 UCI handwritten digits: ``(X, y)``.

    ``X`` is float32 of shape ``(1797, 1, 8, 8)`` (NCHW), pixel counts 0..16 divided
    by 16 so it lies in ``[0, 1]``; ``y`` is int64 in 0..9. Same samples and order as
    ``sklearn.datasets.load_digits()``.
    """
    with resources.files(__package__).joinpath("digits.csv.gz").open("rb") as raw:
        with gzip.open(raw, "rt") as f:
            data = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if data.shape != (N_DIGITS, 65):
        raise ValueError(
            f"load_digits: the bundled digits.csv.gz has shape {data.shape}, expected "
            f"({N_DIGITS}, 65); the installation is damaged"
        )
    X = (data[:, :64].astype(np.float32) / 16.0).reshape(N_DIGITS, 1, 8, 8)
    return X, data[:, 64].copy()
