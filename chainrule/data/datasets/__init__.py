"""Datasets: the bundled 8×8 digits, MNIST from IDX files, and 2-D toy problems.

Every loader returns NumPy arrays: images float32 in ``[0, 1]`` (NCHW), labels int64.
"""

from chainrule.data.datasets.digits import load_digits
from chainrule.data.datasets.mnist import MNIST_IDX_SHA256, download_mnist, load_mnist, read_idx
from chainrule.data.datasets.synthetic import make_blobs, make_moons, make_spirals

__all__ = [
    "MNIST_IDX_SHA256",
    "download_mnist",
    "load_digits",
    "load_mnist",
    "make_blobs",
    "make_moons",
    "make_spirals",
    "read_idx",
]
