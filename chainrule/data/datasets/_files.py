"""Shared plumbing of the dataset readers: SHA-256 checks and all-or-nothing downloads."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(root: Path) -> dict[str, str] | None:
    """The ``SHA256SUMS`` file in ``root`` (``sha256sum`` format) as ``{name: digest}``."""
    path = root / "SHA256SUMS"
    if not path.is_file():
        return None
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*").strip()] = digest.lower()
    return sums


def compare(expected: str, actual: str, name: str, where: str) -> None:
    if actual != expected.lower():
        raise ValueError(
            f"{where}: SHA-256 mismatch for {name}: expected {expected.lower()}, got {actual} "
            "(corrupted or incomplete file)"
        )


def fetch(url: str, destination: Path, timeout: float) -> None:
    """Stream ``url`` into the file ``destination``."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(destination, "wb") as f:
        shutil.copyfileobj(response, f, _CHUNK)


def download_files(
    root: str | os.PathLike,
    files: Mapping[str, str],
    verify: Callable[[Path, str, str], None],
    where: str,
    timeout: float,
) -> Path:
    """Download ``files`` (``{file name: url}``) into ``root``, all or nothing.

    Every file goes into a temporary directory inside ``root`` and is checked by
    ``verify(path, name, where)`` (which raises ``ValueError``) before any is moved into
    place; on any failure the temporary files, and ``root`` itself if this call created
    it and it is empty, are removed before the exception propagates. Files already in
    ``root`` that pass ``verify`` are kept and not downloaded again.
    """
    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        fetched = []
        for name, url in files.items():
            if (root / name).is_file():
                try:
                    verify(root / name, name, where)
                    continue
                except ValueError:
                    pass  # replaced by a fresh download below
            fetch(url, tmp / name, timeout)
            verify(tmp / name, name, f"{where} ({url})")
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
