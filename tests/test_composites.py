"""Composite classes (chainrule.data.composites): every image and label checked against
the halves, orientations and shifts it claims to be made of."""

import numpy as np
import pytest

from chainrule.data.composites import composite_class_count, make_composites
from chainrule.data.datasets import load_digits


@pytest.fixture(scope="module")
def seen_digits():
    x, y = load_digits()
    return x[y < 3], y[y < 3]  # k = 3 classes: 8·3·7 = 168 composite classes


def _orient(image, o):
    turned = np.rot90(image, o % 4)
    return turned[:, ::-1] if o >= 4 else turned


def _unorient(image, o):
    """The inverse of _orient."""
    return np.rot90(image[:, ::-1] if o >= 4 else image, -(o % 4))


def _decode(label, k):
    """(kind, i, j, orientation) of a composite class id."""
    o, rest = label % 8, label // 8
    if rest < k:
        return "whole", rest, rest, o
    rest -= k
    kind = "top_bottom" if rest < k * k else "left_right"
    return kind, (rest % (k * k)) // k, rest % k, o


def test_class_count():
    assert composite_class_count(7) == 840  # 56 whole + 392 top/bottom + 392 left/right
    assert composite_class_count(1) == 24
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_classes must be a positive int"):
            composite_class_count(bad)


def test_every_composite_is_made_of_the_halves_its_label_names(seen_digits):
    x, y = seen_digits
    images, labels = make_composites(x, y, 600, seed=0, max_shift=0)
    assert images.shape == (600, 1, 8, 8) and images.dtype == x.dtype
    assert labels.dtype == np.int64 and labels.min() >= 0 and labels.max() < 168
    by_class = [x[y == c, 0] for c in range(3)]
    kinds = set()
    for image, label in zip(images[:, 0], labels):
        kind, i, j, o = _decode(int(label), 3)
        kinds.add(kind)
        upright = _unorient(image, o)
        if kind == "whole":
            first = second = upright
        elif kind == "top_bottom":
            first, second = upright[:4], upright[4:]
        else:
            first, second = upright[:, :4], upright[:, 4:]
        if kind == "whole":
            assert (by_class[i] == first).all(axis=(1, 2)).any()
        elif kind == "top_bottom":
            assert (by_class[i][:, :4] == first).all(axis=(1, 2)).any()
            assert (by_class[j][:, 4:] == second).all(axis=(1, 2)).any()
        else:
            assert (by_class[i][:, :, :4] == first).all(axis=(1, 2)).any()
            assert (by_class[j][:, :, 4:] == second).all(axis=(1, 2)).any()
    assert kinds == {"whole", "top_bottom", "left_right"}


def test_all_classes_appear_about_equally_by_kind(seen_digits):
    x, y = seen_digits
    _, labels = make_composites(x, y, 30000, seed=1)
    assert len(np.unique(labels)) == 168
    whole = np.mean(labels < 24)
    assert whole == pytest.approx(1 / 3, abs=0.02)
    assert np.mean(labels >= 24 + 72) == pytest.approx(1 / 3, abs=0.02)


def test_the_shift_moves_each_composite_by_at_most_one_pixel_and_zero_fills(seen_digits):
    x, y = seen_digits
    still, labels = make_composites(x, y, 300, seed=2, max_shift=0)
    moved, same_labels = make_composites(x, y, 300, seed=2, max_shift=1)
    np.testing.assert_array_equal(labels, same_labels)  # the shift does not change the class
    padded = np.pad(still[:, 0], ((0, 0), (1, 1), (1, 1)))
    shifts = set()
    for n in range(300):
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(moved[n, 0], padded[n, 1 - dy:9 - dy, 1 - dx:9 - dx])]
        assert matches, f"composite {n} is not a one-pixel shift of its unshifted self"
        shifts.update(matches)
    assert len(shifts) == 9


def test_orientations_are_the_eight_symmetries_of_the_square():
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    got = {}
    for seed in range(200):
        composite, label = make_composites(image, np.array([0]), 1, seed=seed, max_shift=0)
        if label[0] < 8:  # a whole image
            got[int(label[0])] = composite[0, 0]
    assert sorted(got) == list(range(8))
    for o, composite in got.items():
        np.testing.assert_array_equal(composite, _orient(image[0, 0], o))


def test_same_seed_same_composites_and_three_dimensional_input(seen_digits):
    x, y = seen_digits
    a = make_composites(x[:, 0], y, 50, seed=np.random.default_rng(5))
    b = make_composites(x[:, 0], y, 50, seed=np.random.default_rng(5))
    c = make_composites(x[:, 0], y, 50, seed=6)
    assert a[0].shape == (50, 8, 8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("args, kwargs, problem", [
    ((np.zeros((4, 1, 8, 6)), np.arange(4), 5), {}, r"x must hold square images"),
    ((np.zeros((4, 64)), np.arange(4), 5), {}, r"x must hold square images"),
    ((np.zeros((4, 8, 8)), np.arange(3), 5), {}, r"y must be 1-D with one label per image"),
    ((np.zeros((0, 8, 8)), np.arange(0), 5), {}, r"x holds no images \(shape \(0, 8, 8\)\)"),
    ((np.zeros((4, 8, 8)), np.arange(4), 0), {}, r"n must be a positive int, got 0"),
    ((np.zeros((4, 8, 8)), np.arange(4), 2.5), {}, r"n must be a positive int"),
    ((np.zeros((4, 8, 8)), np.arange(4), 5), {"max_shift": -1}, r"max_shift must be an int"),
    ((np.zeros((4, 8, 8)), np.arange(4), 5), {"max_shift": 8},
     r"max_shift must be smaller than the image side 8"),
])
def test_errors_name_the_bad_argument(args, kwargs, problem):
    with pytest.raises(ValueError, match=f"make_composites: {problem}"):
        make_composites(*args, **kwargs)
