"""Saving and loading: the safetensors format, no pickle.

A file written by :func:`save` is a plain safetensors file: it opens with the
``safetensors`` library and its tensors load into the same architecture built in
PyTorch (``torch_model.load_state_dict(safetensors.torch.load_file(path))``).
Writes are atomic: the bytes go to a temporary file in the target directory,
are fsync-ed, and the file is renamed into place, so a crash never leaves a
half-written checkpoint. A SHA-256 of the tensors is kept in the header, so a
truncated *or* corrupted file is refused with an error naming it.

A *checkpoint* (:func:`save_checkpoint`) is such a file holding the model's
``state_dict`` under its own keys, the optimizer's state arrays under
``optimizer.*`` keys, and everything else -- ``param_groups``, the scheduler's
state, the global random-number generator's state, the caller's ``extra``
(epoch, history, the data loader's generator state ...) -- as JSON in the
header's metadata. Loading it restores all of them, so a resumed run continues
exactly as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

from chainrule import random as _random
from chainrule.tensor import Tensor

__all__ = [
    "save",
    "load",
    "load_metadata",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_extra",
    "atomic_write",
]

_CHECKSUM_KEY = "chainrule.sha256"
_CHECKPOINT_FORMAT = "chainrule.checkpoint/1"
_SECTIONS = ("model_keys", "optimizer", "scheduler", "rng", "extra")  # JSON in the metadata
_RESERVED_PREFIXES = tuple(f"{section}." for section in _SECTIONS)  # their arrays' keys


# ------------------------------------------------------------------ plain files
def _checksum(tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and little-endian bytes."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(f"{name}|{array.dtype.str.lstrip('<>=|')}|{array.shape}|".encode())
        digest.update(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()


def _contiguous(value: Any) -> np.ndarray:
    """A C-contiguous array of ``value`` (0-d stays 0-d, unlike ``np.ascontiguousarray``)."""
    return np.require(np.asarray(value), requirements="C")


def _as_arrays(state_dict: Mapping[str, Any], path: str) -> dict[str, np.ndarray]:
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save({path!r}): keys must be str, got {type(name).__name__}")
        array = _contiguous(value.data if isinstance(value, Tensor) else value)
        if array.dtype == object:
            raise TypeError(f"save({path!r}): {name!r} is not a numeric array")
        arrays[name] = array
    return arrays


def atomic_write(path: str | os.PathLike, payload: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, rename into place."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save(
    state_dict: Mapping[str, Any],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``state_dict`` (name -> array or Tensor) to ``path`` as safetensors.

    ``metadata`` is a str -> str mapping stored in the file's header.
    """
    name = os.fspath(path)
    arrays = _as_arrays(state_dict, name)
    header = dict(metadata or {})
    for key, value in header.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"save({name!r}): metadata must map str to str, got {key!r}: "
                            f"{type(value).__name__}")
    if _CHECKSUM_KEY in header:
        raise ValueError(f"save({name!r}): metadata key {_CHECKSUM_KEY!r} is reserved")
    header[_CHECKSUM_KEY] = _checksum(arrays)
    atomic_write(name, safetensors.numpy.save(arrays, metadata=header))


def _read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Tensors and metadata of a safetensors file, verified against its checksum."""
    name = os.fspath(path)
    with open(name, "rb") as f:
        payload = f.read()
    try:
        tensors = safetensors.numpy.load(payload)
        header_len = int.from_bytes(payload[:8], "little")
        metadata = json.loads(payload[8 : 8 + header_len]).get("__metadata__") or {}
    except (safetensors.SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{name!r} is not a valid safetensors file (truncated or corrupted, "
            f"{len(payload)} bytes): {exc}"
        ) from exc
    expected = metadata.get(_CHECKSUM_KEY)
    if expected is not None and expected != _checksum(tensors):
        raise ValueError(
            f"{name!r} is corrupted: its tensors do not match the checksum stored when it "
            f"was written"
        )
    return tensors, metadata


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a safetensors file into a dict of (writable) NumPy arrays.

    Raises ``ValueError`` naming the file if it is truncated or corrupted.
    """
    return _read(path)[0]


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored in a safetensors file's header."""
    metadata = _read(path)[1]
    metadata.pop(_CHECKSUM_KEY, None)
    return metadata


# ------------------------------------------------------------------ checkpoints
def _encode(obj: Any, prefix: str, tensors: dict[str, np.ndarray]) -> Any:
    """A JSON-able copy of ``obj``; its arrays and NumPy scalars go to ``tensors``.

    Types survive the round trip: an array becomes ``{"__tensor__": key}``, a NumPy
    scalar ``{"__scalar__": key}``, a tuple ``{"__tuple__": [...]}`` and a dict with
    non-str keys ``{"__items__": [[k, v], ...]}``.
    """
    if isinstance(obj, np.ndarray):
        tensors[prefix] = _contiguous(obj)
        return {"__tensor__": prefix}
    if isinstance(obj, np.generic):
        tensors[prefix] = np.asarray(obj)
        return {"__scalar__": prefix}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, f"{prefix}.{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[_encode(k, f"{prefix}.{i}.key", tensors),
                               _encode(v, f"{prefix}.{k}", tensors)]
                              for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save_checkpoint: cannot store {type(obj).__name__} at {prefix!r}")


def _decode(obj: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode`."""
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if obj.keys() == {"__tensor__"}:
        return tensors[obj["__tensor__"]]
    if obj.keys() == {"__scalar__"}:
        return tensors[obj["__scalar__"]][()]
    if obj.keys() == {"__tuple__"}:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if obj.keys() == {"__items__"}:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write everything needed to resume training to one safetensors file.

    Stored: ``model.state_dict()`` (under its own keys, so the file loads into
    PyTorch with ``strict=False``), ``optimizer.state_dict()`` (arrays as
    ``optimizer.*`` tensors, ``param_groups`` as JSON), ``scheduler.state_dict()``,
    the global generator's state (:func:`chainrule.random.get_rng_state`) and
    ``extra`` (a JSON-like dict that may hold arrays: epoch, history, ...).
    """
    name = os.fspath(path)
    tensors = _as_arrays(model.state_dict(), name)
    clash = [k for k in tensors if k.startswith(_RESERVED_PREFIXES)]
    if clash:
        raise ValueError(f"save_checkpoint({name!r}): model keys {clash} use a reserved prefix "
                         f"{_RESERVED_PREFIXES}")
    sections = {
        "model_keys": sorted(tensors),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "rng": _random.get_rng_state(),
        "extra": dict(extra or {}),
    }
    metadata = {"format": _CHECKPOINT_FORMAT}
    for key, value in sections.items():
        metadata[key] = json.dumps(_encode(value, key, tensors))
    save(tensors, name, metadata=metadata)


def _checkpoint_metadata(name: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    tensors, metadata = _read(name)
    if metadata.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{name!r} is not a chainrule checkpoint (format "
                         f"{metadata.get('format')!r}, expected {_CHECKPOINT_FORMAT!r}); "
                         f"use chainrule.load for plain state dicts")
    return tensors, metadata


def checkpoint_extra(path: str | os.PathLike) -> dict[str, Any]:
    """The ``extra`` dict of a checkpoint, without restoring anything."""
    tensors, metadata = _checkpoint_metadata(os.fspath(path))
    return _decode(json.loads(metadata["extra"]), tensors)


def load_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into ``model`` (and optimizer, scheduler).

    Also restores the global random-number generator. Returns the ``extra`` dict.
    """
    name = os.fspath(path)
    tensors, metadata = _checkpoint_metadata(name)
    sections = {key: _decode(json.loads(metadata[key]), tensors)
                for key in _SECTIONS}
    for key, needed in (("optimizer", optimizer), ("scheduler", scheduler)):
        if needed is not None and sections[key] is None:
            raise ValueError(f"load_checkpoint({name!r}): the file holds no {key} state")
    if optimizer is not None:  # refuse a mismatched optimizer before the model changes
        optimizer._check_state_dict(sections["optimizer"])
    model.load_state_dict({k: tensors[k] for k in sections["model_keys"]})
    if optimizer is not None:
        optimizer.load_state_dict(sections["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(sections["scheduler"])
    _random.set_rng_state(sections["rng"])
    return sections["extra"]
