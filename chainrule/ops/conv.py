"""Convolution (conv1d, conv2d) and its transpose: sliding windows and matrix products.

For an input x of shape (N, C, H, W), padded to x̃, and a weight W of shape
(O, C/g, kh, kw) in ``g`` groups, output pixel p = (p₁, p₂) of channel o is

    y[n, o, p] = b_o + Σ_{c ∈ group(o)} Σ_{i, j} W[o, c, i, j] · x̃[n, c, s₁p₁ + d₁i, s₂p₂ + d₂j]

with stride s and dilation d. Unrolling every window into a column (*im2col*)
gives the matrix X_col of shape (C·kh·kw, N·Ho·Wo) and turns the sum into one
BLAS product per group, y = W_mat X_col + b. Its derivatives are products too:

    δ_W = δ_Y X_colᵀ,      δ_b = Σ_{n, p} δ_y,      δ_X_col = W_matᵀ δ_Y,

and δ_x is δ_X_col folded back onto the image (*col2im*): every window position
(i, j) of the kernel adds its row block of δ_X_col onto the strided slice of
δ_x̃ it was read from — a loop over the kh·kw kernel offsets, never over pixels,
channels or samples, and never ``np.add.at``.

Layout, chosen for speed (measured on the 28×28 benchmark network): the padded
input is stored channel-major (C, N, H̃, W̃), so X_col is the contiguous copy of a
strided view with rows (c, i, j) and columns (n, p₁, p₂), each copy moves image
rows, and the output (O, N·Ho·Wo) needs one cheap transpose to NCHW. col2im never
builds δ_X_col: each offset's block W[:, :, i, j]ᵀ δ_Y is one product, added at
once while it is still in cache (less memory, and faster than one big product
for all but tiny images).

The transposed convolution (``conv_transpose1d/2d``, "deconvolution") is the
same pair read backwards: its forward is the convolution's col2im, its input
gradient the convolution's forward. A 1-d convolution is the 2-d one with a
kernel of height 1. Conventions are PyTorch's: NCHW (NCL), ``padding`` an int,
a tuple, 'valid' (none) or 'same' (the output has the input's size; stride 1
only; an odd total padding puts the extra zero at the end, as torch does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule.function import Function
from chainrule.ops._checks import array, check_float, check_same_dtype, int_tuple
from chainrule.tensor import Tensor

PADDING_STRINGS = ("valid", "same")


# ------------------------------------------------------------- im2col, col2im
def _windows(xp, kernel, stride, dilation, out):
    """X_col: the contiguous (C·kh·kw, N·Ho·Wo) copy of every window of the channel-major
    padded input ``xp`` (C, N, H̃, W̃); row (c, i, j) holds x̃[n, c, s·p + d·(i, j)]."""
    c, n = xp.shape[:2]
    (kh, kw), (s1, s2), (d1, d2), (ho, wo) = kernel, stride, dilation, out
    sc, sn, sh, sw = xp.strides
    view = as_strided(
        xp, (c, kh, kw, n, ho, wo), (sc, d1 * sh, d2 * sw, sn, s1 * sh, s2 * sw), writeable=False
    )
    return np.ascontiguousarray(view).reshape(c * kh * kw, n * ho * wo)


def _fold(w_offsets, g4, shape, stride, dilation):
    """col2im of W_matᵀ δ_Y without building it: for each kernel offset (i, j), the block
    W[:, :, i, j]ᵀ δ_Y (one product per offset, batched over the groups) is added onto the
    strided slice of the (C, N, H̃, W̃) image ``shape`` that offset read. ``w_offsets`` is
    the weight as (kh, kw, groups, C/g, O/g), ``g4`` is δ_y (N, O, Ho, Wo) (for the
    transposed convolution: its input).

    With stride 1 the columns of δ_Y run over the padded width (zeros past Wo), so an
    offset's block lands on one contiguous run of each padded image, (Ho-1)·W̃ + Wo long,
    instead of Ho runs of Wo: the adds move long rows (measured 5-20 % faster).
    """
    kh, kw, groups = w_offsets.shape[:3]
    n, o, ho, wo = g4.shape
    c, _, hp, wp = shape
    (s1, s2), (d1, d2) = stride, dilation

    def block(i, j, rows):
        if groups == 1:
            return np.matmul(w_offsets[i, j, 0], rows[0])
        return np.matmul(w_offsets[i, j], rows)

    if s1 == s2 == 1:
        extended = np.zeros((o, n, ho, wp), dtype=g4.dtype)
        extended[..., :wo] = g4.transpose(1, 0, 2, 3)
        rows = extended.reshape(groups, o // groups, n * ho * wp)
        run = (ho - 1) * wp + wo
        image = np.zeros((c, n, hp * wp), dtype=g4.dtype)
        for i in range(kh):
            for j in range(kw):
                start = d1 * i * wp + d2 * j
                image[:, :, start:start + run] += block(i, j, rows).reshape(c, n, -1)[:, :, :run]
        return image.reshape(shape)
    rows = _as_rows(g4, groups)
    image = np.zeros(shape, dtype=g4.dtype)
    for i in range(kh):
        r = slice(d1 * i, d1 * i + s1 * (ho - 1) + 1, s1)
        for j in range(kw):
            q = slice(d2 * j, d2 * j + s2 * (wo - 1) + 1, s2)
            image[:, :, r, q] += block(i, j, rows).reshape(c, n, ho, wo)
    return image


def _per_offset(weight, groups):
    """The conv weight (O, C/g, kh, kw) as (kh, kw, groups, C/g, O/g): W[:, :, i, j]ᵀ per group."""
    o, cg, kh, kw = weight.shape
    grouped = weight.reshape(groups, o // groups, cg, kh, kw)
    return np.ascontiguousarray(grouped.transpose(3, 4, 0, 2, 1))


def _channel_major(x, pads):
    """(N, C, H, W) as (C, N, H̃, W̃) with the (before, after) zeros ``pads`` of each
    spatial axis; a view when there are none."""
    (t, b), (le, r) = pads
    if not (t or b or le or r):
        return x.transpose(1, 0, 2, 3)
    n, c, h, w = x.shape
    xp = np.zeros((c, n, h + t + b, w + le + r), dtype=x.dtype)
    xp[:, :, t:t + h, le:le + w] = x.transpose(1, 0, 2, 3)
    return xp


def _as_rows(a, groups):
    """(N, C, H, W) as the contiguous (groups, C/g, N·H·W) matrix of each group."""
    n, c = a.shape[:2]
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).reshape(groups, c // groups, -1)


def _to_nchw(rows, n, out):
    """A (C, N·H·W) product back to a contiguous (N, C, H, W) array."""
    return np.ascontiguousarray(rows.reshape(-1, n, *out).transpose(1, 0, 2, 3))


def _product(a, b, groups):
    """a @ b per group (a plain 2-d product for one group)."""
    return np.matmul(a[0], b[0]) if groups == 1 else np.matmul(a, b)


def _to_4d(x, squeeze, batched):
    """An unbatched and/or 1-d array as (N, C, H, W): a batch of 1, a height of 1."""
    if not batched:
        x = x[None]
    return x[:, :, None, :] if squeeze else x


def _from_4d(y, squeeze, batched):
    """Undo :func:`_to_4d`."""
    if squeeze:
        y = y[:, :, 0, :]
    return y if batched else y[0]


class Convolution(Function):
    """y[n,o,p] = b_o + Σ_{c,k} W[o,c,k] x̃[n,c,s·p+d·k]  (im2col: Y = W_mat X_col + b)

    δ_W = δ_Y X_colᵀ,  δ_b = Σ_{n,p} δ_y,  δ_x = col2im(W_matᵀ δ_Y)  (per group)

    ``x`` is (N, C, H, W) and ``weight`` (O, C/g, kh, kw); ``pads`` holds the
    (before, after) zeros of each spatial axis. A 1-d convolution arrives with a
    unit height (``squeeze=True`` drops it again), one sample with
    ``batched=False``. Saves the weight if x needs a gradient; keeps X_col (a
    fresh array) if the weight does.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, pads, dilation, groups, squeeze, batched):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(weight if need_x else None)
        ctx.weight_shape = weight.shape
        x, weight = _to_4d(x, squeeze, batched), _to_4d(weight, squeeze, True)
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        xp = _channel_major(x, pads)  # (C, N, H̃, W̃)
        hp, wp = xp.shape[2:]
        out = tuple((size - d * (k - 1) - 1) // s + 1
                    for size, k, s, d in zip((hp, wp), (kh, kw), stride, dilation))
        cols = _windows(xp, (kh, kw), stride, dilation, out).reshape(groups, -1, n * out[0]
                                                                        * out[1])
        y = _product(weight.reshape(groups, o // groups, -1), cols, groups).reshape(o, -1)
        if bias is not None:
            y += bias[:, None]
        ctx.cols = cols if need_w else None
        ctx.geometry = (x.shape, xp.shape, pads, out, stride, dilation, groups, squeeze, batched)
        return _from_4d(_to_nchw(y, n, out), squeeze, batched)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        (n, c, h, w), padded, pads, out, stride, dilation, groups, squeeze, batched = ctx.geometry
        g4 = _to_4d(grad, squeeze, batched)
        need_b = len(ctx.needs_input_grad) == 3 and ctx.needs_input_grad[2]
        grad_x = grad_w = grad_b = None
        if ctx.cols is not None or need_b:
            g_mat = _as_rows(g4, groups)  # δ_Y: (g, O/g, N·Ho·Wo)
            if ctx.cols is not None:  # δ_W = δ_Y X_colᵀ
                grad_w = _product(g_mat, ctx.cols.transpose(0, 2, 1), groups)
                grad_w = grad_w.reshape(ctx.weight_shape)
            if need_b:  # δ_b = Σ_{n,p} δ_y
                grad_b = g_mat.sum(axis=2).reshape(-1)
        if weight is not None:  # δ_x = col2im(W_matᵀ δ_Y), cropped to the unpadded input
            w_offsets = _per_offset(_to_4d(weight, squeeze, True), groups)
            image = _fold(w_offsets, g4, padded, stride, dilation)
            (t, _), (le, _) = pads
            grad_x = image[:, :, t:t + h, le:le + w].transpose(1, 0, 2, 3)
            grad_x = _from_4d(np.ascontiguousarray(grad_x), squeeze, batched)
        if len(ctx.needs_input_grad) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, grad_b


class ConvTranspose(Function):
    """y = col2im(W_matᵀ X) + b, the adjoint of the convolution with weight W

    δ_x = W_mat im2col(δ_y),  δ_W = X im2col(δ_y)ᵀ,  δ_b = Σ_{n,p} δ_y  (per group)

    W has shape (C_in, C_out/g, kh, kw). Each input pixel scatters W[c, :, i, j]·x[n, c, p]
    onto output pixel s·p + d·(i, j) - P. The output, (H-1)s - 2P + d(k-1) +
    output_padding + 1 per axis, is the full fold with ``pads`` (P, P - output_padding)
    cropped. Saves the input and the weight, each only if the other one needs a gradient.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, pads, dilation, groups, squeeze, batched):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        ctx.weight_shape = weight.shape
        x4, w4 = _to_4d(x, squeeze, batched), _to_4d(weight, squeeze, True)
        n, c, h, w = x4.shape
        cg_out, kh, kw = w4.shape[1:]
        full = tuple((size - 1) * s + d * (k - 1) + 1
                     for size, k, s, d in zip((h, w), (kh, kw), stride, dilation))
        (t, b), (le, r) = pads  # b, r < 0: output_padding reaches past the fold (zeros)
        shape = (cg_out * groups, n, full[0] + max(0, -b), full[1] + max(0, -r))
        image = _fold(_per_offset(w4, groups), x4, shape, stride, dilation)
        y = image[:, :, t:shape[2] - max(b, 0), le:shape[3] - max(r, 0)]
        y = np.ascontiguousarray(y.transpose(1, 0, 2, 3))
        if bias is not None:
            y += bias[:, None, None]
        ctx.geometry = (pads, (kh, kw), stride, dilation, groups, squeeze, batched, (h, w))
        return _from_4d(y, squeeze, batched)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pads, kernel, stride, dilation, groups, squeeze, batched, size = ctx.geometry
        g4 = _to_4d(grad, squeeze, batched)
        n = g4.shape[0]
        (t, b), (le, r) = pads
        grad_x = grad_w = grad_b = None
        if x is not None or weight is not None:
            # δ_y back on the full fold (zeros where it was cropped), then its windows
            gp = _channel_major(g4, ((t, max(b, 0)), (le, max(r, 0))))
            cols = _windows(gp, kernel, stride, dilation, size)
            cols = cols.reshape(groups, -1, n * size[0] * size[1])
        if weight is not None:  # δ_x = W_mat im2col(δ_y)
            ci = weight.shape[0]
            w_mat = weight.reshape(groups, ci // groups, -1)
            rows = _product(w_mat, cols, groups).reshape(ci, -1)
            grad_x = _from_4d(_to_nchw(rows, n, size), squeeze, batched)
        if x is not None:  # δ_W = X im2col(δ_y)ᵀ
            x_mat = _as_rows(_to_4d(x, squeeze, batched), groups)
            grad_w = _product(x_mat, cols.transpose(0, 2, 1), groups).reshape(ctx.weight_shape)
        if len(ctx.needs_input_grad) == 2:
            return grad_x, grad_w
        if ctx.needs_input_grad[2]:
            grad_b = g4.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


# ----------------------------------------------------------------- functional
def conv_padding(
    padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...],
    op: str,
) -> tuple[tuple[int, int], ...]:
    """The (before, after) zeros of each spatial axis for torch's ``padding`` argument:
    'valid' none; 'same' d·(k-1) in total, the odd one at the end (stride 1 only)."""
    dims = len(kernel)
    if isinstance(padding, str):
        if padding not in PADDING_STRINGS:
            raise ValueError(
                f"{op}: invalid padding string {padding!r}, expected 'valid', 'same', an int "
                f"or a tuple of {dims} ints"
            )
        if padding == "valid":
            return ((0, 0),) * dims
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions "
                f"(got stride={stride}); use stride 1 or an explicit padding"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    pads = int_tuple(op, "padding", padding, dims, minimum=0)
    return tuple((p, p) for p in pads)


def _check_operands(op: str, dims: int, input: Any, weight: Any, bias: Any) -> tuple[Any, ...]:
    """The arrays of input, weight and bias, checked: ranks, floating dtypes, one dtype."""
    x, w = array(input), array(weight)
    b = None if bias is None else array(bias)
    for name, a in (("input", x), ("weight", w), ("bias", b)):
        if a is not None and not isinstance(a, np.ndarray):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(a).__name__}")
    if x.ndim not in (dims + 1, dims + 2):
        layout = "(C, L) or (N, C, L)" if dims == 1 else "(C, H, W) or (N, C, H, W)"
        raise ValueError(
            f"{op}: expected a {dims + 1}-d (unbatched) or {dims + 2}-d (batched) input "
            f"{layout}, got input of shape {x.shape}"
        )
    if w.ndim != dims + 2:
        kernel = "kL" if dims == 1 else "kH, kW"
        layout = (f"(in_channels, out_channels/groups, {kernel})" if "transpose" in op
                  else f"(out_channels, in_channels/groups, {kernel})")
        raise ValueError(
            f"{op}: expected a {dims + 2}-d weight {layout}, got weight of shape {w.shape}"
        )
    check_float(op, "input", x)
    check_float(op, "weight", w)
    if b is not None:
        check_float(op, "bias", b)
    if x.dtype != w.dtype or (b is not None and b.dtype != w.dtype):
        check_same_dtype(op, ("input", "weight", "bias"), (x, w, b))
    return x, w, b


def _check_options(op: str, dims: int, groups: Any, stride: Any, dilation: Any) -> tuple[Any, ...]:
    """groups a positive int; stride and dilation tuples of ``dims`` positive ints."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    stride = int_tuple(op, "stride", stride, dims, minimum=1)
    dilation = int_tuple(op, "dilation", dilation, dims, minimum=1)
    return int(groups), stride, dilation


def _conv(
    op: str, dims: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
    dilation: Any, groups: Any,
) -> Tensor:
    """Check everything, then run :class:`Convolution`."""
    x, w, b = _check_operands(op, dims, input, weight, bias)
    groups, stride, dilation = _check_options(op, dims, groups, stride, dilation)
    out_channels, kernel = w.shape[0], w.shape[2:]
    if out_channels % groups:
        raise ValueError(
            f"{op}: weight of shape {w.shape} has {out_channels} output channels, which "
            f"groups={groups} does not divide"
        )
    channels = x.shape[-dims - 1]
    if channels != w.shape[1] * groups:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {channels} channels, but weight of shape "
            f"{w.shape} with groups={groups} expects {w.shape[1] * groups} "
            f"(= weight.shape[1] · groups)"
        )
    if b is not None and b.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias of shape {b.shape} does not match weight of shape {w.shape} "
            f"(expected ({out_channels},))"
        )
    pads = conv_padding(padding, kernel, dilation, stride, op)
    spatial = x.shape[-dims:]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < k for p, k in zip(padded, reach)):
        raise ValueError(
            f"{op}: the kernel {tuple(kernel)} (dilated: {reach}) is larger than the padded "
            f"input {padded} (input of shape {x.shape}, padding {tuple(pads)}); expected a "
            f"padded input at least as large as the kernel"
        )
    if dims == 1:
        pads, stride, dilation = ((0, 0),) + pads, (1,) + stride, (1,) + dilation
    options = {"stride": stride, "pads": pads, "dilation": dilation, "groups": groups,
               "squeeze": dims == 1, "batched": x.ndim == dims + 2}
    if bias is None:
        return Convolution.apply(input, weight, **options)
    return Convolution.apply(input, weight, bias, **options)


def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """1-d convolution (cross-correlation) of an (N, C, L) or (C, L) input with a weight
    of shape (O, C/groups, k), as ``torch.nn.functional.conv1d``.

    ``padding``: an int, a 1-tuple, 'valid' or 'same'. The output length is
    ⌊(L + 2P - d(k-1) - 1)/s⌋ + 1. Derivatives: :class:`Convolution`.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation) of an (N, C, H, W) or (C, H, W) input with a
    weight of shape (O, C/groups, kH, kW), as ``torch.nn.functional.conv2d``.

    ``stride``, ``dilation`` and ``padding``: an int or a pair; ``padding`` also
    'valid' or 'same'. Each output side is ⌊(W + 2P - d(F-1) - 1)/S⌋ + 1 (for d = 1
    the course's ⌊(W - F + 2P)/S⌋ + 1). ``groups`` splits the channels into that
    many independent convolutions (groups = C: depthwise). Derivatives:
    :class:`Convolution`.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    op: str, dims: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
    output_padding: Any, groups: Any, dilation: Any,
) -> Tensor:
    """Check everything, then run :class:`ConvTranspose`."""
    x, w, b = _check_operands(op, dims, input, weight, bias)
    groups, stride, dilation = _check_options(op, dims, groups, stride, dilation)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of {dims} ints, got "
                         f"{padding!r} (the strings 'same' and 'valid' are for convolutions)")
    pads = int_tuple(op, "padding", padding, dims)
    extra = int_tuple(op, "output_padding", output_padding, dims)
    if any(p < 0 for p in pads) or any(e < 0 for e in extra):
        raise ValueError(f"{op}: negative padding is not supported, got padding={padding!r}, "
                         f"output_padding={output_padding!r}")
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding {extra} must be smaller than either stride {stride} or "
            f"dilation {dilation}"
        )
    in_channels = w.shape[0]
    if in_channels % groups:
        raise ValueError(
            f"{op}: weight of shape {w.shape} has {in_channels} input channels, which "
            f"groups={groups} does not divide"
        )
    channels = x.shape[-dims - 1]
    if channels != in_channels:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {channels} channels, but weight of shape "
            f"{w.shape} expects {in_channels} (= weight.shape[0])"
        )
    out_channels = w.shape[1] * groups
    if b is not None and b.shape != (out_channels,):
        raise ValueError(
            f"{op}: bias of shape {b.shape} does not match weight of shape {w.shape} with "
            f"groups={groups} (expected ({out_channels},))"
        )
    sizes = tuple((n - 1) * s - 2 * p + d * (k - 1) + e + 1 for n, k, s, d, p, e in zip(
        x.shape[-dims:], w.shape[2:], stride, dilation, pads, extra))
    if any(n < 1 for n in sizes):
        raise ValueError(
            f"{op}: input of shape {x.shape} with weight of shape {w.shape}, stride {stride}, "
            f"padding {pads}, dilation {dilation} and output_padding {extra} gives an output "
            f"of size {sizes}; expected every size to be positive (reduce the padding)"
        )
    padding_pairs = tuple((p, p - e) for p, e in zip(pads, extra))
    if dims == 1:
        padding_pairs, stride, dilation = ((0, 0),) + padding_pairs, (1,) + stride, (1,) + dilation
    options = {"stride": stride, "pads": padding_pairs, "dilation": dilation, "groups": groups,
               "squeeze": dims == 1, "batched": x.ndim == dims + 2}
    if bias is None:
        return ConvTranspose.apply(input, weight, **options)
    return ConvTranspose.apply(input, weight, bias, **options)


def conv_transpose1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
    padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1,
) -> Tensor:
    """Transposed 1-d convolution of an (N, C_in, L) or (C_in, L) input with a weight of
    shape (C_in, C_out/groups, k), as ``torch.nn.functional.conv_transpose1d``: the
    gradient of :func:`conv1d` with respect to its input. The output length is
    (L-1)s - 2P + d(k-1) + output_padding + 1. Derivatives: :class:`ConvTranspose`.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
    padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1,
) -> Tensor:
    """Transposed 2-d convolution ("deconvolution") of an (N, C_in, H, W) or (C_in, H, W)
    input with a weight of shape (C_in, C_out/groups, kH, kW), as
    ``torch.nn.functional.conv_transpose2d`` (note: ``groups`` comes before
    ``dilation``). It is the gradient of :func:`conv2d` with respect to its input, so a
    stride-s transposed convolution upsamples by s: each output side is
    (H-1)s - 2P + d(k-1) + output_padding + 1. Derivatives: :class:`ConvTranspose`.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)
