"""chainrule.save / load / save_checkpoint / load_checkpoint."""

import os

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import chainrule as cr
from chainrule import io, optim
from chainrule.models import mlp


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "w": rng.standard_normal((3, 4)).astype(np.float32),
        "b": rng.standard_normal(4),
        "count": np.array(7, dtype=np.int64),
        "mask": np.array([True, False]),
        "t": cr.tensor([1.0, 2.0]),
    }


def test_round_trip_keeps_values_dtypes_and_metadata(tmp_path):
    path = tmp_path / "a.safetensors"
    arrays = _arrays()
    cr.save(arrays, path, metadata={"note": "hello"})
    loaded = cr.load(path)
    assert sorted(loaded) == sorted(arrays)
    for key, value in arrays.items():
        expected = value.data if isinstance(value, cr.Tensor) else value
        np.testing.assert_array_equal(loaded[key], expected)
        assert loaded[key].dtype == expected.dtype and loaded[key].shape == expected.shape
        assert loaded[key].flags.writeable
    assert io.load_metadata(path) == {"note": "hello"}
    # a plain safetensors file: the reference library reads it too
    theirs = safetensors.numpy.load_file(str(path))
    np.testing.assert_array_equal(theirs["w"], arrays["w"])
    assert os.listdir(tmp_path) == ["a.safetensors"]  # no temporary file left behind


def test_overwrite_replaces_atomically(tmp_path):
    path = tmp_path / "a.safetensors"
    cr.save({"x": np.zeros(3)}, path)
    cr.save({"x": np.ones(2)}, path)
    np.testing.assert_array_equal(cr.load(path)["x"], np.ones(2))
    assert os.listdir(tmp_path) == ["a.safetensors"]


def test_truncated_file_raises_naming_it(tmp_path):
    path = tmp_path / "cut.safetensors"
    cr.save(_arrays(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(ValueError, match="cut.safetensors.*truncated or corrupted"):
        cr.load(path)
    path.write_bytes(data[:3])
    with pytest.raises(ValueError, match="cut.safetensors"):
        cr.load(path)


def test_corrupted_data_raises_naming_it(tmp_path):
    path = tmp_path / "bad.safetensors"
    cr.save(_arrays(), path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # flip bits inside the tensor data: still a well-formed file
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.safetensors.*corrupted"):
        cr.load(path)


def test_corrupted_header_raises_naming_it(tmp_path):
    path = tmp_path / "hdr.safetensors"
    cr.save(_arrays(), path)
    data = bytearray(path.read_bytes())
    data[10] = ord("#")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="hdr.safetensors"):
        cr.load(path)


def test_bad_input_raises_before_writing(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="metadata"):
        cr.save({"x": np.zeros(2)}, path, metadata={"n": 3})
    with pytest.raises(TypeError, match="keys must be str"):
        cr.save({1: np.zeros(2)}, path)
    assert not path.exists()


def _torch_mlp(dtype):
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
        torch.nn.Linear(32, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10),
    ).to(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saved_mlp_loads_into_torch_with_same_outputs(tmp_path, dtype):
    cr.manual_seed(3)
    model = mlp(64, hidden=(32, 16), num_classes=10)
    if dtype == "float64":
        model.double()
    path = tmp_path / "mlp.safetensors"
    cr.save(model.state_dict(), path)
    theirs = _torch_mlp(getattr(torch, dtype))
    theirs.load_state_dict(safetensors.torch.load_file(str(path)))  # strict: same keys, shapes
    x = np.random.default_rng(1).random((5, 1, 8, 8)).astype(dtype)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = model(cr.tensor(x)).data
    assert got.dtype == expected.dtype == np.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def _train_steps(model, optimizer, scheduler, steps, rng):
    for _ in range(steps):
        optimizer.zero_grad()
        x = cr.tensor(rng.random((8, 1, 8, 8)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 10, 8))
        cr.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()


def _setup(seed):
    cr.manual_seed(seed)
    model = mlp(64, hidden=(16,), num_classes=10, dropout=0.2)
    optimizer = optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.99))
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def test_checkpoint_round_trip_continues_exactly(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model, optimizer, scheduler = _setup(0)
    _train_steps(model, optimizer, scheduler, 3, np.random.default_rng(0))
    extra = {"epoch": 3, "history": [{"loss": 1.5}], "arr": np.arange(3), "pair": (1, 2.5)}
    io.save_checkpoint(path, model, optimizer, scheduler, extra=extra)
    rng_state = cr.random.get_rng_state()

    other, other_opt, other_sched = _setup(1)  # different weights and a fresh optimizer
    cr.manual_seed(99)
    got = io.load_checkpoint(path, other, other_opt, other_sched)
    assert got["epoch"] == 3 and got["history"] == [{"loss": 1.5}] and got["pair"] == (1, 2.5)
    np.testing.assert_array_equal(got["arr"], np.arange(3))
    assert io.checkpoint_extra(path)["epoch"] == 3
    assert cr.random.get_rng_state() == rng_state
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)
    mine, theirs = optimizer.state_dict(), other_opt.state_dict()
    assert theirs["param_groups"] == mine["param_groups"]
    for index, state in mine["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(theirs["state"][index][name], value)
    assert other_sched.get_last_lr() == scheduler.get_last_lr()

    # both continue identically (dropout draws from the restored global generator)
    _train_steps(model, optimizer, scheduler, 3, np.random.default_rng(5))
    cr.random.set_rng_state(rng_state)
    _train_steps(other, other_opt, other_sched, 3, np.random.default_rng(5))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_checkpoint_model_tensors_load_into_torch(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model, optimizer, scheduler = _setup(0)
    _train_steps(model, optimizer, scheduler, 1, np.random.default_rng(0))
    io.save_checkpoint(path, model, optimizer, scheduler)
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.2), torch.nn.Linear(16, 10))
    result = theirs.load_state_dict(safetensors.torch.load_file(str(path)), strict=False)
    assert result.missing_keys == []
    assert all(k.startswith("optimizer.") for k in result.unexpected_keys)
    np.testing.assert_array_equal(theirs[1].weight.detach().numpy(), model[1].weight.data)


def test_load_checkpoint_rejects_a_plain_file(tmp_path):
    path = tmp_path / "plain.safetensors"
    model, _, _ = _setup(0)
    cr.save(model.state_dict(), path)
    with pytest.raises(ValueError, match="plain.safetensors.*not a chainrule checkpoint"):
        io.load_checkpoint(path, model)


def test_checkpoint_refuses_model_keys_with_a_reserved_prefix(tmp_path):
    model = cr.nn.Sequential()
    model.add_module("optimizer", cr.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"\['optimizer.weight', 'optimizer.bias'\].*reserved"):
        io.save_checkpoint(tmp_path / "c.safetensors", model)
    assert not (tmp_path / "c.safetensors").exists()


def test_mismatched_optimizer_is_refused_before_the_model_changes(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model, optimizer, scheduler = _setup(0)
    io.save_checkpoint(path, model, optimizer, scheduler)
    other, _, _ = _setup(1)
    before = {k: v.copy() for k, v in other.state_dict().items()}
    params = list(other.parameters())
    partial = cr.optim.Adam(params[:2], lr=0.1)  # 2 of the model's 4 parameters
    with pytest.raises(ValueError, match="parameter group 0 has 4 parameters in the state "
                                         "dict but 2 in this optimizer"):
        io.load_checkpoint(path, other, partial)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
