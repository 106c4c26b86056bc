"""CIFAR-10 (Krizhevsky, 2009) from its official *binary* version, with SHA-256 checks.

``cifar-10-binary.tar.gz`` (https://www.cs.toronto.edu/~kriz/cifar.html) holds
``cifar-10-batches-bin/data_batch_1.bin`` .. ``data_batch_5.bin`` (training, 10,000
images each) and ``test_batch.bin`` (10,000). Every record is 3,073 bytes: the label
(0..9, :data:`CIFAR10_CLASSES`) and the 32×32 image as 1,024 red, then 1,024 green,
then 1,024 blue bytes, rows top to bottom: already channel-first. chainrule reads
these raw bytes only; it never unpickles the "python version" of the data.

chainrule does not bundle CIFAR-10: :func:`download_cifar10` fetches the archive into
a directory and :func:`load_cifar10` reads it, from the archive itself (members are
read in memory, nothing is extracted) or from the six ``.bin`` files if you extracted
them (in ``root/cifar-10-batches-bin/`` or in ``root``).

Files are checked before use against, in this order: the ``checksums`` you pass
(``{file name: SHA-256}``), a ``SHA256SUMS`` file next to them, or the published
SHA-256s: :data:`CIFAR10_ARCHIVE_SHA256` for the archive (170,052,171 bytes, pinned
alike by TensorFlow Datasets' checksum registry and other public downloaders) and
:data:`CIFAR10_BIN_SHA256` for the extracted files.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from chainrule.data.datasets._files import (
    compare,
    download_files,
    read_sums,
    sha256_bytes,
    sha256_file,
)

ARCHIVE = "cifar-10-binary.tar.gz"
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
RECORD_BYTES = 1 + 3 * 32 * 32

#: SHA-256 of the official ``cifar-10-binary.tar.gz``.
CIFAR10_ARCHIVE_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"

#: SHA-256 of the six files inside it.
CIFAR10_BIN_SHA256 = {
    "data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    "data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    "data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    "data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    "data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    "test_batch.bin": "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
}

#: The labels 0..9 in order.
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

DEFAULT_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

_HOW = (f"fetch it with download_cifar10(root), or download the binary version {ARCHIVE} "
        "from https://www.cs.toronto.edu/~kriz/cifar.html into that directory")


def _expected(name: str, checksums: Mapping[str, str] | None, where: str) -> str:
    if checksums is not None:
        if name not in checksums:
            raise ValueError(f"{where}: no SHA-256 checksum given for {name}")
        return checksums[name]
    return CIFAR10_ARCHIVE_SHA256 if name == ARCHIVE else CIFAR10_BIN_SHA256[name]


def _records(data: bytes, name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (n, 3, 32, 32), labels) of one ``.bin`` file's bytes."""
    if not data or len(data) % RECORD_BYTES:
        raise ValueError(
            f"{where}: {name} has {len(data)} bytes, not a whole number of "
            f"{RECORD_BYTES}-byte records (1 label byte + 3×32×32 pixel bytes)"
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.max() > 9:
        raise ValueError(f"{where}: {name} has label {int(labels.max())}; CIFAR-10 labels are "
                         "0..9 (is this the CIFAR-100 binary version?)")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def _from_archive(path: Path, where: str) -> dict[str, bytes]:
    """The six ``.bin`` members' bytes, read from the (verified) archive in one pass."""
    wanted = {f"{FOLDER}/{name}": name for name in TRAIN_FILES + TEST_FILES}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = wanted.get(member.name)
                if name is not None and member.isfile():
                    found[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"{where}: {path} is not a readable .tar.gz archive ({e})") from e
    missing = [f"{FOLDER}/{n}" for n in TRAIN_FILES + TEST_FILES if n not in found]
    if missing:
        raise ValueError(f"{where}: {path} lacks {', '.join(missing)}")
    return found


def load_cifar10(
    root: str | os.PathLike, checksums: Mapping[str, str] | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read CIFAR-10 (binary version) from ``root``.

    ``root`` holds ``cifar-10-binary.tar.gz`` (as :func:`download_cifar10` leaves it),
    or the extracted ``cifar-10-batches-bin/`` folder, or the six ``.bin`` files.
    Returns ``((X_train, y_train), (X_test, y_test))`` as :func:`load_mnist`: ``X``
    float32 of shape ``(N, 3, 32, 32)`` (RGB) scaled to ``[0, 1]`` by /255, ``y``
    int64 in 0..9; 50,000 training and 10,000 test images (the training set takes
    600 MB as float32). Files are verified first (see the module docstring); missing
    or corrupted data raises ``FileNotFoundError`` / ``ValueError`` naming the file.
    """
    where = "load_cifar10"
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{where}: directory {root} not found; {_HOW}")
    names = TRAIN_FILES + TEST_FILES
    candidates = [d for d in (root / FOLDER, root) if any((d / n).is_file() for n in names)]
    complete = [d for d in candidates if all((d / n).is_file() for n in names)]
    if complete or (candidates and not (root / ARCHIVE).is_file()):
        folder = (complete or candidates)[0]
        sums = checksums if checksums is not None else read_sums(folder)
        raw = {}
        for name in names:
            path = folder / name
            if not path.is_file():
                raise FileNotFoundError(f"{where}: {path} not found; {_HOW}")
            raw[name] = path.read_bytes()
            compare(_expected(name, sums, where), sha256_bytes(raw[name]), name, where)
    elif (root / ARCHIVE).is_file():
        sums = checksums if checksums is not None else read_sums(root)
        compare(_expected(ARCHIVE, sums, where), sha256_file(root / ARCHIVE), ARCHIVE, where)
        raw = _from_archive(root / ARCHIVE, where)
    else:
        raise FileNotFoundError(
            f"{where}: no CIFAR-10 data in {root} (expected {ARCHIVE}, or {FOLDER}/ with "
            f"{', '.join(TRAIN_FILES + TEST_FILES)}); {_HOW}"
        )
    out = []
    for files in (TRAIN_FILES, TEST_FILES):
        parts = [_records(raw[name], name, where) for name in files]
        images = np.concatenate([p[0] for p in parts]).astype(np.float32)
        images /= 255.0
        labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
        out.append((images, labels))
    return out[0], out[1]


def download_cifar10(
    root: str | os.PathLike,
    url: str = DEFAULT_URL,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``cifar-10-binary.tar.gz`` from ``url`` into ``root`` and return ``root``.

    The archive is streamed into a temporary file inside ``root`` and its SHA-256
    checked (``checksums[ARCHIVE]``, else :data:`CIFAR10_ARCHIVE_SHA256`) before it is
    moved into place: a failed or corrupted download raises and leaves nothing behind
    (nor ``root``, if this call created it). A valid archive already there is kept.
    Load it with :func:`load_cifar10`, which reads it without extracting it.
    """
    expected = _expected(ARCHIVE, checksums, "download_cifar10")

    def verify(path: Path, name: str, at: str) -> None:
        compare(expected, sha256_file(path), name, at)

    return download_files(root, {ARCHIVE: url}, verify, "download_cifar10", timeout)


__all__ = [
    "CIFAR10_ARCHIVE_SHA256",
    "CIFAR10_BIN_SHA256",
    "CIFAR10_CLASSES",
    "download_cifar10",
    "load_cifar10",
]
