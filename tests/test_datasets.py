"""Bundled digits, synthetic 2-D problems, MNIST reading and downloading."""

import functools
import gzip
import hashlib
import http.server
import shutil
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import sklearn.datasets as skd

import chainrule as cr
from chainrule.data import datasets
from chainrule.data.datasets.mnist import FILES

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason=f"MNIST files are not available at {MNIST_DIR}",
)


# ---------------------------------------------------------------------------- digits
def test_load_digits_equals_sklearn():
    X, y = datasets.load_digits()
    sk = skd.load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X.reshape(1797, 64) * 16, sk.data)
    np.testing.assert_array_equal(X[:, 0], (sk.images / 16).astype(np.float32))
    np.testing.assert_array_equal(y, sk.target)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(sk.target))


# ------------------------------------------------------------------------- synthetic
def test_make_moons_equals_sklearn_without_noise_and_shuffle():
    for n in (10, 11, 100):
        X, y = datasets.make_moons(n, shuffle=False)
        sX, sy = skd.make_moons(n, shuffle=False)
        assert X.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_allclose(X, sX, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(y, sy)


def test_make_moons_noise_and_seed():
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    X2, y2 = datasets.make_moons(200, noise=0.1, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    clean, _ = datasets.make_moons(200, seed=0)
    # same shuffle, noise of std 0.1 on each coordinate
    assert 0.08 < np.std(X - clean) < 0.12
    assert np.bincount(y).tolist() == [100, 100]
    with pytest.raises(ValueError, match="noise must be non-negative"):
        datasets.make_moons(10, noise=-1)
    with pytest.raises(ValueError, match="at least 2"):
        datasets.make_moons(1)


def test_make_spirals_geometry():
    X, y = datasets.make_spirals(n_samples=301, n_classes=3, shuffle=False)
    assert X.shape == (301, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [101, 100, 100]
    r = np.hypot(X[:, 0], X[:, 1])
    # class 0 starts at the origin and ends at radius 1 after one full turn
    np.testing.assert_allclose(r[y == 0], np.linspace(0, 1, 101), atol=1e-6)
    np.testing.assert_allclose(X[100], [1.0, 0.0], atol=1e-6)
    # class 1 ends at angle 2π/3 (rotated arm)
    end1 = X[y == 1][-1]
    np.testing.assert_allclose(end1, [np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)], atol=1e-6)
    Xs, ys = datasets.make_spirals(n_samples=300, noise=0.2, seed=1)
    assert np.bincount(ys).tolist() == [150, 150]
    Xs2, _ = datasets.make_spirals(n_samples=300, noise=0.2, seed=1)
    np.testing.assert_array_equal(Xs, Xs2)
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        datasets.make_spirals(10, n_classes=1)


def test_make_blobs():
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
    X, y = datasets.make_blobs(3000, centers=centers, cluster_std=[0.5, 1.0, 2.0], seed=0)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [1000, 1000, 1000]
    for k, std in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.2)
        np.testing.assert_allclose(X[y == k].std(0), std, rtol=0.1)
    Xr, yr = datasets.make_blobs(10, centers=4, seed=2)
    assert Xr.shape == (10, 2) and np.bincount(yr).tolist() == [3, 3, 2, 2]
    assert np.all(np.abs(Xr) < 20)
    cr.manual_seed(3)
    a, _ = datasets.make_blobs(5)
    cr.manual_seed(3)
    b, _ = datasets.make_blobs(5)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"shape \(n_centers, n_features\)"):
        datasets.make_blobs(10, centers=np.zeros(3))


# ------------------------------------------------------------------------------ MNIST
def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _fake_mnist(directory: Path) -> dict[str, str]:
    """Write tiny IDX gzip files named like MNIST's; return their SHA-256s."""
    rng = np.random.default_rng(0)
    contents = {
        "train_images": rng.integers(0, 256, (6, 28, 28)),
        "train_labels": np.arange(6) % 10,
        "test_images": rng.integers(0, 256, (4, 28, 28)),
        "test_labels": np.array([7, 2, 1, 0]),
    }
    sums = {}
    for key, name in FILES.items():
        raw = gzip.compress(_idx(contents[key]))
        (directory / name).write_bytes(raw)
        sums[name] = hashlib.sha256(raw).hexdigest()
    return sums


def test_read_idx_roundtrip_and_errors():
    a = np.arange(24).reshape(2, 3, 4)
    np.testing.assert_array_equal(datasets.read_idx(_idx(a)), a)
    with pytest.raises(ValueError, match="magic number"):
        datasets.read_idx(b"\x01\x02\x03\x04")
    message = r"has 39 bytes, but its header \(shape \(2, 3, 4\), uint8\) implies 40"
    with pytest.raises(ValueError, match=message):
        datasets.read_idx(_idx(a)[:-1])


def test_load_mnist_from_fake_files(tmp_path):
    sums = _fake_mnist(tmp_path)
    (X, y), (Xt, yt) = datasets.load_mnist(tmp_path, checksums=sums)
    assert X.shape == (6, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert Xt.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(yt, [7, 2, 1, 0])
    assert 0 <= X.min() and X.max() <= 1
    # a SHA256SUMS file in the directory is used when no checksums are passed
    (tmp_path / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    (_, y2), _ = datasets.load_mnist(tmp_path)
    np.testing.assert_array_equal(y2, y)
    bad = dict(sums, **{FILES["test_labels"]: "0" * 64})
    with pytest.raises(ValueError, match="SHA-256 mismatch for t10k-labels-idx1-ubyte.gz"):
        datasets.load_mnist(tmp_path, checksums=bad)
    (tmp_path / FILES["train_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz not found"):
        datasets.load_mnist(tmp_path)


def test_load_mnist_without_checksums_checks_the_known_content(tmp_path):
    _fake_mnist(tmp_path)  # not real MNIST: the built-in content hashes must reject it
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        datasets.load_mnist(tmp_path)


@needs_mnist
def test_load_mnist_real():
    (X, y), (Xt, yt) = datasets.load_mnist(MNIST_DIR)
    assert X.shape == (60000, 1, 28, 28) and Xt.shape == (10000, 1, 28, 28)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                       5949]
    assert y[:5].tolist() == [5, 0, 4, 1, 9] and yt[:5].tolist() == [7, 2, 1, 0, 4]
    assert X.min() == 0.0 and X.max() == 1.0


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


def test_download_mnist_verifies_and_installs(http_dir, tmp_path):
    served, url = http_dir
    sums = _fake_mnist(served)
    root = tmp_path / "data" / "mnist"
    assert datasets.download_mnist(root, url_base=url, checksums=sums) == root
    assert sorted(p.name for p in root.iterdir()) == sorted(FILES.values())
    for name in FILES.values():
        assert (root / name).read_bytes() == (served / name).read_bytes()
    (_, y), (_, yt) = datasets.load_mnist(root, checksums=sums)
    np.testing.assert_array_equal(yt, [7, 2, 1, 0])
    # a second call finds valid files and keeps them (the server could be gone)
    for name in FILES.values():
        (served / name).unlink()
    datasets.download_mnist(root, url_base=url, checksums=sums)
    assert sorted(p.name for p in root.iterdir()) == sorted(FILES.values())


def test_download_mnist_corrupted_file_raises_and_leaves_nothing(http_dir, tmp_path):
    served, url = http_dir
    sums = _fake_mnist(served)
    corrupted = served / FILES["test_images"]
    data = bytearray(corrupted.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupted.write_bytes(bytes(data))
    root = tmp_path / "new"
    with pytest.raises(ValueError, match="SHA-256 mismatch for t10k-images-idx3-ubyte.gz"):
        datasets.download_mnist(root, url_base=url, checksums=sums)
    assert not root.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(ValueError, match="SHA-256 mismatch"):
        datasets.download_mnist(existing, url_base=url, checksums=sums)
    assert list(existing.iterdir()) == []


def test_download_mnist_missing_file_raises_and_leaves_nothing(http_dir, tmp_path):
    served, url = http_dir
    sums = _fake_mnist(served)
    (served / FILES["test_labels"]).unlink()
    root = tmp_path / "existing"
    root.mkdir()
    with pytest.raises(OSError, match="404"):
        datasets.download_mnist(root, url_base=url, checksums=sums)
    assert list(root.iterdir()) == []


@needs_mnist
def test_download_mnist_real_files_with_builtin_hashes(http_dir, tmp_path):
    served, url = http_dir
    for name in FILES.values():
        shutil.copy(MNIST_DIR / name, served / name)
    root = tmp_path / "mnist"
    datasets.download_mnist(root, url_base=url)
    (_, y), (_, yt) = datasets.load_mnist(root)
    assert len(y) == 60000 and yt[:3].tolist() == [7, 2, 1]
