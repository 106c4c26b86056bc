"""Fashion-MNIST and CIFAR-10 readers/downloaders (on small generated files served on a
loopback HTTP server: no real data is downloaded) and the MNIST-1D generator."""

import functools
import gzip
import hashlib
import http.server
import io
import random
import struct
import sys
import tarfile
import threading

import numpy as np
import pytest

from chainrule.data import datasets
from chainrule.data.datasets import cifar10 as cifar_module
from chainrule.data.datasets.mnist import FILES


@pytest.fixture
def http_dir(tmp_path):
    """A loopback HTTP server serving a temporary directory: yields (directory, url)."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------- Fashion-MNIST
def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _fake_fashion(directory):
    rng = np.random.default_rng(1)
    contents = {
        "train_images": rng.integers(0, 256, (5, 28, 28)),
        "train_labels": np.array([9, 0, 0, 3, 0]),
        "test_images": rng.integers(0, 256, (3, 28, 28)),
        "test_labels": np.array([9, 2, 1]),
    }
    sums = {}
    for key, name in FILES.items():
        raw = gzip.compress(_idx(contents[key]))
        (directory / name).write_bytes(raw)
        sums[name] = _sha(raw)
    return contents, sums


def test_fashion_mnist_constants():
    assert set(datasets.FASHION_MNIST_SHA256) == set(FILES.values())
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in datasets.FASHION_MNIST_SHA256.values())
    assert len(datasets.FASHION_MNIST_CLASSES) == 10
    assert datasets.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_load_fashion_mnist_from_fake_files(tmp_path):
    contents, sums = _fake_fashion(tmp_path)
    (X, y), (Xt, yt) = datasets.load_fashion_mnist(tmp_path, checksums=sums)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert Xt.shape == (3, 1, 28, 28) and yt.tolist() == [9, 2, 1]
    np.testing.assert_array_equal(X[:, 0] * 255, contents["train_images"])
    np.testing.assert_array_equal(y, contents["train_labels"])
    # the same conventions as load_mnist: same reader, same result for the same files
    (Xm, ym), (Xtm, ytm) = datasets.load_mnist(tmp_path, checksums=sums)
    np.testing.assert_array_equal(Xm, X)
    np.testing.assert_array_equal(ytm, yt)
    (tmp_path / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    (_, y2), _ = datasets.load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(y2, y)


def test_load_fashion_mnist_checks_the_published_hashes(tmp_path):
    _, sums = _fake_fashion(tmp_path)  # not the real files: the built-in hashes reject them
    with pytest.raises(ValueError, match=r"load_fashion_mnist: SHA-256 mismatch for "
                                         r"train-images-idx3-ubyte.gz: expected 08dc20ab"):
        datasets.load_fashion_mnist(tmp_path)
    (tmp_path / FILES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte.gz not found; put the "
                                                r"four Fashion-MNIST .* download_fashion_mnist"):
        datasets.load_fashion_mnist(tmp_path, checksums=sums)


def test_download_fashion_mnist(http_dir, tmp_path):
    served, url = http_dir
    _, sums = _fake_fashion(served)
    root = tmp_path / "fashion"
    assert datasets.download_fashion_mnist(root, url_base=url, checksums=sums) == root
    assert sorted(p.name for p in root.iterdir()) == sorted(FILES.values())
    _, (_, yt) = datasets.load_fashion_mnist(root, checksums=sums)
    assert yt.tolist() == [9, 2, 1]
    # corrupted on the server: raises, and nothing is left behind
    bad = served / FILES["train_labels"]
    data = bytearray(bad.read_bytes())
    data[-3] ^= 0xFF
    bad.write_bytes(bytes(data))
    fresh = tmp_path / "fresh"
    with pytest.raises(ValueError, match="SHA-256 mismatch for train-labels-idx1-ubyte.gz"):
        datasets.download_fashion_mnist(fresh, url_base=url, checksums=sums)
    assert not fresh.exists()
    # without checksums, the published hashes reject the fake files
    with pytest.raises(ValueError, match="download_fashion_mnist .*SHA-256 mismatch"):
        datasets.download_fashion_mnist(fresh, url_base=url)
    assert not fresh.exists()


# ---------------------------------------------------------------------------- CIFAR-10
def _record_file(labels, rng):
    """CIFAR-10 binary records: 1 label byte + 3072 pixel bytes (R, G, B planes)."""
    images = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                              images.reshape(len(labels), -1)], axis=1)
    return records.tobytes(), images


def _fake_cifar_files():
    rng = np.random.default_rng(2)
    files, images, labels = {}, {}, {}
    for i, name in enumerate(cifar_module.TRAIN_FILES + cifar_module.TEST_FILES):
        labels[name] = [(i + k) % 10 for k in range(2 + i % 2)]
        files[name], images[name] = _record_file(labels[name], rng)
    return files, images, labels


def _tar_gz(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _fake_archive(files) -> bytes:
    members = {f"{cifar_module.FOLDER}/{n}": d for n, d in files.items()}
    members[f"{cifar_module.FOLDER}/batches.meta.txt"] = b"airplane\nautomobile\n"
    return _tar_gz(members)


def _expected(images, labels, names):
    X = np.concatenate([images[n] for n in names]).astype(np.float32) / 255
    y = np.concatenate([labels[n] for n in names]).astype(np.int64)
    return X, y


def test_cifar10_constants():
    assert len(datasets.CIFAR10_ARCHIVE_SHA256) == 64
    assert set(datasets.CIFAR10_BIN_SHA256) == set(cifar_module.TRAIN_FILES +
                                                   cifar_module.TEST_FILES)
    assert datasets.CIFAR10_CLASSES[:2] == ("airplane", "automobile") and \
        len(datasets.CIFAR10_CLASSES) == 10


def test_load_cifar10_from_the_archive(tmp_path):
    files, images, labels = _fake_cifar_files()
    archive = _fake_archive(files)
    (tmp_path / cifar_module.ARCHIVE).write_bytes(archive)
    sums = {cifar_module.ARCHIVE: _sha(archive)}
    (X, y), (Xt, yt) = datasets.load_cifar10(tmp_path, checksums=sums)
    eX, ey = _expected(images, labels, cifar_module.TRAIN_FILES)
    assert X.shape == (len(ey), 3, 32, 32) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, eX)
    np.testing.assert_array_equal(y, ey)
    tX, ty = _expected(images, labels, cifar_module.TEST_FILES)
    np.testing.assert_array_equal(Xt, tX)
    np.testing.assert_array_equal(yt, ty)
    # the layout: after the label, 1024 red bytes row by row, then green, then blue
    first = np.frombuffer(files["data_batch_1.bin"][:3073], np.uint8)
    assert y[0] == first[0]
    np.testing.assert_array_equal(X[0, 0, 0, :] * 255, first[1:33])      # red, top row
    np.testing.assert_array_equal(X[0, 1, 0, 0] * 255, first[1 + 1024])  # green, top-left
    np.testing.assert_array_equal(X[0, 2, 31, 31] * 255, first[3072])    # blue, bottom-right
    assert 0.0 <= X.min() and X.max() <= 1.0
    # nothing was extracted
    assert sorted(p.name for p in tmp_path.iterdir()) == [cifar_module.ARCHIVE]
    # a SHA256SUMS file next to it is used when no checksums are passed
    (tmp_path / "SHA256SUMS").write_text(f"{_sha(archive)}  {cifar_module.ARCHIVE}\n")
    (_, y2), _ = datasets.load_cifar10(tmp_path)
    np.testing.assert_array_equal(y2, y)


def test_load_cifar10_from_extracted_files(tmp_path):
    files, images, labels = _fake_cifar_files()
    folder = tmp_path / cifar_module.FOLDER
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sums = {name: _sha(data) for name, data in files.items()}
    (X, y), (Xt, yt) = datasets.load_cifar10(tmp_path, checksums=sums)
    np.testing.assert_array_equal(X, _expected(images, labels, cifar_module.TRAIN_FILES)[0])
    np.testing.assert_array_equal(yt, _expected(images, labels, cifar_module.TEST_FILES)[1])
    # the published per-file hashes reject the fake files
    with pytest.raises(ValueError, match="SHA-256 mismatch for data_batch_1.bin: expected cee9"):
        datasets.load_cifar10(tmp_path)
    # the files directly in root work as well
    (_, y_flat), _ = datasets.load_cifar10(folder, checksums=sums)
    np.testing.assert_array_equal(y_flat, y)
    (folder / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3.bin not found; fetch it with "
                                                "download_cifar10"):
        datasets.load_cifar10(tmp_path, checksums=sums)


def test_load_cifar10_rejects_bad_data(tmp_path):
    files, _, _ = _fake_cifar_files()
    with pytest.raises(FileNotFoundError, match=r"no CIFAR-10 data in .*download_cifar10\(root\)"
                                                r".*www.cs.toronto.edu/~kriz/cifar.html"):
        datasets.load_cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="directory .* not found"):
        datasets.load_cifar10(tmp_path / "missing")
    cases = {
        "short": (dict(files, **{"test_batch.bin": files["test_batch.bin"][:-1]}),
                  rf"test_batch.bin has {len(files['test_batch.bin']) - 1} bytes, not a whole "
                  r"number of 3073-byte records"),
        "label": (dict(files, **{"data_batch_2.bin": b"\x0c" + files["data_batch_2.bin"][1:]}),
                  r"data_batch_2.bin has label 12; CIFAR-10 labels are 0..9"),
    }
    for key, (bad, message) in cases.items():
        root = tmp_path / key
        root.mkdir()
        archive = _fake_archive(bad)
        (root / cifar_module.ARCHIVE).write_bytes(archive)
        with pytest.raises(ValueError, match=message):
            datasets.load_cifar10(root, checksums={cifar_module.ARCHIVE: _sha(archive)})
    # the python (pickled) version is not read: it lacks the .bin members
    root = tmp_path / "python"
    root.mkdir()
    archive = _tar_gz({"cifar-10-batches-py/data_batch_1": b"\x80\x04."})
    (root / cifar_module.ARCHIVE).write_bytes(archive)
    with pytest.raises(ValueError, match="lacks cifar-10-batches-bin/data_batch_1.bin"):
        datasets.load_cifar10(root, checksums={cifar_module.ARCHIVE: _sha(archive)})
    with pytest.raises(ValueError, match="SHA-256 mismatch for cifar-10-binary.tar.gz: "
                                         "expected c4a38c50"):
        datasets.load_cifar10(root)
    with pytest.raises(ValueError, match="no SHA-256 checksum given for cifar-10-binary"):
        datasets.load_cifar10(root, checksums={"other": "0" * 64})


def test_download_cifar10(http_dir, tmp_path):
    served, url = http_dir
    files, images, labels = _fake_cifar_files()
    archive = _fake_archive(files)
    (served / "cifar.tgz").write_bytes(archive)
    sums = {cifar_module.ARCHIVE: _sha(archive)}
    root = tmp_path / "data" / "cifar10"
    assert datasets.download_cifar10(root, url=url + "cifar.tgz", checksums=sums) == root
    assert [p.name for p in root.iterdir()] == [cifar_module.ARCHIVE]
    assert (root / cifar_module.ARCHIVE).read_bytes() == archive
    _, (_, yt) = datasets.load_cifar10(root, checksums=sums)
    np.testing.assert_array_equal(yt, _expected(images, labels, cifar_module.TEST_FILES)[1])
    # a valid archive is kept (the server could be gone)
    (served / "cifar.tgz").unlink()
    datasets.download_cifar10(root, url=url + "cifar.tgz", checksums=sums)
    assert [p.name for p in root.iterdir()] == [cifar_module.ARCHIVE]


def test_download_cifar10_mismatch_raises_and_leaves_nothing(http_dir, tmp_path):
    served, url = http_dir
    files, _, _ = _fake_cifar_files()
    archive = _fake_archive(files)
    (served / "cifar.tgz").write_bytes(archive)
    new = tmp_path / "new"
    # the built-in hash is the real archive's: the fake one does not match
    with pytest.raises(ValueError, match=r"download_cifar10 \(http://127.0.0.1:\d+/cifar.tgz\): "
                                         r"SHA-256 mismatch for cifar-10-binary.tar.gz"):
        datasets.download_cifar10(new, url=url + "cifar.tgz")
    assert not new.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        datasets.download_cifar10(existing, url=url + "cifar.tgz",
                                  checksums={cifar_module.ARCHIVE: "0" * 64})
    assert list(existing.iterdir()) == []
    with pytest.raises(OSError, match="404"):
        datasets.download_cifar10(existing, url=url + "missing.tgz",
                                  checksums={cifar_module.ARCHIVE: _sha(archive)})
    assert list(existing.iterdir()) == []


# ---------------------------------------------------------------------------- MNIST-1D
def test_mnist1d_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r"pip install \"chainrule\[data\]\""):
        datasets.load_mnist1d()


def test_mnist1d_is_generated_offline_and_deterministically(monkeypatch, tmp_path):
    pytest.importorskip("mnist1d")
    import urllib.request

    import mnist1d.data
    import requests

    def no_network(*args, **kwargs):
        raise AssertionError("load_mnist1d tried to download")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.chdir(tmp_path)
    np.random.seed(123)
    random.seed(123)
    expected_numpy, expected_python = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    (X, y), (Xt, yt) = datasets.load_mnist1d()
    assert np.random.rand() == expected_numpy and random.random() == expected_python
    assert list(tmp_path.iterdir()) == []  # no cache file written
    assert X.shape == (4000, 1, 40) and Xt.shape == (1000, 1, 40)
    assert X.dtype == np.float32 and y.dtype == np.int64 and yt.dtype == np.int64
    assert set(np.unique(y)) == set(range(10)) and np.bincount(y).min() > 300
    # the package's own generator with its defaults (seed 42) gives the same data
    ref = mnist1d.data.make_dataset(mnist1d.data.get_dataset_args())
    np.testing.assert_array_equal(X[:, 0], ref["x"].astype(np.float32))
    np.testing.assert_array_equal(y, ref["y"])
    np.testing.assert_array_equal(Xt[:, 0], ref["x_test"].astype(np.float32))
    (Xs, _), (Xst, _) = datasets.load_mnist1d(num_samples=500, final_seq_length=30)
    assert Xs.shape == (400, 1, 30) and Xst.shape == (100, 1, 30)
    (Xs2, _), _ = datasets.load_mnist1d(num_samples=500, final_seq_length=30)
    np.testing.assert_array_equal(Xs2, Xs)
    (Xs0, _), _ = datasets.load_mnist1d(seed=0, num_samples=500, final_seq_length=30)
    assert not np.array_equal(Xs0, Xs)
    with pytest.raises(TypeError, match=r"unknown dataset arguments \['url'\]"):
        datasets.load_mnist1d(url="http://example.invalid/x.pkl")
