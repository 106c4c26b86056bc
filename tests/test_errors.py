"""Bad input raises a clear error naming the op and the shapes or dims involved."""

import numpy as np
import pytest

import chainrule as cr


@pytest.fixture
def a():
    return cr.tensor(np.ones((2, 3)), requires_grad=True)


def test_matmul_shape_mismatch_names_both_shapes(a):
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        a @ cr.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2,\)"):
        a @ np.ones(2)
    with pytest.raises(ValueError, match=r"batch dimensions of shapes \(2, 3, 4\) and \(3, 4, 2\)"):
        cr.ones(2, 3, 4) @ cr.ones(3, 4, 2)
    with pytest.raises(ValueError, match=r"at least 1 dimension, got \(2, 3\) @ \(\)"):
        a @ 2.0


@pytest.mark.parametrize("op, name", [
    (lambda x, y: x + y, "add"), (lambda x, y: x - y, "sub"), (lambda x, y: x * y, "mul"),
    (lambda x, y: x / y, "div"), (lambda x, y: x**y, "pow"), (cr.maximum, "maximum"),
    (cr.minimum, "minimum"),
])
def test_broadcasting_mismatch_names_the_op_and_both_shapes(a, op, name):
    expected = rf"{name}: shapes \(2, 3\) and \(4,\) cannot be broadcast"
    with pytest.raises(ValueError, match=expected):
        op(a, cr.ones(4))


def test_broadcasting_mismatch_with_ndarray_on_the_left(a):
    with pytest.raises(ValueError, match=r"mul: shapes \(4, 1, 5\) and \(2, 3\)"):
        np.ones((4, 1, 5)) * a
    with pytest.raises(ValueError, match=r"where: shapes \(4,\), \(2, 3\) and \(\)"):
        cr.where(np.ones(4, bool), a, 0.0)


def test_reshape_to_a_wrong_size(a):
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .*\(2, 3\) \(6 elements\) "
                                         r"into \(4, 2\)"):
        a.reshape(4, 2)
    with pytest.raises(ValueError, match=r"into \(-1, 4\)"):
        a.view(-1, 4)
    with pytest.raises(ValueError, match=r"expand: shape \(2, 3\) cannot be expanded to \(3, 3\)"):
        a.expand(3, 3)


@pytest.mark.parametrize("call, message", [
    (lambda t: t.sum(2),
     r"sum: dim 2 is out of range for shape \(2, 3\) \(expected a dim in \[-2, 1\]\)"),
    (lambda t: t.mean((0, 5)), "mean: dim 5 is out of range"),
    (lambda t: t.var(-3), "var: dim -3 is out of range"),
    (lambda t: t.max(3), "max: dim 3 is out of range"),
    (lambda t: t.min(dim=2), "min: dim 2 is out of range"),
    (lambda t: t.logsumexp(-3), "logsumexp: dim -3 is out of range"),
    (lambda t: t.transpose(0, 3), r"transpose: dim 3 is out of range for shape \(2, 3\)"),
    (lambda t: t.permute(0, 2), r"permute: dim 2 is out of range for shape \(2, 3\)"),
    (lambda t: t.unsqueeze(4), "unsqueeze: dim 4 is out of range for 3 dimensions"),
    (lambda t: t.squeeze(2), "squeeze: dim 2 is out of range"),
    (lambda t: t.flatten(3), "flatten: dim 3 is out of range"),
    (lambda t: t.softmax(2), r"softmax: dim 2 is out of range for shape \(2, 3\)"),
    (lambda t: cr.cat([t, t], 2), "cat: dim 2 is out of range"),
    (lambda t: cr.stack([t, t], 3), "stack: dim 3 is out of range"),
])
def test_bad_dims_raise_index_error_naming_the_op(a, call, message):
    with pytest.raises(IndexError, match=message):
        call(a)


def test_bad_permutation_names_the_dims(a):
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not a permutation"):
        a.permute(0, 0)


def test_out_of_range_index_names_the_shape(a):
    with pytest.raises(IndexError, match=r"shape \(2, 3\).*index 5 is out of bounds"):
        a[5]
    with pytest.raises(IndexError, match=r"shape \(2, 3\).*index 7"):
        a[:, np.array([0, 7])]


def test_cat_and_stack_shape_mismatch(a):
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(4, 5\).*\(2, 3\)"):
        cr.cat([a, cr.ones(4, 5)])
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3, 2\) but tensor 0 has"):
        cr.stack([a, cr.ones(3, 2)])
    with pytest.raises(ValueError, match="non-empty"):
        cr.cat([])


def test_other_bad_arguments(a):
    with pytest.raises(ValueError, match="clip: at least one of min and max"):
        a.clip()
    with pytest.raises(ValueError, match=r"max: the tensor is empty \(shape \(0,\)\)"):
        cr.zeros(0).max()
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one element"):
        a.item()
    with pytest.raises(ValueError, match="either unbiased or correction"):
        a.var(0, unbiased=True, correction=0)
    with pytest.raises(TypeError, match="softmax: dim must be given"):
        a.softmax(None)


def test_errors_leave_no_gradient_behind(a):
    with pytest.raises(ValueError):
        a @ cr.ones(4, 5)
    with pytest.raises(ValueError):
        a.reshape(5)
    assert a.grad is None
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad, np.full((2, 3), 2.0))
