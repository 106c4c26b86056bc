"""Saving and loading: the safetensors format, no pickle.

A file written by :func:`save` is a plain safetensors file: it opens with the
``safetensors`` library and its tensors load into the same architecture built in
PyTorch (``torch_model.load_state_dict(safetensors.torch.load_file(path))``).

Trust:

- A SHA-256 digest in the header covers *everything that is loaded*: every
  tensor's name, dtype, shape and bytes, and every metadata entry. A truncated,
  damaged or hand-edited file is refused with a :class:`CorruptedFileError` (a
  ``ValueError``) naming it. Files written by other tools (no chainrule entries)
  load unchecked, as any safetensors file.
- The header is checked before the body is read: the 8-byte header length must
  fit the file and the JSON must describe tensors that exactly fill the rest, so
  a large file of another kind is refused after reading a few bytes. A PyTorch
  pickle (``torch.save``) is recognised and refused -- chainrule never unpickles
  -- with the one line that converts it.
- Writes are atomic: the bytes go to a temporary file in the target directory
  (created with the permissions ``open()`` would give: the umask's, or those of
  the file being replaced), are fsync-ed, and the file is renamed into place. A
  writer killed mid-write leaves a temporary file; the next write in that
  directory removes such leftovers of dead writers (only files of our own naming
  pattern, never one whose writer is alive).

A *checkpoint* (:func:`save_checkpoint`) is such a file holding the model's
``state_dict`` under its own keys, the arrays of the optimizer's state and of
``extra`` under ``optimizer.<n>`` / ``extra.<n>`` keys (``n`` a counter, so no
name can collide), and, as JSON in the header, the classes of the model,
optimizer and scheduler, their states, the global random-number generator's
state and the caller's ``extra`` (epoch, history, config ...). JSON objects are
tagged (``{"dict": {...}}``, ``{"tensor": name}``, ``{"tuple": [...]}`` ...) so
no user value can pass for a marker: names and types round-trip exactly.
Loading checks everything -- classes, group sizes, shapes, the random state --
before it changes anything, so a refused load leaves model, optimizer, scheduler
and generator exactly as they were; a resumed run continues bit for bit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import socket
import stat
import time
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
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
    "CorruptedFileError",
]


class CorruptedFileError(ValueError):
    """A file that is truncated, damaged, edited or not safetensors at all."""


_RESERVED = "chainrule."  # metadata keys of this namespace are ours
_FORMAT_KEY = "chainrule.format"
_DIGEST_KEY = "chainrule.digest"
_LEGACY_CHECKSUM_KEY = "chainrule.sha256"  # files of chainrule < 0.2: tensors only
_TENSORS_FORMAT = "chainrule.tensors/2"
_CHECKPOINT_FORMAT = "chainrule.checkpoint/2"
_LEGACY_CHECKPOINT_FORMAT = "chainrule.checkpoint/1"
_SECTIONS = ("model", "optimizer", "scheduler", "rng", "extra")  # JSON in the metadata
_ARRAY_SECTIONS = ("optimizer", "scheduler", "rng", "extra")  # their arrays: "<section>.<n>"
_RESERVED_PREFIXES = tuple(f"{section}." for section in _ARRAY_SECTIONS)
_MAX_HEADER = 100_000_000  # bytes; the safetensors library's own limit

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}

_CONVERT = ('from safetensors.torch import save_file; '
            'save_file(model.state_dict(), "model.safetensors")')


# ------------------------------------------------------------------ the digest
def _digest(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """SHA-256 over every tensor (name, dtype, shape, bytes) and every metadata entry.

    Each record is JSON with its byte count, so no two contents hash alike by
    shifting a boundary; the digest's own entry is left out.
    """
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        code = _CODES[array.dtype.newbyteorder("<")]
        digest.update(json.dumps(["tensor", name, code, list(array.shape), array.nbytes]).encode())
        digest.update(_little_endian(array).reshape(-1).view(np.uint8))
    entries = sorted((k, v) for k, v in metadata.items() if k != _DIGEST_KEY)
    digest.update(json.dumps(["metadata", entries]).encode())
    return "sha256:" + digest.hexdigest()


def _legacy_checksum(tensors: Mapping[str, np.ndarray]) -> str:
    """The tensors-only checksum of files written before the digest."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = tensors[name]
        digest.update(f"{name}|{array.dtype.str.lstrip('<>=|')}|{array.shape}|".encode())
        digest.update(_little_endian(array).tobytes())
    return digest.hexdigest()


def _little_endian(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


# ------------------------------------------------------------------ writing
def _storable(value: Any, what: str, where: str) -> np.ndarray:
    """``value`` as a C-contiguous little-endian array safetensors can hold."""
    if isinstance(value, Tensor):
        value = value.data
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise TypeError(f"{where}: {what} is not an array ({exc})") from None
    if array.dtype == object:
        raise TypeError(f"{where}: {what} is not a numeric array")
    if array.dtype.newbyteorder("<") not in _CODES:
        raise TypeError(f"{where}: {what} has dtype {array.dtype}, which safetensors cannot "
                        f"store (supported: {', '.join(str(d) for d in _CODES)})")
    array = np.require(array, requirements="C")  # 0-d stays 0-d, unlike ascontiguousarray
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return array


def _as_arrays(state_dict: Any, where: str) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        if callable(getattr(state_dict, "state_dict", None)):
            raise TypeError(
                f"{where}: got a {type(state_dict).__name__}, not a state dict. chainrule "
                f"stores tensors, never objects (that would need pickle): save the weights "
                f"with cr.save(model.state_dict(), path), and to load them build the model "
                f"in code and call model.load_state_dict(cr.load(path)) (an optimizer's or "
                f"a schedule's state goes into chainrule.io.save_checkpoint)"
            )
        raise TypeError(f"{where}: expected a mapping of names to arrays, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"{where}: keys must be str, got {type(name).__name__}")
        if name == "__metadata__":
            raise ValueError(f"{where}: the name '__metadata__' is reserved by the safetensors "
                             f"format (it holds the header's metadata); rename that tensor")
        arrays[name] = _storable(value, repr(name), where)
    return arrays


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode(errors="replace")).hexdigest()[:8]


# .<target>.<host>.<pid>.<random>.chainrule.tmp
_TEMP_PATTERN = re.compile(r"\A\..*\.(?P<host>[0-9a-f]{8})\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}"
                           r"\.chainrule\.tmp\Z", re.DOTALL)
_STALE_SECONDS = 3600  # a temporary file untouched this long is stale whoever wrote it


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it: rely on the age alone
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def _remove_stale_temporaries(directory: str) -> None:
    """Delete temporary files of :func:`atomic_write` whose writer is gone.

    Stale: written on this host by a process that no longer exists, or untouched
    for an hour. Only names of our own pattern are considered; errors are ignored.
    """
    host, now = _host_tag(), time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _TEMP_PATTERN.match(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                continue
            dead = match["host"] == host and not _pid_alive(int(match["pid"]))
            if dead or now - info.st_mtime > _STALE_SECONDS:
                os.unlink(entry.path)
        except OSError:
            continue


def atomic_write(path: str | os.PathLike, payload: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, rename into place.

    The file gets the permissions ``open(path, "wb")`` would give it: those of
    the file it replaces, else 0666 minus the umask. Afterwards stale temporary
    files of killed writers in the same directory are removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)[:100]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{_host_tag()}.{os.getpid()}."
                                      f"{os.urandom(4).hex()}.chainrule.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"atomic_write({path!r}): cannot create a temporary file")
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                existing = os.stat(path)
            except OSError:
                existing = None
            if existing is not None and stat.S_ISREG(existing.st_mode):
                os.chmod(tmp, stat.S_IMODE(existing.st_mode) & 0o777)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        dir_fd = None
    if dir_fd is not None:
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)
    _remove_stale_temporaries(directory)


def _write(name: str, arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    metadata[_DIGEST_KEY] = _digest(arrays, metadata)
    atomic_write(name, safetensors.numpy.save(arrays, metadata=metadata))


def save(
    state_dict: Mapping[str, Any],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``state_dict`` (name -> array or Tensor) to ``path`` as safetensors.

    ``metadata`` is a str -> str mapping stored in the file's header (keys
    starting with ``"chainrule."`` are reserved). To save a model, save
    ``model.state_dict()``.
    """
    name = os.fspath(path)
    where = f"save({name!r})"
    arrays = _as_arrays(state_dict, where)
    header = dict(metadata or {})
    for key, value in header.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{where}: metadata must map str to str, got {key!r}: "
                            f"{type(value).__name__}")
        if key.startswith(_RESERVED):
            raise ValueError(f"{where}: metadata key {key!r} is reserved (keys starting with "
                             f"{_RESERVED!r} are chainrule's)")
    header[_FORMAT_KEY] = _TENSORS_FORMAT
    _write(name, arrays, header)


# ------------------------------------------------------------------ reading
def _damaged(name: str, detail: str) -> CorruptedFileError:
    return CorruptedFileError(f"{name!r} is not a valid safetensors file (truncated or "
                              f"corrupted): {detail}")


def _refuse_other_formats(name: str, head: bytes) -> None:
    """Refuse, by their first bytes, the files people most often mistake for ours."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(name) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile, ValueError):
            names = []
        if names and all(n.endswith(".npy") for n in names):
            raise ValueError(f"{name!r} is a NumPy .npz archive, not safetensors: read it with "
                             f"np.load and write it with cr.save(dict(np.load(path)), ...)")
        kind = "a zip archive, as torch.save writes: a PyTorch pickle"
    elif head[:1] == b"\x80":
        kind = "a Python pickle (torch.save with the legacy format)"
    elif head.startswith(b"\x93NUMPY"):
        raise ValueError(f"{name!r} is a NumPy .npy file, not safetensors: read it with np.load")
    else:
        return
    raise ValueError(
        f"{name!r} is {kind}, not safetensors. chainrule never unpickles (loading a pickle "
        f"can run arbitrary code). Convert it once, in PyTorch, where you trust the file: "
        f"load it into your model (model.load_state_dict(torch.load(path))), then "
        f"{_CONVERT}"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


def _parse_header(name: str, raw: bytes, body: int) -> tuple[list, dict[str, str]]:
    """The tensor entries (sorted by offset) and metadata of a header; checks them."""
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _damaged(name, f"its header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _damaged(name, "its header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _damaged(name, "its header's metadata is not a str -> str mapping")
    entries = []
    for key, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise _damaged(name, f"the header entry of tensor {key!r} is malformed")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str):
            raise _damaged(name, f"tensor {key!r} has no valid dtype")
        if dtype not in _DTYPES:
            raise ValueError(f"{name!r}: tensor {key!r} has dtype {dtype}, which NumPy "
                             f"cannot hold (supported: {', '.join(_DTYPES)})")
        if (not isinstance(shape, list) or not isinstance(offsets, list) or len(offsets) != 2
                or not all(type(n) is int and n >= 0 for n in [*shape, *offsets])
                or offsets[0] > offsets[1]):
            raise _damaged(name, f"tensor {key!r} has an invalid shape or offsets")
        if math.prod(shape) * _DTYPES[dtype].itemsize != offsets[1] - offsets[0]:
            raise _damaged(name, f"tensor {key!r} of shape {tuple(shape)} and dtype {dtype} "
                                 f"does not have {offsets[1] - offsets[0]} bytes")
        entries.append((offsets[0], offsets[1], key, _DTYPES[dtype], tuple(shape)))
    entries.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, key, _, _ in entries:
        if begin != end:
            raise _damaged(name, f"tensor {key!r} starts at byte {begin} of the data, "
                                 f"expected {end}")
        end = stop
    if end != body:
        raise _damaged(name, f"its tensors fill {end} bytes, the file holds {body} after "
                             f"the header")
    return entries, metadata


def _read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    """Tensors, metadata and kind of a safetensors file, verified.

    The kind is a chainrule format, ``"legacy"`` (tensors-only checksum) or
    ``"foreign"`` (written by another tool: nothing to verify against).
    """
    name = os.fspath(path)
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(9)  # the header's length, then its first byte
        length = int.from_bytes(head[:8], "little")
        fits = len(head) == 9 and 2 <= length <= min(size - 8, _MAX_HEADER)
        if not (fits and head[8:] == b"{"):  # not safetensors: say what it is, if we can
            _refuse_other_formats(name, head)
        if len(head) < 8:
            raise _damaged(name, f"it has {len(head)} bytes, fewer than the 8 of a safetensors "
                                 f"header length")
        if not fits:
            raise _damaged(name, f"its header length {length} does not fit the file's {size} "
                                 f"bytes (is it a safetensors file?)")
        first = head[8:]
        if first != b"{":
            raise _damaged(name, f"its header starts with {first!r}, not '{{' (is it a "
                                 f"safetensors file?)")
        raw = first + f.read(length - 1)
        if len(raw) != length:
            raise _damaged(name, "the file ends inside its header")
        entries, metadata = _parse_header(name, raw, size - 8 - length)
        tensors = {}
        for _, _, key, dtype, shape in entries:
            array = np.empty(shape, dtype)
            if array.nbytes and f.readinto(array.reshape(-1).view(np.uint8)) != array.nbytes:
                raise _damaged(name, f"the file ends inside tensor {key!r}")
            tensors[key] = array if dtype.isnative else array.astype(dtype.newbyteorder("="))
    return tensors, metadata, _verify(name, tensors, metadata)


def _verify(name: str, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    fmt, digest = metadata.get(_FORMAT_KEY), metadata.get(_DIGEST_KEY)
    if fmt is not None or digest is not None:
        if fmt is None or digest is None:
            missing = _FORMAT_KEY if fmt is None else _DIGEST_KEY
            raise _damaged(name, f"its header lacks the {missing!r} entry")
        if digest != _digest(tensors, metadata):
            raise CorruptedFileError(
                f"{name!r} is corrupted: its contents (tensors and metadata) do not match the "
                f"SHA-256 digest stored when it was written (damaged or edited)"
            )
        if fmt not in (_TENSORS_FORMAT, _CHECKPOINT_FORMAT):
            raise ValueError(f"{name!r} has format {fmt!r}, which this chainrule cannot read "
                             f"(written by a newer version?)")
        return fmt
    if _LEGACY_CHECKSUM_KEY in metadata:
        if metadata[_LEGACY_CHECKSUM_KEY] != _legacy_checksum(tensors):
            raise CorruptedFileError(f"{name!r} is corrupted: its tensors do not match the "
                                     f"checksum stored when it was written")
        return "legacy"
    ours = sorted(k for k in metadata if k.startswith(_RESERVED))
    if ours:
        raise _damaged(name, f"it has chainrule entries {ours} but no digest")
    return "foreign"


def load(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a safetensors file into a dict of (writable) NumPy arrays.

    Raises ``ValueError`` naming the file if it is truncated, corrupted, edited
    or not a safetensors file (a :class:`CorruptedFileError` when damaged).
    """
    return _read(path)[0]


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored in a safetensors file's header (verified)."""
    metadata = _read(path)[1]
    return {k: v for k, v in metadata.items() if not k.startswith(_RESERVED)}


# ------------------------------------------------------------------ checkpoints
def _encode(obj: Any, where: str, section: str, tensors: dict[str, np.ndarray]) -> Any:
    """A JSON-able copy of ``obj``; its arrays and NumPy scalars go to ``tensors``.

    Every JSON object is a one-key tag, so no user value can pass for a marker:
    ``{"dict": {k: v}}`` (str keys, kept verbatim), ``{"items": [[k, v], ...]}``
    (other keys), ``{"tuple": [...]}``, ``{"tensor": name}`` (an array) and
    ``{"scalar": name}`` (a NumPy scalar). Arrays are named ``<section>.<n>``
    with a counter, never after their path, so no two names collide.
    """
    if isinstance(obj, str):  # np.str_ too
        return str(obj)
    if isinstance(obj, (np.ndarray, np.generic)):
        key = f"{section}.{len(tensors)}"
        tensors[key] = _storable(obj, where, "save_checkpoint")
        return {"tensor" if isinstance(obj, np.ndarray) else "scalar": key}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {"dict": {k: _encode(v, f"{where}[{k!r}]", section, tensors)
                             for k, v in obj.items()}}
        return {"items": [[_encode(k, f"{where} key {k!r}", section, tensors),
                           _encode(v, f"{where}[{k!r}]", section, tensors)]
                          for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"tuple": [_encode(v, f"{where}[{i}]", section, tensors)
                          for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{where}[{i}]", section, tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    hint = " (store t.numpy() instead)" if isinstance(obj, Tensor) else ""
    raise TypeError(f"save_checkpoint: cannot store a {type(obj).__name__} at {where}{hint}; "
                    f"use dicts, lists, tuples, str, int, float, bool, None and NumPy arrays")


def _decode(obj: Any, tensors: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`_encode`; ``ValueError`` for anything it would not write."""
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if not isinstance(obj, dict) or len(obj) != 1:
        raise ValueError(f"unexpected JSON value {obj!r:.80}")
    ((tag, body),) = obj.items()
    if tag in ("tensor", "scalar"):
        if not isinstance(body, str) or body not in tensors:
            raise ValueError(f"a reference to a missing tensor {body!r:.80}")
        array = tensors[body]
        if tag == "tensor":
            return array
        if array.ndim != 0:
            raise ValueError(f"scalar {body!r} has shape {array.shape}")
        return array[()]
    if tag == "dict" and isinstance(body, dict):
        return {k: _decode(v, tensors) for k, v in body.items()}
    if tag == "tuple" and isinstance(body, list):
        return tuple(_decode(v, tensors) for v in body)
    if tag == "items" and isinstance(body, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in body):
            raise ValueError("malformed dict items")
        try:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in body}
        except TypeError as exc:  # an unhashable key
            raise ValueError(str(exc)) from None
    raise ValueError(f"unexpected JSON object {obj!r:.80}")


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write everything needed to resume training to one safetensors file.

    Stored: ``model.state_dict()`` (under its own keys, so the file loads into
    PyTorch with ``strict=False``), ``optimizer.state_dict()`` and
    ``scheduler.state_dict()`` with their classes, the global generator's state
    (:func:`chainrule.random.get_rng_state`) and ``extra`` (a JSON-like dict that
    may hold arrays: epoch, history, ...). Names and types of ``extra`` round-trip
    exactly; anything that cannot be stored is refused before writing.
    """
    name = os.fspath(path)
    where = f"save_checkpoint({name!r})"
    tensors = _as_arrays(model.state_dict(), where)
    clash = [k for k in tensors if k.startswith(_RESERVED_PREFIXES)]
    if clash:
        raise ValueError(f"{where}: model keys {clash} use a reserved prefix "
                         f"{_RESERVED_PREFIXES}")
    if extra is not None and not isinstance(extra, Mapping):
        raise TypeError(f"{where}: extra must be a dict, got {type(extra).__name__}")
    sections: dict[str, Any] = {"model": {"class": type(model).__name__,
                                          "keys": sorted(tensors)}}
    for key, owner in (("optimizer", optimizer), ("scheduler", scheduler)):
        sections[key] = None if owner is None else {
            "class": type(owner).__name__,
            "state": _encode(owner.state_dict(), key, key, tensors),
        }
    sections["rng"] = _encode(_random.get_rng_state(), "the random state", "rng", tensors)
    sections["extra"] = _encode(dict(extra or {}), "extra", "extra", tensors)
    metadata = {_FORMAT_KEY: _CHECKPOINT_FORMAT}
    for key, value in sections.items():
        metadata[_RESERVED + key] = json.dumps(value)
    _write(name, tensors, metadata)


def _read_checkpoint(name: str, wanted: tuple[str, ...]) -> tuple[dict[str, Any], dict]:
    """The verified, decoded ``wanted`` sections of a checkpoint, and its tensors."""
    tensors, metadata, kind = _read(name)
    if kind != _CHECKPOINT_FORMAT:
        if metadata.get("format") == _LEGACY_CHECKPOINT_FORMAT:
            raise ValueError(
                f"{name!r} is a checkpoint of an earlier chainrule whose checksum does not "
                f"cover its settings (format {_LEGACY_CHECKPOINT_FORMAT}), so it cannot be "
                f"resumed safely; its weights still load: "
                f"model.load_state_dict(cr.load(path), strict=False)"
            )
        raise ValueError(f"{name!r} is not a chainrule checkpoint (format "
                         f"{metadata.get(_FORMAT_KEY)!r}, expected {_CHECKPOINT_FORMAT!r}); "
                         f"use chainrule.load for plain state dicts")
    sections = {}
    for key in wanted:
        try:
            raw = metadata.get(_RESERVED + key)
            if raw is None:
                raise ValueError("the entry is missing")
            value = json.loads(raw)
            if key == "model":
                if (not isinstance(value, dict) or set(value) != {"class", "keys"}
                        or not isinstance(value["class"], str)
                        or not isinstance(value["keys"], list)
                        or not all(isinstance(k, str) and k in tensors for k in value["keys"])):
                    raise ValueError("expected the model's class and tensor names")
            elif key in ("optimizer", "scheduler"):
                if value is not None:
                    if (not isinstance(value, dict) or set(value) != {"class", "state"}
                            or not isinstance(value["class"], str)):
                        raise ValueError("expected a class name and a state")
                    value = {"class": value["class"], "state": _decode(value["state"], tensors)}
            else:
                value = _decode(value, tensors)
        except (ValueError, RecursionError) as exc:
            raise CorruptedFileError(f"{name!r}: its {key} section is malformed: {exc}") from None
        sections[key] = value
    return sections, tensors


def checkpoint_extra(path: str | os.PathLike) -> dict[str, Any]:
    """The ``extra`` dict of a checkpoint, without restoring anything."""
    name = os.fspath(path)
    extra = _read_checkpoint(name, ("extra",))[0]["extra"]
    if not isinstance(extra, dict):
        raise CorruptedFileError(f"{name!r}: its extra section is not a dict")
    return extra


def _check_rng_state(state: Any, where: str) -> None:
    """Refuse a generator state the global generator would not accept."""
    kind = type(_random.default_generator().bit_generator)
    try:
        if not isinstance(state, dict) or state.get("bit_generator") != kind.__name__:
            got = state.get("bit_generator") if isinstance(state, dict) else state
            raise ValueError(f"it is the state of a {got!r:.40} generator, the global generator "
                             f"is a {kind.__name__}")
        kind().state = state  # a throw-away generator: the global one is untouched
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"{where}: the saved global random state is invalid ({exc}); "
                         f"nothing was loaded") from None


def load_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into ``model`` (and optimizer, scheduler).

    Also restores the global random-number generator. Returns the ``extra`` dict.
    Everything is checked first -- the file's digest, the optimizer's and
    scheduler's classes and states, the random state -- and a refused load
    (``ValueError`` naming the file) changes nothing.
    """
    name = os.fspath(path)
    where = f"load_checkpoint({name!r})"
    sections, tensors = _read_checkpoint(name, _SECTIONS)
    if not isinstance(sections["extra"], dict):
        raise CorruptedFileError(f"{name!r}: its extra section is not a dict")
    for key, owner in (("optimizer", optimizer), ("scheduler", scheduler)):
        if owner is None:
            continue
        saved = sections[key]
        if saved is None:
            raise ValueError(f"{where}: the file holds no {key} state")
        if saved["class"] != type(owner).__name__:
            raise ValueError(f"{where}: the file holds {saved['class']} {key} state; it cannot "
                             f"be loaded into this {type(owner).__name__}")
        check = getattr(owner, "_check_state_dict", None)
        try:
            if check is not None:
                check(saved["state"])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
    _check_rng_state(sections["rng"], where)
    model_state = {k: tensors[k] for k in sections["model"]["keys"]}

    undo = _Undo(model, optimizer, scheduler)
    try:
        try:  # checks every key, shape and dtype first: a refusal changes nothing
            model.load_state_dict(model_state)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        if optimizer is not None:
            optimizer.load_state_dict(sections["optimizer"]["state"])
        if scheduler is not None:
            scheduler.load_state_dict(sections["scheduler"]["state"])
        _random.set_rng_state(sections["rng"])
    except BaseException:
        undo()  # only reached by a failure the checks above did not foresee
        raise
    return sections["extra"]


class _Undo:
    """A snapshot of model, optimizer, scheduler and generator, to restore on failure."""

    def __init__(self, model: Any, optimizer: Any, scheduler: Any) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.weights = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
        self.optimizer_state = None if optimizer is None else optimizer.state_dict()
        self.scheduler_state = (None if scheduler is None
                                else copy.deepcopy(scheduler.state_dict()))
        self.rng = copy.deepcopy(_random.get_rng_state())

    def __call__(self) -> None:
        try:
            self.model.load_state_dict(self.weights)
            if self.optimizer is not None:
                self.optimizer.load_state_dict(self.optimizer_state)
            if self.scheduler is not None:
                self.scheduler.load_state_dict(self.scheduler_state)
            _random.set_rng_state(self.rng)
        except Exception:  # the original error is what the caller needs to see
            pass
