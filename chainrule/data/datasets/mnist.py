"""MNIST from the four IDX gzip files, with SHA-256 verification.

chainrule does not bundle MNIST: :func:`load_mnist` reads it from a directory you
give, :func:`download_mnist` fetches it into one. Every file is checked before use
against, in this order of preference: the ``checksums`` you pass (SHA-256 of the
``.gz`` files), a ``SHA256SUMS`` file in the directory (``sha256sum`` format), or
:data:`MNIST_IDX_SHA256`, the SHA-256 of the *decompressed* IDX files, which holds
for every mirror however it gzipped them.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from chainrule.data.datasets._files import compare, download_files, read_sums, sha256_bytes

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: SHA-256 of the decompressed content of each file (the canonical MNIST IDX data).
MNIST_IDX_SHA256 = {
    "train-images-idx3-ubyte.gz":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

DEFAULT_URL_BASE = "https://ossci-datasets.s3.amazonaws.com/mnist/"

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {name} does not start with an IDX magic number")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {name} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"read_idx: {name} has {len(data)} bytes, but its header (shape {shape}, "
            f"{dtype}) implies {expected}"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape)


def _verify(raw: bytes, name: str, checksums: Mapping[str, str] | None, where: str,
            reference: Mapping[str, str] = MNIST_IDX_SHA256,
            reference_of: str = "content") -> bytes:
    """Check one file's bytes and return its decompressed content.

    ``checksums`` (SHA-256 of the ``.gz`` files) win; without them the file is checked
    against ``reference``: SHA-256s of the decompressed ``content`` (MNIST) or of the
    ``gz`` files themselves (Fashion-MNIST).
    """
    if checksums is not None:
        if name not in checksums:
            raise ValueError(f"{where}: no SHA-256 checksum given for {name}")
        compare(checksums[name], sha256_bytes(raw), name, where)
    elif reference_of == "gz":
        compare(reference[name], sha256_bytes(raw), name, where)
    try:
        content = gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise ValueError(f"{where}: {name} is not a valid gzip file ({e})") from e
    if checksums is None and reference_of == "content":
        compare(reference[name], sha256_bytes(content), name + " (decompressed)", where)
    return content


def load_idx_dataset(
    root: str | os.PathLike,
    checksums: Mapping[str, str] | None,
    *,
    where: str,
    description: str,
    downloader: str,
    reference: Mapping[str, str],
    reference_of: str,
    files: Mapping[str, str] = FILES,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read an MNIST-layout data set (four IDX gzip files) from ``root``, verified."""
    root = Path(root)
    if checksums is None:
        checksums = read_sums(root)
    arrays = {}
    for key, name in files.items():
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(
                f"{where}: {path} not found; put the four {description} IDX .gz files in "
                f"{root} or fetch them with {downloader}(root)"
            )
        content = _verify(path.read_bytes(), name, checksums, where, reference, reference_of)
        arrays[key] = read_idx(content, name)
    out = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{where}: {split} images have shape {images.shape} and labels "
                f"{labels.shape}; expected (N, H, W) and (N,)"
            )
        X = (images.astype(np.float32) / 255.0)[:, None]
        out.append((X, labels.astype(np.int64)))
    return out[0], out[1]


def download_idx_dataset(
    root: str | os.PathLike,
    url_base: str,
    checksums: Mapping[str, str] | None,
    timeout: float,
    *,
    where: str,
    reference: Mapping[str, str],
    reference_of: str,
    files: Mapping[str, str] = FILES,
) -> Path:
    """Download the four IDX gzip files from ``url_base`` into ``root``, all or nothing."""

    def verify(path: Path, name: str, at: str) -> None:
        _verify(path.read_bytes(), name, checksums, at, reference, reference_of)

    urls = {name: url_base.rstrip("/") + "/" + name for name in files.values()}
    return download_files(root, urls, verify, where, timeout)


def load_mnist(
    root: str | os.PathLike, checksums: Mapping[str, str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read MNIST from the IDX gzip files in ``root``.

    Returns ``((X_train, y_train), (X_test, y_test))``: ``X`` float32 of shape
    ``(N, 1, 28, 28)`` scaled to ``[0, 1]`` by /255, ``y`` int64; 60,000 training and
    10,000 test images. Files are verified first (see the module docstring); a missing
    or corrupted file raises ``FileNotFoundError`` / ``ValueError`` naming it.
    """
    return load_idx_dataset(root, checksums, where="load_mnist", description="MNIST",
                            downloader="download_mnist", reference=MNIST_IDX_SHA256,
                            reference_of="content")


def download_mnist(
    root: str | os.PathLike,
    url_base: str = DEFAULT_URL_BASE,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download the four MNIST files from ``url_base`` into ``root`` and return ``root``.

    All files are downloaded into a temporary directory inside ``root`` and verified
    (``checksums``: SHA-256 of each ``.gz`` as served; None: the decompressed content
    against :data:`MNIST_IDX_SHA256`) before any is moved into place, so a failed
    or corrupted download raises and leaves nothing behind. Files already present
    and valid are not downloaded again. Load them with :func:`load_mnist`.
    """
    return download_idx_dataset(root, url_base, checksums, timeout, where="download_mnist",
                                reference=MNIST_IDX_SHA256, reference_of="content")
