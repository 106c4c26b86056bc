"""Datasets: the bundled 8×8 digits, MNIST, Fashion-MNIST and CIFAR-10 from their
official files, MNIST-1D (generated), and 2-D toy problems.

Every loader returns NumPy arrays: images float32 in ``[0, 1]`` (NCHW), labels int64;
the file-based sets as ``((X_train, y_train), (X_test, y_test))``.
"""

from chainrule.data.datasets.cifar10 import (
    CIFAR10_ARCHIVE_SHA256,
    CIFAR10_BIN_SHA256,
    CIFAR10_CLASSES,
    download_cifar10,
    load_cifar10,
)
from chainrule.data.datasets.digits import load_digits
from chainrule.data.datasets.fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SHA256,
    download_fashion_mnist,
    load_fashion_mnist,
)
from chainrule.data.datasets.mnist import MNIST_IDX_SHA256, download_mnist, load_mnist, read_idx
from chainrule.data.datasets.mnist1d import load_mnist1d
from chainrule.data.datasets.synthetic import make_blobs, make_moons, make_spirals

__all__ = [
    "CIFAR10_ARCHIVE_SHA256",
    "CIFAR10_BIN_SHA256",
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256",
    "MNIST_IDX_SHA256",
    "download_cifar10",
    "download_fashion_mnist",
    "download_mnist",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist1d",
    "make_blobs",
    "make_moons",
    "make_spirals",
    "read_idx",
]
