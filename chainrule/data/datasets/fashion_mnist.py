"""Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): Zalando's 28×28 grey article images.

The same layout as MNIST (four IDX gzip files with MNIST's file names, 60,000
training and 10,000 test images, ten classes: :data:`FASHION_MNIST_CLASSES`), read by
the same verified IDX reader. chainrule does not bundle it: :func:`load_fashion_mnist`
reads it from a directory you give, :func:`download_fashion_mnist` fetches it into
one. Keep it in its own directory: the file names are MNIST's.

Every file is checked before use against, in this order: the ``checksums`` you pass
(``{file name: SHA-256 of the .gz}``), a ``SHA256SUMS`` file in the directory, or
:data:`FASHION_MNIST_SHA256`, the SHA-256 of the official ``.gz`` files as Zalando
distributes them (https://github.com/zalandoresearch/fashion-mnist; the project
publishes MD5s, these SHA-256s are the ones two independent public downloaders pin).
A mirror that re-gzipped the files needs its own ``checksums`` or ``SHA256SUMS``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from chainrule.data.datasets.mnist import FILES, download_idx_dataset, load_idx_dataset

#: SHA-256 of the official Fashion-MNIST ``.gz`` files.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "train-labels-idx1-ubyte.gz":
        "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "t10k-images-idx3-ubyte.gz":
        "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    "t10k-labels-idx1-ubyte.gz":
        "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
}

#: The labels 0..9 in order.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: Where Zalando's README points for the files.
DEFAULT_URL_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


def load_fashion_mnist(
    root: str | os.PathLike, checksums: Mapping[str, str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read Fashion-MNIST from the four IDX gzip files in ``root``.

    Returns ``((X_train, y_train), (X_test, y_test))`` as :func:`load_mnist`: ``X``
    float32 of shape ``(N, 1, 28, 28)`` in ``[0, 1]``, ``y`` int64 in 0..9. Files are
    verified first (see the module docstring); a missing or corrupted file raises
    ``FileNotFoundError`` / ``ValueError`` naming it.
    """
    return load_idx_dataset(root, checksums, where="load_fashion_mnist",
                            description="Fashion-MNIST", downloader="download_fashion_mnist",
                            reference=FASHION_MNIST_SHA256, reference_of="gz")


def download_fashion_mnist(
    root: str | os.PathLike,
    url_base: str = DEFAULT_URL_BASE,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download the four Fashion-MNIST files from ``url_base`` into ``root``; return ``root``.

    Each file is verified (``checksums``, else :data:`FASHION_MNIST_SHA256`) in a
    temporary directory before any is moved into place: a failed or corrupted download
    raises and leaves nothing behind. Valid files already present are kept. Load them
    with :func:`load_fashion_mnist`.
    """
    return download_idx_dataset(root, url_base, checksums, timeout,
                                where="download_fashion_mnist",
                                reference=FASHION_MNIST_SHA256, reference_of="gz")


__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256",
    "FILES",
    "download_fashion_mnist",
    "load_fashion_mnist",
]
