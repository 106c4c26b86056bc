"""Batch augmentation (chainrule.data.transforms) and the DataLoader's transform=."""

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset
from chainrule.data import transforms as T


def _batch(n=8, c=2, h=6, w=6, seed=0, dtype=np.float32):
    """Distinct positive values, so a shifted or flipped image is recognisable."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(n * c * h * w).reshape(n, c, h, w) + 1).astype(dtype)


def _shifted(x, dy, dx):
    """x moved by (dy, dx) pixels with zero fill (independent reference)."""
    out = np.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _shifts_of(x, out, max_dy, max_dx):
    """The (dy, dx) per image with out[n] == x[n] shifted; asserts each matches one shift."""
    found = []
    for n in range(len(x)):
        matches = [(dy, dx) for dy in range(-max_dy, max_dy + 1)
                   for dx in range(-max_dx, max_dx + 1)
                   if np.array_equal(out[n], _shifted(x[n], dy, dx))]
        assert len(matches) == 1, f"image {n} is not a shift of its input within the bounds"
        found.append(matches[0])
    return found


# ------------------------------------------------------------------ shapes and types
ALL = [
    lambda: T.RandomCrop(6, padding=2, seed=0),
    lambda: T.RandomHorizontalFlip(seed=0),
    lambda: T.RandomVerticalFlip(seed=0),
    lambda: T.RandomTranslate(2, seed=0),
    lambda: T.RandomRotation(20, seed=0),
    lambda: T.GaussianNoise(0.1, seed=0),
    lambda: T.Normalize([0.5, 0.2], [0.3, 0.1]),
    lambda: T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip()], seed=0),
]


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_dtype_and_type_are_kept(make, dtype):
    x = _batch(dtype=dtype)
    out = make()(x)
    assert isinstance(out, np.ndarray) and out.shape == x.shape and out.dtype == dtype
    t = cr.tensor(x)
    out_t = make()(t)
    assert isinstance(out_t, cr.Tensor) and not out_t.requires_grad
    np.testing.assert_array_equal(out_t.data, out)  # same seed, same result
    np.testing.assert_array_equal(t.data, x)  # the input is never changed


@pytest.mark.parametrize("make", ALL[:4] + ALL[4:6])
def test_determinism(make):
    x = _batch(n=32)
    a, b = make(), make()
    first = [a(x) for _ in range(3)]
    second = [b(x) for _ in range(3)]
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p, q)
    assert not all(np.array_equal(first[0], f) for f in first[1:])  # draws move on


def test_generator_sources():
    x = _batch(n=32)
    flip = T.RandomHorizontalFlip()
    a = flip(x, generator=np.random.default_rng(5))
    b = flip(x, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    cr.manual_seed(3)
    c = flip(x)
    cr.manual_seed(3)
    np.testing.assert_array_equal(flip(x), c)
    # an own generator wins over the call's
    own = T.RandomHorizontalFlip(generator=np.random.default_rng(1))
    np.testing.assert_array_equal(own(x, generator=np.random.default_rng(99)),
                                  T.RandomHorizontalFlip(seed=1)(x))
    with pytest.raises(ValueError, match="either seed or generator"):
        T.RandomHorizontalFlip(seed=1, generator=np.random.default_rng())
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        T.RandomHorizontalFlip(generator=3)
    with pytest.raises(TypeError, match="seed must be an int"):
        T.RandomHorizontalFlip(seed=1.5)


def test_state_dict_resumes_a_seeded_transform():
    x = _batch(n=16)
    noise = T.Compose([T.GaussianNoise(1.0, seed=0), T.RandomHorizontalFlip(seed=1)])
    noise(x)
    state = noise.state_dict()
    assert set(state) == {"0", "1"}
    expected = noise(x)
    fresh = T.Compose([T.GaussianNoise(1.0, seed=7), T.RandomHorizontalFlip(seed=8)])
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(x), expected)
    with pytest.raises(ValueError, match="has none"):
        T.GaussianNoise(1.0).load_state_dict(state["0"])


def test_bad_batches_are_rejected_with_the_transform_name():
    with pytest.raises(ValueError, match=r"RandomRotation: expects a float batch of shape "
                                         r"\(N, C, H, W\), got shape \(2, 3, 4\)"):
        T.RandomRotation(10)(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"RandomCrop: .*dtype uint8"):
        T.RandomCrop(2)(np.zeros((2, 1, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, C, L\) or \(N, C, H, W\), got shape \(4, 4\)"):
        T.GaussianNoise(1)(np.zeros((4, 4), np.float32))
    with pytest.raises(TypeError, match="numpy array or Tensor"):
        T.RandomHorizontalFlip()([[1.0]])


def test_argument_validation():
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        T.RandomHorizontalFlip(p=1.5)
    with pytest.raises(ValueError, match="std must be a finite number >= 0"):
        T.GaussianNoise(-1)
    with pytest.raises(ValueError, match="size must be >= 1"):
        T.RandomCrop(0)
    with pytest.raises(TypeError, match="padding must be an int or a sequence of 2 or 4 ints"):
        T.RandomCrop(4, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.RandomCrop(4, padding_mode="wrap")
    with pytest.raises(ValueError, match="max_shift must be >= 0"):
        T.RandomTranslate(-1)
    with pytest.raises(ValueError, match="degrees must be non-negative"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError, match="min <= max"):
        T.RandomRotation((10, -10))
    with pytest.raises(ValueError, match="interpolation must be 'bilinear' or 'nearest'"):
        T.RandomRotation(5, interpolation="cubic")
    with pytest.raises(ValueError, match="std must not be zero"):
        T.Normalize([0.5], [0.0])
    with pytest.raises(ValueError, match="mean has 2 values but std has 3"):
        T.Normalize([0.5, 0.5], [1, 1, 1])
    with pytest.raises(ValueError, match=r"mean has 2 values, but the batch .* has 3 channels"):
        T.Normalize([0.5, 0.5], [1.0, 1.0])(np.zeros((1, 3, 2, 2), np.float32))
    with pytest.raises(TypeError, match=r"transforms\[1\] is not callable"):
        T.Compose([T.RandomHorizontalFlip(), 3])
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(8, padding=1)(np.zeros((1, 1, 5, 5), np.float32))


def test_reprs():
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=32, padding=4)"
    assert (repr(T.RandomCrop((28, 24), padding=(1, 2), padding_mode="reflect", seed=3))
            == "RandomCrop(size=(28, 24), padding=(1, 2), padding_mode='reflect', seed=3)")
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.RandomVerticalFlip(0.25)) == "RandomVerticalFlip(p=0.25)"
    assert repr(T.RandomTranslate((1, 3))) == "RandomTranslate(max_shift=(1, 3))"
    assert repr(T.RandomRotation(15)) == "RandomRotation(degrees=(-15.0, 15.0))"
    assert (repr(T.RandomRotation((0, 90), interpolation="nearest", fill=0.5))
            == "RandomRotation(degrees=(0.0, 90.0), interpolation='nearest', fill=0.5)")
    assert repr(T.GaussianNoise(0.1)) == "GaussianNoise(std=0.1)"
    assert repr(T.Normalize((0.1307,), (0.3081,))) == "Normalize(mean=[0.1307], std=[0.3081])"
    assert repr(T.Compose([T.RandomHorizontalFlip(), T.GaussianNoise(0.1)], seed=2)) == (
        "Compose([\n    RandomHorizontalFlip(p=0.5),\n    GaussianNoise(std=0.1),\n], seed=2)")


# ------------------------------------------------------------------------- Normalize
def test_normalize_matches_torch_formula():
    x = np.random.default_rng(0).random((5, 3, 4, 4), dtype=np.float32)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    out = T.Normalize(mean, std)(x)
    tx = torch.from_numpy(x)
    expected = (tx - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-6, atol=1e-6)
    # 1-D signals, a single number for every channel, float64 kept
    s = np.random.default_rng(1).random((4, 2, 7))
    np.testing.assert_allclose(T.Normalize(0.5, 2.0)(s), (s - 0.5) / 2.0, rtol=1e-15)


# ----------------------------------------------------------------------------- flips
def test_flip_fraction_and_content():
    x = _batch(n=20000, c=1, h=2, w=3)
    out = T.RandomHorizontalFlip(p=0.3, seed=0)(x)
    flipped = np.all(out == x[..., ::-1], axis=(1, 2, 3))
    same = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped ^ same)  # every image is exactly one of the two
    assert abs(flipped.mean() - 0.3) < 0.015  # 4.6 standard errors
    assert np.all(T.RandomHorizontalFlip(p=1.0)(x) == x[..., ::-1])
    assert np.all(T.RandomHorizontalFlip(p=0.0)(x) == x)
    v = T.RandomVerticalFlip(p=0.5, seed=1)(x)
    vflipped = np.all(v == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(vflipped ^ np.all(v == x, axis=(1, 2, 3)))
    assert abs(vflipped.mean() - 0.5) < 0.02
    signal = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(signal), signal[..., ::-1])


# -------------------------------------------------------------------- crop/translate
def test_crop_with_padding_only_shifts_content_by_at_most_padding():
    x = _batch(n=200, c=2, h=6, w=7)
    out = T.RandomCrop((6, 7), padding=2, seed=0)(x)
    shifts = _shifts_of(x, out, 2, 2)
    dys, dxs = zip(*shifts)
    assert set(dys) == set(dxs) == {-2, -1, 0, 1, 2}  # every offset occurs
    # both channels of an image move together (one offset per image)
    assert out.shape == x.shape


def test_crop_without_padding_takes_a_window():
    x = _batch(n=50, c=1, h=8, w=8)
    out = T.RandomCrop(5, seed=1)(x)
    assert out.shape == (50, 1, 5, 5)
    starts = set()
    for n in range(50):
        found = [(i, j) for i in range(4) for j in range(4)
                 if np.array_equal(out[n], x[n, :, i:i + 5, j:j + 5])]
        assert len(found) == 1
        starts.add(found[0])
    assert len(starts) > 8


def test_crop_padding_forms_and_modes_match_np_pad():
    x = _batch(n=3, c=2, h=4, w=5)
    # torch's (left/right, top/bottom) order, and a crop as large as the padded image
    out = T.RandomCrop((4 + 4, 5 + 2), padding=(1, 2), seed=0)(x)
    np.testing.assert_array_equal(out, np.pad(x, [(0, 0), (0, 0), (2, 2), (1, 1)]))
    out = T.RandomCrop((4 + 3, 5 + 1), padding=(1, 2, 0, 1), fill=-1.0)(x)  # l, t, r, b
    np.testing.assert_array_equal(
        out, np.pad(x, [(0, 0), (0, 0), (2, 1), (1, 0)], constant_values=-1))
    for mode in ("edge", "reflect", "symmetric"):
        out = T.RandomCrop((8, 9), padding=2, padding_mode=mode)(x)
        np.testing.assert_array_equal(out, np.pad(x, [(0, 0), (0, 0), (2, 2), (2, 2)], mode=mode))
    small = T.RandomCrop(7, pad_if_needed=True, seed=0)(x)
    assert small.shape == (3, 2, 7, 7)


def test_crop_and_translate_on_1d_signals():
    s = _batch(n=100, c=2, h=1, w=10)[:, :, 0]  # (N, C, L)
    out = T.RandomCrop(10, padding=3, seed=0)(s)
    shifts = _shifts_of(s[:, :, None], out[:, :, None], 0, 3)
    assert {dx for _, dx in shifts} == set(range(-3, 4))
    out = T.RandomTranslate(2, seed=1)(s)
    shifts = _shifts_of(s[:, :, None], out[:, :, None], 0, 2)
    assert {dx for _, dx in shifts} == set(range(-2, 3))
    assert T.RandomCrop(6, seed=0)(s).shape == (100, 2, 6)


def test_translate_bounds_and_per_axis_limits():
    x = _batch(n=150, c=1, h=6, w=6)
    shifts = _shifts_of(x, T.RandomTranslate(2, seed=0)(x), 2, 2)
    assert {dy for dy, _ in shifts} == {dx for _, dx in shifts} == set(range(-2, 3))
    shifts = _shifts_of(x, T.RandomTranslate((0, 1), seed=0)(x), 0, 1)
    assert {dy for dy, _ in shifts} == {0} and {dx for _, dx in shifts} == {-1, 0, 1}
    filled = T.RandomTranslate(3, fill=-7.0, seed=2)(x)
    assert np.all(np.isin(filled, np.concatenate([x.ravel(), [-7.0]])))


# -------------------------------------------------------------------------- rotation
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_by_zero_and_quarter_turns(interpolation):
    x = _batch(n=4, c=3, h=7, w=7)
    np.testing.assert_array_equal(T.RandomRotation(0, interpolation)(x), x)
    for angle, k in ((90, 1), (-90, -1), (180, 2), (270, 3)):
        out = T.RandomRotation((angle, angle), interpolation)(x)
        np.testing.assert_array_equal(out, np.rot90(x, k, axes=(2, 3)))
    even = _batch(n=2, c=1, h=6, w=6)
    np.testing.assert_array_equal(T.RandomRotation((90, 90), interpolation)(even),
                                  np.rot90(even, 1, axes=(2, 3)))
    wide = _batch(n=2, c=1, h=4, w=6)
    np.testing.assert_array_equal(T.RandomRotation((180, 180), interpolation)(wide),
                                  wide[:, :, ::-1, ::-1])


def test_rotation_matches_torch_grid_sample():
    """Bilinear rotation about the centre with zero fill = affine_grid + grid_sample
    (align_corners=True puts -1 and 1 on the centres of the border pixels)."""
    x = np.random.default_rng(0).random((16, 2, 9, 9))
    angles = np.random.default_rng(1).uniform(-30, 30, 16)
    ours = T.rotate(x, angles)
    th = np.deg2rad(angles)
    theta = np.zeros((16, 2, 3))
    theta[:, 0, 0], theta[:, 0, 1] = np.cos(th), -np.sin(th)
    theta[:, 1, 0], theta[:, 1, 1] = np.sin(th), np.cos(th)
    grid = F.affine_grid(torch.from_numpy(theta), (16, 2, 9, 9), align_corners=True)
    ref = F.grid_sample(torch.from_numpy(x), grid, mode="bilinear", padding_mode="zeros",
                        align_corners=True)
    np.testing.assert_allclose(ours, ref.numpy(), atol=1e-12)
    near = F.grid_sample(torch.from_numpy(x), grid, mode="nearest", padding_mode="zeros",
                         align_corners=True)
    agree = np.isclose(T.rotate(x, angles, "nearest"), near.numpy())
    assert agree.mean() > 0.99  # ties (exact .5) may round differently


def test_rotation_fill_and_angle_range():
    x = np.ones((500, 1, 9, 9), np.float32)
    out = T.RandomRotation(45, fill=0.0, seed=0)(x)
    corner = out[:, 0, 0, 0]  # the corner leaves the image at |angle| >~ 0
    assert np.all(corner <= 1) and np.any(corner < 0.5)
    np.testing.assert_allclose(out[:, 0, 4, 4], 1.0)  # the centre stays
    np.testing.assert_allclose(T.RandomRotation(45, fill=1.0, seed=0)(x), 1.0, rtol=1e-6)


# ----------------------------------------------------------------------------- noise
def test_gaussian_noise_statistics():
    x = np.full((64, 3, 32, 32), 0.5, np.float32)
    out = T.GaussianNoise(0.2, seed=0)(x)
    d = out - x
    assert abs(d.std() - 0.2) < 0.004 and abs(d.mean()) < 0.003
    np.testing.assert_array_equal(T.GaussianNoise(0.0, seed=0)(x), x)


# -------------------------------------------------------------------------- Compose
def test_compose_applies_in_order():
    x = _batch(n=6)
    steps = [T.RandomHorizontalFlip(p=1.0), T.Normalize(1.0, 2.0), lambda a: a * 10]
    np.testing.assert_array_equal(T.Compose(steps)(x), (x[..., ::-1] - 1) / 2 * 10)
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    composed = T.Compose([T.RandomCrop(6, padding=1), T.GaussianNoise(0.1)])
    one = composed(x, generator=rng_a)
    two = T.GaussianNoise(0.1)(T.RandomCrop(6, padding=1)(x, generator=rng_b), generator=rng_b)
    np.testing.assert_array_equal(one, two)
    assert len(composed) == 2 and isinstance(composed[1], T.GaussianNoise)


# -------------------------------------------------------------------- speed (a print)
def test_benchmark_print_no_per_image_loop():
    x = np.random.default_rng(0).random((256, 1, 28, 28), dtype=np.float32)
    for t in (T.RandomCrop(28, padding=4, seed=0), T.RandomHorizontalFlip(seed=0),
              T.RandomTranslate(3, seed=0), T.RandomRotation(15, seed=0),
              T.GaussianNoise(0.1, seed=0), T.Normalize([0.1307], [0.3081])):
        t(x)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            t(x)
            times.append(time.perf_counter() - start)
        print(f"{t!r:45s} 256x1x28x28: {min(times) * 1e3:.2f} ms")


# ------------------------------------------------------------------ DataLoader hookup
class ListDataset(Dataset):
    def __init__(self, X, y):
        self.X, self.y = X, y

    def __getitem__(self, i):
        return self.X[i], int(self.y[i])

    def __len__(self):
        return len(self.X)


def _images(n=20):
    X = _batch(n=n, c=1, h=5, w=5)
    return X, np.arange(n) % 3


def test_loader_applies_the_transform_to_the_inputs_only():
    X, y = _images()
    flip = T.RandomHorizontalFlip(p=1.0)
    loader = DataLoader(TensorDataset(X, y), batch_size=6, transform=flip)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.data, X[:6, :, :, ::-1])
    np.testing.assert_array_equal(yb.data, y[:6])
    plain = DataLoader(TensorDataset(X, y), batch_size=6)  # e.g. the validation loader
    np.testing.assert_array_equal(next(iter(plain))[0].data, X[:6])
    np.testing.assert_array_equal(X, _images()[0])  # the dataset is untouched
    # generic datasets and plain callables too
    generic = DataLoader(ListDataset(X, y), batch_size=6, transform=lambda a: a + 1)
    xg, yg = next(iter(generic))
    np.testing.assert_array_equal(xg.data, X[:6] + 1)
    np.testing.assert_array_equal(yg.data, y[:6])
    single = DataLoader(TensorDataset(X), batch_size=4, transform=flip)
    np.testing.assert_array_equal(next(iter(single))[0].data, X[:4, :, :, ::-1])


def _epochs(loader, n=2):
    return [[xb.data.copy() for xb, _ in loader] for _ in range(n)]


def test_loader_augmentation_is_seeded_and_changes_every_epoch():
    X, y = _images()
    aug = T.Compose([T.RandomCrop(5, padding=1), T.GaussianNoise(0.1)])
    a = _epochs(DataLoader(TensorDataset(X, y), 6, shuffle=True, seed=3, transform=aug))
    b = _epochs(DataLoader(TensorDataset(X, y), 6, shuffle=True, seed=3, transform=aug))
    for ea, eb in zip(a, b):
        for p, q in zip(ea, eb):
            np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[0][0], a[1][0])
    cr.manual_seed(11)
    c = _epochs(DataLoader(TensorDataset(X, y), 6, transform=aug), 1)
    cr.manual_seed(11)
    d = _epochs(DataLoader(TensorDataset(X, y), 6, transform=aug), 1)
    np.testing.assert_array_equal(c[0][1], d[0][1])


@pytest.mark.parametrize("seeded", [False, True])
def test_loader_resumes_augmentation_exactly(seeded):
    X, y = _images(23)

    def make(seed):
        kw = {"seed": 100} if seeded else {}
        aug = T.Compose([T.RandomTranslate(1, **kw), T.GaussianNoise(0.5)])
        return DataLoader(TensorDataset(X, y), 5, shuffle=True, seed=seed, transform=aug)

    loader = make(1)
    it = iter(loader)
    [next(it) for _ in range(2)]
    state = loader.state_dict()
    assert ("transform" in state) == seeded
    rest = [xb.data.copy() for xb, _ in it] + [xb.data.copy() for xb, _ in loader]
    resumed = make(2)
    resumed.load_state_dict(state)
    got = [xb.data for xb, _ in resumed] + [xb.data for xb, _ in resumed]
    assert len(got) == len(rest) == 3 + 5
    for p, q in zip(got, rest):
        np.testing.assert_array_equal(p, q)


def test_loader_transform_errors():
    X, y = _images()
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader(TensorDataset(X, y), 4, transform="flip")
    bad = DataLoader(TensorDataset(X, y), 4, transform=lambda a: a[:2])
    with pytest.raises(ValueError, match="must keep the batch size"):
        next(iter(bad))
