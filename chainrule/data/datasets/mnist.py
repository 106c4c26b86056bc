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
import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import numpy as np

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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_sums(root: Path) -> dict[str, str] | None:
    path = root / "SHA256SUMS"
    if not path.is_file():
        return None
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*").strip()] = digest.lower()
    return sums


def _verify(raw: bytes, name: str, checksums: Mapping[str, str] | None, where: str) -> bytes:
    """Check one file's bytes and return its decompressed content."""
    if checksums is not None:
        if name not in checksums:
            raise ValueError(f"{where}: no SHA-256 checksum given for {name}")
        _compare(checksums[name].lower(), _sha256(raw), name, where)
    try:
        content = gzip.decompress(raw)
    except (OSError, EOFError) as e:
        raise ValueError(f"{where}: {name} is not a valid gzip file ({e})") from e
    if checksums is None:
        _compare(MNIST_IDX_SHA256[name], _sha256(content), name + " (decompressed)", where)
    return content


def _compare(expected: str, actual: str, name: str, where: str) -> None:
    if actual != expected:
        raise ValueError(
            f"{where}: SHA-256 mismatch for {name}: expected {expected}, got {actual} "
            "(corrupted or incomplete file)"
        )


def load_mnist(
    root: str | os.PathLike, checksums: Mapping[str, str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read MNIST from the IDX gzip files in ``root``.

    Returns ``((X_train, y_train), (X_test, y_test))``: ``X`` float32 of shape
    ``(N, 1, 28, 28)`` scaled to ``[0, 1]`` by /255, ``y`` int64; 60,000 training and
    10,000 test images. Files are verified first (see the module docstring); a missing
    or corrupted file raises ``FileNotFoundError`` / ``ValueError`` naming it.
    """
    root = Path(root)
    if checksums is None:
        checksums = _read_sums(root)
    arrays = {}
    for key, name in FILES.items():
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(
                f"load_mnist: {path} not found; put the four MNIST IDX .gz files in {root} "
                "or fetch them with download_mnist(root)"
            )
        arrays[key] = read_idx(_verify(path.read_bytes(), name, checksums, "load_mnist"), name)
    out = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {split} images have shape {images.shape} and labels "
                f"{labels.shape}; expected (N, H, W) and (N,)"
            )
        X = (images.astype(np.float32) / 255.0)[:, None]
        out.append((X, labels.astype(np.int64)))
    return out[0], out[1]


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
    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".mnist-download-", dir=root))
    try:
        fetched = []
        for name in FILES.values():
            if (root / name).is_file():
                try:
                    _verify((root / name).read_bytes(), name, checksums, "download_mnist")
                    continue
                except ValueError:
                    pass  # replaced by a fresh download below
            url = url_base.rstrip("/") + "/" + name
            with urllib.request.urlopen(url, timeout=timeout) as response:
                raw = response.read()
            _verify(raw, name, checksums, f"download_mnist ({url})")
            (tmp / name).write_bytes(raw)
            fetched.append(name)
        for name in fetched:
            os.replace(tmp / name, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not any(root.iterdir()):
            root.rmdir()
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return root
