"""Composite classes (chainrule.data.composites): every image and label checked against
the halves, orientations and shifts it claims to be made of."""

import numpy as np
import pytest

from chainrule.data.composites import composite_class_count, make_composites
from chainrule.data.datasets import load_digits


@pytest.fixture(scope="module")
def seen_digits():
    x, y = load_digits()
    return x[y < 3], y[y < 3]  # k = 3 classes: 8·3·5 = 120 composite classes


def _orient(image, o):
    turned = np.rot90(image, o % 4)
    return turned[:, ::-1] if o >= 4 else turned


def _unorient(image, o):
    """The inverse of _orient."""
    return np.rot90(image[:, ::-1] if o >= 4 else image, -(o % 4))


def _decode(label, k):
    """(kind, i, j, orientation) of a composite class id; i ≠ j but for whole digits."""
    o, rest = label % 8, label // 8
    if rest < k:
        return "whole", rest, rest, o
    rest -= k
    kind = "top_bottom" if rest < k * (k - 1) else "left_right"
    i, j = divmod(rest % (k * (k - 1)), k - 1)
    return kind, i, j if j < i else j + 1, o


def test_class_count():
    assert composite_class_count(7) == 728  # 56 whole + 336 top/bottom + 336 left/right
    assert composite_class_count(1) == 8
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n_classes must be a positive int"):
            composite_class_count(bad)


def test_every_composite_is_made_of_the_halves_its_label_names(seen_digits):
    x, y = seen_digits
    images, labels = make_composites(x, y, 600, seed=0, max_shift=0)
    assert images.shape == (600, 1, 8, 8) and images.dtype == x.dtype
    assert labels.dtype == np.int64 and labels.min() >= 0 and labels.max() < 120
    by_class = [x[y == c, 0] for c in range(3)]

    def stacked(upright, i, j):  # top half from class i over bottom half from class j
        return ((by_class[i][:, :4] == upright[:4]).all(axis=(1, 2)).any()
                and (by_class[j][:, 4:] == upright[4:]).all(axis=(1, 2)).any())

    def beside(upright, i, j):  # left half from class i beside right half from class j
        return ((by_class[i][:, :, :4] == upright[:, :4]).all(axis=(1, 2)).any()
                and (by_class[j][:, :, 4:] == upright[:, 4:]).all(axis=(1, 2)).any())

    kinds, halves_of_one_class = set(), 0
    for image, label in zip(images[:, 0], labels):
        kind, i, j, o = _decode(int(label), 3)
        kinds.add(kind)
        upright = _unorient(image, o)
        if kind == "top_bottom":
            assert i != j and stacked(upright, i, j)
        elif kind == "left_right":
            assert i != j and beside(upright, i, j)
        else:  # a whole digit of class i, or two halves of two digits of class i
            assert stacked(upright, i, i) or beside(upright, i, i)
            halves_of_one_class += not (by_class[i] == upright).all(axis=(1, 2)).any()
    assert kinds == {"whole", "top_bottom", "left_right"}
    assert halves_of_one_class > 50  # 2/9 of the composites


def test_all_classes_appear_about_equally_by_kind(seen_digits):
    x, y = seen_digits
    _, labels = make_composites(x, y, 30000, seed=1)
    assert len(np.unique(labels)) == 120
    # whole: a third, plus the composites of two halves of one class (1/3 of the rest)
    assert np.mean(labels < 24) == pytest.approx(1 / 3 + 2 / 3 * 1 / 3, abs=0.02)
    assert np.mean(labels >= 24 + 48) == pytest.approx(1 / 3 * 2 / 3, abs=0.02)


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
