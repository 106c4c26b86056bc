"""Checkpoints a user can trust: every loaded byte checked, nothing changed by a refused
load, names that round-trip, sane file modes, no stale temporary files, early refusal
of files that are not safetensors."""

import copy
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
import torch

import chainrule as cr
from chainrule import io, nn, optim
from chainrule.optim import lr_scheduler


# ------------------------------------------------------------------ helpers
def _same(a, b):
    """Deep equality that also checks types, dtypes and shapes."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, np.generic) or isinstance(b, np.generic):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(type(k) is type(j) for k, j in zip(a, b))
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return type(a) is type(b) and a == b


def _setup(seed, optimizer="adam", schedule="step"):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=0.001)
    else:
        opt = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    if schedule == "step":
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    else:
        sched = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    return model, opt, sched


def _train(model, opt, sched, steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        opt.zero_grad()
        x = cr.tensor(rng.standard_normal((4, 3)).astype(np.float32))
        (model(x) ** 2).sum().backward()
        opt.step()
        sched.step()


def _snapshot(model, opt, sched):
    return copy.deepcopy({
        "model": {k: v.copy() for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": cr.random.get_rng_state(),
    })


def _checkpoint(tmp_path, name="ckpt.safetensors", **kwargs):
    model, opt, sched = _setup(0, **kwargs)
    _train(model, opt, sched, 3)
    path = tmp_path / name
    io.save_checkpoint(path, model, opt, sched,
                       extra={"epoch": 3, "history": [{"loss": 0.5}], "config": {"lr": 0.001}})
    return path


def _header_end(data):
    return 8 + int.from_bytes(data[:8], "little")


# ------------------------------------------------------ the checksum covers all
def test_every_bit_flip_in_a_checkpoint_header_is_refused(tmp_path):
    path = _checkpoint(tmp_path)
    data = path.read_bytes()
    model, opt, sched = _setup(1)
    before = _snapshot(model, opt, sched)
    damaged = tmp_path / "damaged.safetensors"
    silent = []
    for i in range(_header_end(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            damaged.write_bytes(bytes(flipped))
            try:
                io.load_checkpoint(damaged, model, opt, sched)
            except ValueError as exc:
                assert "damaged.safetensors" in str(exc), (i, bit, exc)
            else:
                silent.append((i, bit))
    assert silent == []
    assert _same(_snapshot(model, opt, sched), before)


def test_every_byte_change_in_a_plain_file_header_is_refused(tmp_path):
    path = tmp_path / "plain.safetensors"
    cr.save({"w": np.arange(6.0).reshape(2, 3), "n": np.array(3)}, path,
            metadata={"note": "lr 0.001", "epoch": "7"})
    data = path.read_bytes()
    damaged = tmp_path / "bad.safetensors"
    for i in range(_header_end(data)):
        for value in {data[i] ^ 0x01, data[i] ^ 0x80, ord("0"), ord(" ")} - {data[i]}:
            flipped = bytearray(data)
            flipped[i] = value
            damaged.write_bytes(bytes(flipped))
            for reader in (cr.load, io.load_metadata):
                with pytest.raises(ValueError, match="bad.safetensors"):
                    reader(damaged)


def test_a_hand_edited_learning_rate_is_refused(tmp_path):
    path = _checkpoint(tmp_path)
    data = path.read_bytes()
    end = _header_end(data)
    assert b"0.001" in data[:end]
    path.write_bytes(data[:end].replace(b"0.001", b"9.001") + data[end:])
    model, opt, sched = _setup(1)
    before = _snapshot(model, opt, sched)
    with pytest.raises(ValueError, match="ckpt.safetensors.*(corrupted|damaged)"):
        io.load_checkpoint(path, model, opt, sched)
    with pytest.raises(ValueError, match="ckpt.safetensors"):
        io.checkpoint_extra(path)
    assert _same(_snapshot(model, opt, sched), before)
    assert opt.param_groups[0]["lr"] == 0.001


def test_damaged_files_raise_value_errors_not_key_or_json_errors(tmp_path):
    path = _checkpoint(tmp_path)
    data = path.read_bytes()
    end = _header_end(data)
    header = data[8:end]
    cases = {
        "empty": b"",
        "short": data[:5],
        "header cut": data[: end - 3],
        "body cut": data[:-1],
        "length too big": (len(data) * 2).to_bytes(8, "little") + data[8:],
        "not json": data[:8] + b"{" + b"x" * (len(header) - 1) + data[end:],
        "not an object": data[:8] + b"[" + b" " * (len(header) - 2) + b"]" + data[end:],
        "trailing bytes": data + b"\0",
    }
    for label, payload in cases.items():
        damaged = tmp_path / "bad.safetensors"
        damaged.write_bytes(payload)
        for reader in (cr.load, io.checkpoint_extra):
            with pytest.raises(ValueError, match="bad.safetensors") as info:
                reader(damaged)
            assert not isinstance(info.value, (KeyError,)), label


# -------------------------------------- validated before anything is changed
def test_an_invalid_rng_state_is_refused_before_anything_changes(tmp_path, monkeypatch):
    model, opt, sched = _setup(0)
    _train(model, opt, sched, 2)
    bad = {"bit_generator": "PCG64", "state": {"state": "not a number", "inc": 1},
           "has_uint32": 0, "uinteger": 0}
    monkeypatch.setattr(cr.random, "get_rng_state", lambda: bad)
    path = tmp_path / "rng.safetensors"
    io.save_checkpoint(path, model, opt, sched)
    monkeypatch.undo()
    other, other_opt, other_sched = _setup(1)
    before = _snapshot(other, other_opt, other_sched)
    with pytest.raises(ValueError, match="rng.safetensors.*random"):
        io.load_checkpoint(path, other, other_opt, other_sched)
    assert _same(_snapshot(other, other_opt, other_sched), before)


@pytest.mark.parametrize("saved, loading, names", [
    ({"optimizer": "adam"}, {"optimizer": "sgd"}, ("Adam", "SGD")),
    ({"schedule": "step"}, {"schedule": "cosine"}, ("StepLR", "CosineAnnealingLR")),
])
def test_state_of_another_class_is_refused_naming_both(tmp_path, saved, loading, names):
    path = _checkpoint(tmp_path, **saved)
    model, opt, sched = _setup(1, **loading)
    before = _snapshot(model, opt, sched)
    with pytest.raises(ValueError, match=f"ckpt.safetensors.*{names[0]}.*{names[1]}"):
        io.load_checkpoint(path, model, opt, sched)
    assert _same(_snapshot(model, opt, sched), before)


def test_optimizer_and_scheduler_refuse_a_state_dict_of_another_class():
    model, adam, step = _setup(0)
    _train(model, adam, step, 2)
    _, sgd, cosine = _setup(1, optimizer="sgd", schedule="cosine")
    before_sgd, before_cosine = copy.deepcopy(sgd.state_dict()), cosine.state_dict()
    with pytest.raises(ValueError, match="SGD.load_state_dict.*betas"):
        sgd.load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="CosineAnnealingLR.load_state_dict.*step_size"):
        cosine.load_state_dict(step.state_dict())
    assert _same(sgd.state_dict(), before_sgd) and _same(cosine.state_dict(), before_cosine)


def test_optimizer_refuses_state_arrays_of_the_wrong_shape():
    model, opt, sched = _setup(0)
    _train(model, opt, sched, 1)
    state = opt.state_dict()
    state["state"][1]["exp_avg"] = np.zeros(7, dtype=np.float32)
    _, other, _ = _setup(1)
    before = copy.deepcopy(other.state_dict())
    with pytest.raises(ValueError, match=r"Adam.load_state_dict.*exp_avg.*\(7,\).*\(2,\)"):
        other.load_state_dict(state)
    assert _same(other.state_dict(), before)


def test_module_load_state_dict_converts_every_value_before_assigning():
    layer = nn.Linear(2, 3)
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    for bad in (np.array([[1, 2], ["x", 4], [5, 6]], dtype=object),
                np.array([[1, 2], [None, 4], [5, 6]], dtype=object),
                np.array([["1", "2"]] * 3),
                np.ones((3, 2), dtype=complex)):
        with pytest.raises(ValueError, match="weight"):
            layer.load_state_dict({"weight": bad, "bias": np.ones(3)})
        assert _same({k: v.copy() for k, v in layer.state_dict().items()}, before)
    # convertible values still load (cast to the parameter's dtype)
    layer.load_state_dict({"weight": np.arange(6).reshape(3, 2), "bias": [1.0, 2.0, 3.0]})
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.data, np.arange(6).reshape(3, 2))


# -------------------------------------------------- names round-trip exactly
def test_save_refuses_the_safetensors_metadata_name(tmp_path):
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="__metadata__"):
        cr.save({"__metadata__": np.zeros(2)}, path)
    with pytest.raises(ValueError, match="reserved"):
        cr.save({"x": np.zeros(2)}, path, metadata={"chainrule.digest": "x"})
    assert not path.exists()


def test_checkpoint_extra_round_trips_names_and_types_exactly(tmp_path):
    extra = {
        "k.0": np.arange(2),
        "k": [np.ones(3), np.zeros(1, dtype=np.float32)],
        "forged": {"__tensor__": "k.0"},
        "forged scalar": {"__scalar__": "k.0"},
        "forged tuple": {"__tuple__": [1, 2]},
        "forged items": {"__items__": [[1, 2]]},
        "tags": {"tensor": "k", "dict": {}, "items": [], "tuple": []},
        "a.b": {"c": np.full(2, 7)},
        "a": {"b.c": np.full(2, 8), "b": {"c": np.full(2, 9)}},
        "": {"": ""},
        "nested": {1: "int key", (2, "x"): [np.float32(1.5), np.int64(3)], None: True},
        "floats": [0.1, -0.0, float("inf"), 1e300, 2**70],
        "pair": (1, (2.5, "s")),
        "unicode ключ": "значение",
    }
    model, opt, sched = _setup(0)
    path = tmp_path / "x.safetensors"
    io.save_checkpoint(path, model, opt, sched, extra=extra)
    assert _same(io.checkpoint_extra(path), extra)
    assert _same(io.load_checkpoint(path, model, opt, sched), extra)


# ---------------------------------------------------------- files on disk
def test_files_get_the_permissions_open_would_give(tmp_path):
    path = tmp_path / "a.safetensors"
    old = os.umask(0o022)
    try:
        cr.save({"x": np.zeros(2)}, path)
        assert os.stat(path).st_mode & 0o777 == 0o644
        os.chmod(path, 0o640)  # an existing file keeps its mode, as with open(path, "w")
        cr.save({"x": np.ones(2)}, path)
        assert os.stat(path).st_mode & 0o777 == 0o640
        os.umask(0o077)
        model, opt, sched = _setup(0)
        io.save_checkpoint(tmp_path / "c.safetensors", model, opt, sched)
        assert os.stat(tmp_path / "c.safetensors").st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


_WRITER = """
import os, sys, time
from chainrule import io
if sys.argv[2] == "kill":
    os.fsync = lambda fd: os.kill(os.getpid(), 9)
else:
    os.fsync = lambda fd: time.sleep(600)
io.atomic_write(sys.argv[1], b"x" * 1000)
"""


def _start_writer(path, mode):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(path), mode], env=env)


def _temps(directory):
    return sorted(name for name in os.listdir(directory) if name.endswith("tmp"))


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    foreign = [".other.tmp", "data.tmp", ".x.safetensors.123.tmp"]
    for name in foreign:  # not ours: never touched
        (tmp_path / name).write_bytes(b"keep")
    killed = _start_writer(tmp_path / "a.safetensors", "kill")
    assert killed.wait(60) == -signal.SIGKILL
    left = sorted(set(_temps(tmp_path)) - set(foreign))
    assert len(left) == 1 and not (tmp_path / "a.safetensors").exists()

    live = _start_writer(tmp_path / "b.safetensors", "sleep")
    try:
        deadline = time.monotonic() + 60
        while len(_temps(tmp_path)) < len(foreign) + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        live_temp = sorted(set(_temps(tmp_path)) - set(foreign) - set(left))
        assert len(live_temp) == 1
        cr.save({"x": np.zeros(1)}, tmp_path / "c.safetensors")
        # the dead writer's file is gone; the live writer's and the foreign ones stay
        assert _temps(tmp_path) == sorted(foreign + live_temp)
    finally:
        live.kill()
        live.wait(60)
    io.atomic_write(tmp_path / "d.txt", b"d")
    assert _temps(tmp_path) == sorted(foreign)


# ------------------------------------------------ early refusal of other files
def test_a_huge_non_safetensors_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.bin"
    cases = [
        (500 << 20).to_bytes(8, "little") + b"\0" * 8,   # a header that is not JSON
        (2 << 30).to_bytes(8, "little"),                 # longer than the file
        b"\xff" * 8,
        (4 << 20).to_bytes(8, "little") + b'{"a": ' + b"1" * 100,   # JSON, then zeros
    ]
    for head in cases:
        with open(path, "wb") as f:
            f.write(head)
            f.truncate(1 << 30)  # sparse: 1 GiB on paper
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match="big.bin"):
                cr.load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 64 << 20, (head[:8], peak)


@pytest.mark.parametrize("zipped", [True, False])
def test_a_pytorch_file_is_refused_with_a_conversion_recipe(tmp_path, zipped):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path,
               _use_new_zipfile_serialization=zipped)
    with pytest.raises(ValueError) as info:
        cr.load(path)
    message = str(info.value)
    assert "model.pt" in message and "PyTorch" in message and "never unpickles" in message
    assert ('from safetensors.torch import save_file; '
            'save_file(model.state_dict(), "model.safetensors")') in message


def test_saving_a_module_says_to_save_its_state_dict(tmp_path):
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        cr.save(nn.Linear(2, 2), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


# ---------------------------------------------------------------- still works
def test_a_checkpoint_resumes_bit_identically_and_loads_in_safetensors(tmp_path):
    model, opt, sched = _setup(0)
    _train(model, opt, sched, 3)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model, opt, sched, extra={"epoch": 3})
    rng = cr.random.get_rng_state()
    other, other_opt, other_sched = _setup(1)
    assert io.load_checkpoint(path, other, other_opt, other_sched) == {"epoch": 3}
    assert _same(_snapshot(other, other_opt, other_sched), _snapshot(model, opt, sched))
    assert cr.random.get_rng_state() == rng
    theirs = safetensors.numpy.load_file(str(path))  # the reference library reads it
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(theirs[key], value)
    assert all(k.startswith(("optimizer.", "extra.", "scheduler.", "rng."))
               for k in set(theirs) - set(model.state_dict()))
    _train(model, opt, sched, 3, seed=5)
    _train(other, other_opt, other_sched, 3, seed=5)
    assert _same(_snapshot(other, other_opt, other_sched), _snapshot(model, opt, sched))


def test_a_header_whose_length_starts_with_the_pickle_byte_still_loads(tmp_path):
    """A header length whose low byte is 0x80 makes the file start like a pickle."""
    path = tmp_path / "x.safetensors"
    starts = set()
    for pad in range(0, 300):
        cr.save({"x": np.zeros(1, np.float32)}, path, metadata={"pad": "a" * pad})
        starts.add(path.read_bytes()[:1])
        np.testing.assert_array_equal(cr.load(path)["x"], [0.0])
    assert b"\x80" in starts
