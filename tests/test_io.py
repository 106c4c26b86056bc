"""chainrule.save / load / save_checkpoint / load_checkpoint."""

import os

import numpy as np
import pytest
import safetensors.numpy

import chainrule as cr
from chainrule import io


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
