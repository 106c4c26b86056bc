"""F.conv1d / F.conv2d and nn.Conv1d / nn.Conv2d against PyTorch, finite differences,
float32, errors, and the course's conv problems."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.check import gradcheck
from chainrule.function import SavedTensorModified

# (input shape, weight shape, keyword arguments): every case runs with and without bias
CONV2D_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": 1}),
    ((3, 2, 8, 9), (5, 2, 3, 2), {"stride": 2, "padding": (1, 2)}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"stride": (2, 3), "padding": (2, 0)}),
    ((2, 2, 9, 10), (3, 2, 3, 3), {"dilation": 2, "padding": 2}),
    ((2, 2, 10, 9), (3, 2, 2, 3), {"dilation": (3, 1), "stride": (1, 2)}),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": "same"}),
    ((2, 3, 7, 6), (4, 3, 4, 2), {"padding": "same"}),  # even kernels: extra zero at the end
    ((2, 3, 7, 8), (4, 3, 4, 3), {"padding": "same", "dilation": (1, 2)}),
    ((2, 3, 8, 7), (2, 3, 2, 4), {"padding": "same", "dilation": 3}),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": "valid"}),
    ((2, 4, 7, 6), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 6, 7, 6), (6, 2, 3, 3), {"groups": 3, "stride": 2, "dilation": 2, "padding": 1}),
    ((2, 4, 7, 6), (4, 1, 3, 3), {"groups": 4, "padding": 1}),  # depthwise
    ((2, 4, 7, 6), (8, 1, 3, 2), {"groups": 4, "padding": "same"}),  # depthwise, multiplier 2
    ((3, 7, 6), (4, 3, 3, 3), {"padding": 1}),  # one unbatched sample (C, H, W)
    ((1, 1, 5, 5), (1, 1, 5, 5), {}),  # the kernel fills the image: 1×1 output
    ((2, 3, 6, 5), (4, 3, 1, 1), {"stride": 2}),  # 1×1 kernel, strided
]

CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 3, 9), (4, 3, 3), {"padding": 1, "stride": 2}),
    ((2, 3, 11), (4, 3, 3), {"dilation": 3, "padding": (2,)}),
    ((2, 3, 9), (4, 3, 4), {"padding": "same"}),
    ((2, 3, 9), (4, 3, 3), {"padding": "same", "dilation": 2}),
    ((2, 3, 9), (4, 3, 5), {"padding": "valid", "stride": 3}),
    ((2, 4, 9), (6, 2, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 9), (8, 1, 3), {"groups": 4, "padding": "same"}),  # depthwise
    ((3, 9), (4, 3, 3), {"padding": 1}),  # unbatched (C, L)
]


def _ids(case):
    return f"{case[0]}-{case[1]}-{case[2]}"


def _torch_quietly(fn):
    """torch warns that 'same' with an even kernel copies the input; that is expected."""
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args)
    return run


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV2D_CASES, ids=_ids)
def test_conv2d_matches_torch(rng, case, bias):
    x_shape, w_shape, kwargs = case
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(
        w_shape[0])
    arrays = (x, w, b) if bias else (x, w)
    assert_matches_torch(
        lambda *a: F.conv2d(*a, **kwargs), _torch_quietly(lambda *a: TF.conv2d(*a, **kwargs)),
        *arrays,
    )


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV1D_CASES, ids=_ids)
def test_conv1d_matches_torch(rng, case, bias):
    x_shape, w_shape, kwargs = case
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(
        w_shape[0])
    arrays = (x, w, b) if bias else (x, w)
    assert_matches_torch(
        lambda *a: F.conv1d(*a, **kwargs), _torch_quietly(lambda *a: TF.conv1d(*a, **kwargs)),
        *arrays,
    )


def test_conv2d_values_by_hand():
    """A 3×3 image and a 2×2 kernel: each output is the sum over one window."""
    x = cr.tensor(np.arange(9.0, dtype=np.float32).reshape(1, 1, 3, 3), requires_grad=True)
    w = cr.tensor([[[[1.0, 0.0], [0.0, -1.0]]]], requires_grad=True)
    b = cr.tensor([0.5], requires_grad=True)
    y = F.conv2d(x, w, b)
    np.testing.assert_array_equal(y.data, [[[[0 - 4 + 0.5, 1 - 5 + 0.5], [3 - 7 + 0.5,
                                                                          4 - 8 + 0.5]]]])
    y.sum().backward()
    # δ_x: every pixel collects the kernel entries of the windows it sits in
    np.testing.assert_array_equal(x.grad.data[0, 0], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])
    # δ_W[i, j] = Σ of the pixels the entry touched
    np.testing.assert_array_equal(w.grad.data[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5],
                                                      [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    np.testing.assert_array_equal(b.grad.data, [4.0])


@pytest.mark.parametrize(
    "conv, x_shape, w_shape, kwargs",
    [
        (F.conv2d, (2, 2, 5, 4), (3, 2, 3, 2), {"padding": 1, "stride": (2, 1)}),
        (F.conv2d, (1, 4, 5, 5), (4, 2, 2, 3), {"padding": "same", "dilation": 2, "groups": 2}),
        (F.conv2d, (2, 3, 4, 4), (3, 1, 3, 3), {"groups": 3, "stride": 2, "padding": 1}),
        (F.conv1d, (2, 2, 7), (3, 2, 3), {"padding": 2, "dilation": 2, "stride": 2}),
        (F.conv1d, (2, 2, 6), (4, 1, 4), {"padding": "same", "groups": 2}),
    ],
)
def test_conv_gradcheck(rng, conv, x_shape, w_shape, kwargs):
    x = cr.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = cr.tensor(rng.standard_normal(w_shape), requires_grad=True)
    b = cr.tensor(rng.standard_normal(w_shape[0]), requires_grad=True)
    assert gradcheck(lambda x, w, b: conv(x, w, b, **kwargs), [x, w, b])


@pytest.mark.parametrize("conv, tconv, x_shape, w_shape", [
    (F.conv2d, TF.conv2d, (4, 3, 10, 9), (5, 3, 3, 3)),
    (F.conv1d, TF.conv1d, (4, 3, 10), (5, 3, 3)),
])
def test_conv_float32_forward_and_gradients(rng, conv, tconv, x_shape, w_shape):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape, w_shape[:1])]
    ins = [cr.tensor(a, requires_grad=True) for a in arrays]
    tins = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = conv(*ins, padding=1, stride=2), tconv(*tins, padding=1, stride=2)
    assert y.dtype == np.float32 and y.data.flags.c_contiguous
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    upstream = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(upstream)
    ty.backward(torch.tensor(upstream))
    for a, t in zip(ins, tins):
        assert a.grad.dtype == np.float32 and a.grad.shape == a.shape
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("padding", [0, 1])
def test_conv_accepts_non_contiguous_inputs(rng, padding):
    """Strided views (a pooled or channels-last array) give torch's values and gradients."""
    data = rng.standard_normal((2, 9, 12, 3))
    w = rng.standard_normal((4, 3, 3, 2))
    leaf = cr.tensor(data, requires_grad=True)
    t_leaf = torch.tensor(data, requires_grad=True)
    for pick in (lambda a: a.permute(0, 3, 1, 2),  # NHWC memory seen as NCHW
                 lambda a: a.permute(0, 3, 1, 2)[:, :, ::2, 1::2]):
        leaf.grad, t_leaf.grad = None, None
        x, tx = pick(leaf), pick(t_leaf)
        assert not x.data.flags.c_contiguous
        y = F.conv2d(x, cr.tensor(w), padding=padding)
        ty = TF.conv2d(tx, torch.tensor(w), padding=padding)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        upstream = rng.standard_normal(y.shape)
        y.backward(upstream)
        ty.backward(torch.tensor(upstream))
        np.testing.assert_allclose(leaf.grad.data, t_leaf.grad.numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_conv_computes_only_the_gradients_that_are_needed(rng):
    x = cr.tensor(rng.standard_normal((2, 3, 6, 6)))  # like a batch of images
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4))
    upstream = rng.standard_normal((2, 4, 6, 6))
    F.conv2d(x, w, b, padding=1).backward(upstream)
    assert x.grad is None and b.grad is None
    tw = torch.tensor(w.data, requires_grad=True)
    TF.conv2d(torch.tensor(x.data), tw, padding=1).backward(torch.tensor(upstream))
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
    # a frozen weight: only the input's gradient
    x2 = cr.tensor(x.data, requires_grad=True)
    w2 = cr.tensor(w.data)
    F.conv2d(x2, w2, padding=1).backward(upstream)
    tx = torch.tensor(x.data, requires_grad=True)
    TF.conv2d(tx, torch.tensor(w.data), padding=1).backward(torch.tensor(upstream))
    assert w2.grad is None
    np.testing.assert_allclose(x2.grad.data, tx.grad.numpy(), rtol=1e-10)


def test_conv_refuses_backward_after_its_weight_changed_in_place(rng):
    x = cr.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w * 1.0)  # a non-leaf weight, which may be changed in place
    y2 = F.conv2d(x, w)
    with cr.no_grad():
        w.mul_(2.0)
    with pytest.raises(SavedTensorModified, match="Convolution"):
        y2.sum().backward()
    y.sum().backward()  # the product w * 1.0 was saved, not w: unaffected
    assert x.grad is not None


def test_conv_output_feeds_the_engine_like_any_op(rng):
    """Two convolutions sharing an input: gradients from both paths are summed."""
    x = rng.standard_normal((2, 3, 6, 6))
    w1, w2 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((4, 3, 1, 1))

    def net(conv, relu, x, w1, w2):
        return relu(conv(x, w1, padding=1)) * conv(x, w2)

    assert_matches_torch(lambda *a: net(F.conv2d, F.relu, *a),
                         lambda *a: net(TF.conv2d, TF.relu, *a), x, w1, w2)


# ----------------------------------------------------- transposed convolution
# (input shape, weight shape (C_in, C_out/g, k...), keyword arguments)
CONV_TRANSPOSE2D_CASES = [
    ((2, 3, 4, 5), (3, 4, 3, 3), {}),
    ((2, 3, 4, 5), (3, 4, 3, 2), {"stride": 2, "padding": 1}),
    ((2, 3, 4, 5), (3, 4, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 3, 4, 5), (3, 4, 3, 3), {"stride": 2, "output_padding": 1}),  # beyond the fold
    ((2, 3, 4, 5), (3, 2, 3, 2), {"stride": (2, 3), "padding": (0, 2),
                                  "output_padding": (1, 2)}),
    ((2, 4, 4, 5), (4, 2, 3, 3), {"stride": 2, "padding": 2, "groups": 2, "dilation": 2,
                                  "output_padding": 1}),
    ((4, 4, 5), (4, 1, 3, 3), {"groups": 4}),  # unbatched, depthwise
]
CONV_TRANSPOSE1D_CASES = [
    ((2, 3, 6), (3, 2, 4), {"stride": 3, "padding": 1, "output_padding": 2}),
    ((3, 6), (3, 2, 4), {"padding": 2, "dilation": 2, "output_padding": 1}),
    ((2, 4, 5), (4, 3, 3), {"stride": 2, "groups": 2}),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dims, case", [(2, c) for c in CONV_TRANSPOSE2D_CASES]
                         + [(1, c) for c in CONV_TRANSPOSE1D_CASES], ids=str)
def test_conv_transpose_matches_torch(rng, dims, case, bias):
    x_shape, w_shape, kwargs = case
    out_channels = w_shape[1] * kwargs.get("groups", 1)
    arrays = (rng.standard_normal(x_shape), rng.standard_normal(w_shape),
              rng.standard_normal(out_channels))
    ours = F.conv_transpose2d if dims == 2 else F.conv_transpose1d
    theirs = TF.conv_transpose2d if dims == 2 else TF.conv_transpose1d
    assert_matches_torch(lambda *a: ours(*a, **kwargs), lambda *a: theirs(*a, **kwargs),
                         *(arrays if bias else arrays[:2]))


def test_conv_transpose_is_the_adjoint_of_conv(rng):
    """<conv(x), y> = <x, conv_transpose(y)>: the transposed convolution is δ_x of conv2d."""
    x = cr.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    w = rng.standard_normal((4, 3, 3, 3))
    y = F.conv2d(x, cr.tensor(w), stride=2, padding=1)
    upstream = rng.standard_normal(y.shape)
    y.backward(upstream)
    back = F.conv_transpose2d(cr.tensor(upstream), cr.tensor(w), stride=2, padding=1,
                              output_padding=(0, 1))
    np.testing.assert_allclose(back.data, x.grad.data, rtol=1e-12, atol=1e-12)


def test_conv_transpose_gradcheck(rng):
    x = cr.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal((2, 3, 2, 3)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                        output_padding=1), [x, w, b])


@pytest.mark.parametrize("call, expected", [
    (lambda: F.conv_transpose2d(cr.ones(1, 3, 4, 4), cr.ones(2, 4, 3, 3)),
     r"conv_transpose2d: input of shape \(1, 3, 4, 4\) has 3 channels, but weight of shape "
     r"\(2, 4, 3, 3\) expects 2"),
    (lambda: F.conv_transpose2d(cr.ones(1, 2, 4, 4), cr.ones(2, 4, 3, 3), output_padding=1),
     r"conv_transpose2d: output_padding \(1, 1\) must be smaller than either stride"),
    (lambda: F.conv_transpose2d(cr.ones(1, 2, 4, 4), cr.ones(2, 4, 3, 3), padding="same"),
     r"conv_transpose2d: padding must be an int or a tuple of 2 ints, got 'same'"),
    (lambda: F.conv_transpose2d(cr.ones(1, 2, 1, 1), cr.ones(2, 4, 1, 1), padding=1),
     r"conv_transpose2d: .*gives an output of size \(-1, -1\)"),
    (lambda: F.conv_transpose1d(cr.ones(1, 3, 4), cr.ones(3, 4, 3), groups=2),
     r"conv_transpose1d: weight of shape \(3, 4, 3\) has 3 input channels, which groups=2"),
    (lambda: F.conv_transpose2d(cr.ones(1, 2, 4, 4), cr.ones(2, 4, 3, 3), cr.ones(2)),
     r"conv_transpose2d: bias of shape \(2,\) does not match .*expected \(4,\)"),
])
def test_conv_transpose_bad_arguments(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()


# --------------------------------------------------------------------- errors
def _error(fn):
    with pytest.raises((ValueError, TypeError, NotImplementedError)) as info:
        fn()
    return str(info.value)


def test_conv2d_wrong_channel_count_names_op_shapes_and_expectation():
    message = _error(lambda: F.conv2d(cr.ones(2, 3, 5, 5), cr.ones(4, 2, 3, 3)))
    assert message.startswith("conv2d: ")
    assert "(2, 3, 5, 5)" in message and "(4, 2, 3, 3)" in message
    assert "3 channels" in message and "expects 2" in message


def test_conv_layer_errors_name_the_layer():
    layer = nn.Conv2d(1, 16, 3, padding=1)
    with pytest.raises(ValueError) as info:
        layer(cr.ones(2, 3, 28, 28))
    message = str(info.value)
    assert message.startswith(
        "Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)): conv2d: ")
    assert "(2, 3, 28, 28)" in message and "expects 1" in message
    with pytest.raises(ValueError, match=r"Conv1d\(2, 4, kernel_size=\(3,\), stride=\(1,\)\): "
                                         r"conv1d: .*\(5, 4, 7, 7\)"):
        nn.Conv1d(2, 4, 3)(cr.ones(5, 4, 7, 7))
    with pytest.raises(TypeError, match=r"Conv2d\(.*\): conv2d: .*input has dtype float64, "
                                        r"weight has dtype float32"):
        layer(cr.ones(1, 1, 4, 4, dtype=cr.float64))


def test_conv_kernel_larger_than_padded_input():
    message = _error(lambda: F.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 2, 5, 5), padding=0))
    assert message.startswith("conv2d: ") and "(5, 5)" in message and "(4, 4)" in message
    assert "larger than the padded input" in message
    # padding makes it fit; dilation makes it too large again
    assert F.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 2, 5, 5), padding=1).shape == (1, 3, 2, 2)
    message = _error(lambda: F.conv1d(cr.ones(1, 2, 6), cr.ones(3, 2, 3), dilation=3))
    assert message.startswith("conv1d: ") and "dilated: (7,)" in message and "(6,)" in message
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        TF.conv2d(torch.ones(1, 2, 4, 4), torch.ones(3, 2, 5, 5))


def test_conv_groups_must_divide_the_channels():
    message = _error(lambda: F.conv2d(cr.ones(1, 4, 5, 5), cr.ones(3, 2, 3, 3), groups=2))
    assert message.startswith("conv2d: ") and "(3, 2, 3, 3)" in message
    assert "groups=2" in message
    message = _error(lambda: F.conv2d(cr.ones(1, 4, 5, 5), cr.ones(3, 1, 3, 3), groups=3))
    assert "4 channels" in message and "expects 3" in message
    with pytest.raises(ValueError, match="Conv2d: in_channels must be divisible by groups, "
                                         "got in_channels=3 and groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: out_channels must be divisible by groups"):
        nn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive int"):
        F.conv2d(cr.ones(1, 4, 5, 5), cr.ones(4, 4, 3, 3), groups=0)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        torch.nn.Conv2d(3, 4, 3, groups=2)


def test_conv_same_padding_refuses_a_stride():
    message = _error(lambda: F.conv2d(cr.ones(1, 2, 6, 6), cr.ones(3, 2, 3, 3), stride=2,
                                      padding="same"))
    assert message.startswith("conv2d: padding='same' is not supported for strided")
    assert "(2, 2)" in message
    with pytest.raises(ValueError, match="Conv2d: padding='same' is not supported for strided"):
        nn.Conv2d(2, 3, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="conv1d: padding='same' is not supported"):
        F.conv1d(cr.ones(1, 2, 6), cr.ones(3, 2, 3), stride=(2,), padding="same")
    with pytest.raises(RuntimeError, match="not supported for strided"):
        TF.conv2d(torch.ones(1, 2, 6, 6), torch.ones(3, 2, 3, 3), stride=2, padding="same")


@pytest.mark.parametrize("call, expected", [
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), padding="full"),
     r"conv2d: invalid padding string 'full'"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), padding=-1),
     r"conv2d: padding must be non-negative"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), stride=0),
     r"conv2d: stride must be positive"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), dilation=(1, 0)),
     r"conv2d: dilation must be positive"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), stride=(1, 2, 3)),
     r"conv2d: stride must be an int or a tuple of 2 ints, got \(1, 2, 3\)"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5, 5), cr.ones(3, 2, 3, 3)),
     r"conv2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input .*\(2, 2, 5, 5, 5\)"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3)),
     r"conv2d: expected a 4-d weight .*\(3, 2, 3\)"),
    (lambda: F.conv1d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3)),
     r"conv1d: expected a 2-d \(unbatched\) or 3-d \(batched\) input"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5), cr.ones(3, 2, 3, 3), cr.ones(4)),
     r"conv2d: bias of shape \(4,\) does not match weight of shape \(3, 2, 3, 3\)"),
    (lambda: F.conv2d(cr.ones(2, 2, 5, 5, dtype=cr.float64), cr.ones(3, 2, 3, 3)),
     r"conv2d: expected the same dtype .*input has dtype float64, weight has dtype float32"),
    (lambda: F.conv2d(cr.tensor(np.ones((1, 2, 5, 5), np.int64)), cr.ones(3, 2, 3, 3)),
     r"conv2d: input must be a floating-point tensor, got dtype int64"),
    (lambda: nn.Conv2d(2, 3, 3, padding_mode="reflect"),
     r"Conv2d: padding_mode='reflect' is not implemented; .*'zeros'"),
    (lambda: nn.Conv2d(2, 3, 3, padding_mode="mirror"),
     r"Conv2d: padding_mode must be one of"),
    (lambda: nn.Conv2d(2, 3, 3, padding="full"), r"Conv2d: invalid padding string 'full'"),
    (lambda: nn.Conv2d(2, 3, (3, 3, 3)), r"Conv2d: kernel_size must be an int or a tuple of 2"),
    (lambda: nn.Conv2d(2, 3, 0), r"Conv2d: kernel_size must be positive"),
    (lambda: nn.Conv1d(2, 3, 3, device="cuda"), r"Conv1d: chainrule runs on the CPU only"),
])
def test_conv_bad_arguments_raise_clear_errors(call, expected):
    before = cr.random.default_generator().bit_generator.state
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=expected):
        call()
    assert cr.random.default_generator().bit_generator.state == before  # nothing drawn


# -------------------------------------------------------------------- modules
def _copy_into_torch(layer, twin):
    twin.load_state_dict({k: torch.tensor(np.array(v)) for k, v in layer.state_dict().items()})


MODULE_CASES = [
    ("Conv2d", (1, 16, 3), {"padding": 1}, (4, 1, 8, 8)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": 2, "padding": (1, 0), "bias": False}, (2, 4, 9, 7)),
    ("Conv2d", (4, 8, 3), {"groups": 4, "padding": "same", "dilation": 2}, (2, 4, 7, 7)),
    ("Conv2d", (3, 5, 4), {"padding": "same"}, (2, 3, 6, 7)),
    ("Conv2d", (3, 5, 3), {"padding": "valid", "dilation": (2, 1)}, (3, 7, 6)),
    ("Conv1d", (3, 5, 3), {}, (2, 3, 10)),
    ("Conv1d", (4, 6, 4), {"stride": 2, "padding": 2, "groups": 2}, (2, 4, 11)),
    ("Conv1d", (2, 4, 2), {"padding": "same", "bias": False}, (2, 2, 7)),
    ("Conv1d", (2, 2, 3), {"groups": 2, "padding": 1, "dilation": 2}, (2, 9)),
]


@pytest.mark.parametrize("name, args, kwargs, x_shape", MODULE_CASES, ids=str)
def test_conv_module_matches_torch(rng, name, args, kwargs, x_shape):
    layer, twin = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(layer) == repr(twin)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in twin.named_parameters()]
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "groups", "padding_mode", "output_padding", "transposed"):
        assert getattr(layer, attr) == getattr(twin, attr), attr
    layer.double(), twin.double()
    _copy_into_torch(layer, twin)
    x = rng.standard_normal(x_shape)
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        y, ty = layer(cx), twin(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = rng.standard_normal(y.shape)
    (y * upstream).sum().backward()
    (ty * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    tparams = dict(twin.named_parameters())
    for n, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[n].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=n)


@pytest.mark.parametrize("layer, twin", [
    (lambda: nn.Conv2d(1, 16, 3, padding=1), lambda: torch.nn.Conv2d(1, 16, 3, padding=1)),
    (lambda: nn.Conv2d(16, 32, 3, padding=1), lambda: torch.nn.Conv2d(16, 32, 3, padding=1)),
    (lambda: nn.Conv2d(64, 128, (3, 5), groups=4),
     lambda: torch.nn.Conv2d(64, 128, (3, 5), groups=4)),
    (lambda: nn.Conv1d(32, 64, 7), lambda: torch.nn.Conv1d(32, 64, 7)),
])
def test_conv_default_init_matches_torch_statistics(layer, twin):
    """kaiming_uniform_(a=√5) is U(-1/√fan_in, 1/√fan_in); the bias has the same bound."""
    cr.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = layer(), twin()
    fan_in = ours.weight.shape[1] * math.prod(ours.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        p, t = getattr(ours, name), getattr(theirs, name).detach().numpy()
        assert p.shape == t.shape and p.dtype == np.float32 == t.dtype and p.requires_grad
        assert np.abs(p.data).max() <= bound and np.abs(t).max() <= bound
    w, t = ours.weight.data, theirs.weight.detach().numpy()
    assert np.abs(w).max() > 0.95 * bound
    # U(-b, b): mean 0, standard deviation b/√3 (both frameworks, within sampling error)
    std_error = bound / math.sqrt(3) / math.sqrt(w.size)
    for sample in (w, t):
        assert abs(sample.mean()) < 5 * std_error
        assert sample.std() == pytest.approx(bound / math.sqrt(3), rel=3 / math.sqrt(w.size))


def test_conv_module_options():
    assert nn.Conv2d(2, 3, 3, dtype=cr.float64).weight.dtype == np.float64
    assert nn.Conv2d(2, 3, 3, device="cpu").bias.dtype == np.float32
    layer = nn.Conv2d(2, 4, 3, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    cr.manual_seed(3)
    a = nn.Conv1d(2, 3, 5)
    cr.manual_seed(3)
    b = nn.Conv1d(2, 3, 5)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    y = nn.Conv2d(3, 5, 3, padding=1)(cr.ones(2, 3, 6, 6))
    assert y.shape == (2, 5, 6, 6) and y.dtype == np.float32


def test_benchmark_network_convs_have_torch_shapes(rng):
    """conv3×3(1→16)–ReLU–conv3×3(16→32) with padding 1 on 28×28 keeps the size."""
    x = cr.tensor(rng.standard_normal((8, 1, 28, 28)).astype(np.float32))
    c1, c2 = nn.Conv2d(1, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1)
    h = F.relu(c1(x))
    assert h.shape == (8, 16, 28, 28)
    y = c2(h[:, :, ::2, ::2])
    assert y.shape == (8, 32, 14, 14)
    y.sum().backward()
    assert c1.weight.grad.shape == (16, 1, 3, 3) and c2.weight.grad.shape == (32, 16, 3, 3)


# ----------------------------------------------------------- worked examples
def test_conv_output_size_formula(worked_examples):
    """floor((W - F + 2P)/S) + 1 is the output side of a convolution with chainrule."""
    example = worked_examples["conv_output_size_formula"]
    cases, answers = example["inputs"]["cases_W_F_P_S"], example["correct_answer"]["outputs"]
    for (width, kernel, pad, stride), expected in zip(cases, answers):
        x = cr.zeros(1, 1, width, width)
        y = F.conv2d(x, cr.zeros(1, 1, kernel, kernel), stride=stride, padding=pad)
        assert y.shape == (1, 1, expected, expected), (width, kernel, pad, stride)
        layer = nn.Conv1d(1, 1, kernel, stride=stride, padding=pad)
        assert layer(cr.zeros(1, 1, width)).shape == (1, 1, expected)


def test_conv_pool_params_and_shape(worked_examples):
    """Conv2d(3→5, 3×3, stride 1, padding 1) on 256×256×3: 5·(3·3·3 + 1) parameters and
    an unchanged 256×256 size; a 2×2 max-pool with stride 2 halves it, with no parameters."""
    example = worked_examples["conv_pool_params_and_shape"]
    given, answer = example["inputs"], example["correct_answer"]
    height, width, channels = given["input_hwc"]
    conv = nn.Conv2d(channels, given["filters"], given["kernel"], stride=given["stride"],
                     padding=given["padding"])
    assert sum(p.numel() for p in conv.parameters()) == answer["params"]
    assert nn.summary(conv, (channels, height, width)).total_params == answer["params"]
    y = conv(cr.zeros(1, channels, height, width))
    assert (y.shape[2], y.shape[3], y.shape[1]) == tuple(answer["conv_out_hwc"])
    pool = nn.MaxPool2d(given["pool"], stride=given["pool_stride"])
    z = pool(y)
    assert (z.shape[2], z.shape[3], z.shape[1]) == tuple(answer["pool_out_hwc"])
    assert sum(p.numel() for p in pool.parameters()) == answer["pool_params"]
    block = nn.Sequential(conv, nn.ReLU(), pool)
    assert nn.summary(block, (channels, height, width)).total_params == answer["params"]
