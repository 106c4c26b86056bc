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

Layout, chosen for speed (measured on the benchmark networks, benchmarks/bench_cnn.py):

- everything stays NCHW: the padded input x̃ is one flat buffer of N·C planes, each
  sample's X_col is (C·kh·kw, Ho·Wo), and ``np.matmul`` runs one GEMM per sample, so
  y comes out in NCHW and no product needs a transposed copy before or after;
- with stride 1 the output grid can be *wide*: its rows run over the padded width
  W̃ instead of Wo (columns Wo…W̃-1 are junk: cropped from y, zero in δ_Y). The
  window of offset (i, j) is then, in every plane, one contiguous run of Ho·W̃
  numbers from d₁i·W̃ + d₂j, so im2col and col2im move a few long runs instead of
  Ho short rows (numpy pays per row). It is used when col2im is needed or im2col
  is the larger copy, as it costs a crop of y and a spread of δ_Y;
- the bias rides in the product, a row of ones under X_col and a column b next
  to W_mat, so the product that gives δ_W also gives δ_b;
- col2im never holds δ_X_col whole: each offset's block W[:, :, i, j]ᵀ δ_Y is made
  and added while in cache;
- a per-sample product is small (about a megaflop), and OpenBLAS threads every
  product above M·N·K = 2¹⁸; each such call hands work to a second core and waits
  for it, which on a busy machine means waiting for that core's scheduler slice.
  So the columns of a larger product are cut into pieces under the threshold,
  each run on one thread. Measured with two threads, 28×28 network: 2.4× the
  throughput on a loaded machine (ResNet: 4×), 20 % less on an idle one; with one
  thread, within a few %;
- δ_x is returned as a (cropped) view of its padded image, not copied.

The transposed convolution (``conv_transpose1d/2d``, "deconvolution") is the
same pair read backwards: its forward is the convolution's col2im, its input
gradient the convolution's forward. A 1-d convolution is the 2-d one with a
kernel of height 1. Conventions are PyTorch's: NCHW (NCL), ``padding`` an int,
a tuple, 'valid' (none) or 'same' (the output has the input's size; stride 1
only; an odd total padding puts the extra zero at the end, as torch does).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule.function import Function
from chainrule.ops._checks import array, check_float, check_same_dtype, int_tuple
from chainrule.tensor import Tensor

PADDING_STRINGS = ("valid", "same")


# ------------------------------------------------------------- im2col, col2im
class _Frame(NamedTuple):
    """Where the windows of one convolution lie.

    The padded image x̃ is stored flat, N·C planes of H̃·W̃ numbers (+ ``slack``
    zeros after the last one). The output grid of each sample is Ho × ``row``:
    ``row`` is Wo, or W̃ on a *wide* grid (stride 1 only, see the module's notes),
    whose columns Wo…W̃-1 are junk.
    """

    n: int
    hp: int
    wp: int
    ho: int
    wo: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    wide: bool

    @property
    def row(self) -> int:
        return self.wp if self.wide else self.wo

    @property
    def slack(self) -> int:
        return self.dilation[1] * (self.kernel[1] - 1) if self.wide else 0

    @property
    def cells(self) -> int:
        """Output cells of one sample's grid: Ho·row (the columns of its X_col)."""
        return self.ho * self.row

    def image(self, channels: int, dtype: np.dtype) -> np.ndarray:
        """A zero flat padded image for ``channels`` channels."""
        return np.zeros(self.n * channels * self.hp * self.wp + self.slack, dtype=dtype)

    def planes(self, flat: np.ndarray, channels: int) -> np.ndarray:
        """The flat padded image as (N, C, H̃, W̃)."""
        return flat[:self.n * channels * self.hp * self.wp].reshape(
            self.n, channels, self.hp, self.wp)

    def windows(self, flat: np.ndarray, channels: int, offsets: bool) -> np.ndarray:
        """The view of the flat padded image holding every window: (N, C, kh, kw, Ho,
        row) if ``offsets`` (im2col), else the (N, C, Ho, row) cells of offset (0, 0).

        In bounds: a window ends at most d₂(kw-1) past its plane on a wide grid (the
        slack), inside it otherwise. Writing through the second form, the runs of
        different planes never overlap (each run starts no earlier in its plane than
        the previous run spilled into it)."""
        (kh, kw), (s1, s2), (d1, d2) = self.kernel, self.stride, self.dilation
        it, plane = flat.itemsize, self.hp * self.wp
        shape, strides = (self.n, channels), (channels * plane * it, plane * it)
        if offsets:
            shape, strides = shape + (kh, kw), strides + (d1 * self.wp * it, d2 * it)
        shape += (self.ho, self.row)
        strides += (s1 * self.wp * it, s2 * it)
        return as_strided(flat, shape, strides, writeable=not offsets)

    def crop(self, y: np.ndarray) -> np.ndarray:
        """(N, O, Ho·row) as the (N, O, Ho, Wo) array it holds: the junk columns of a
        wide grid dropped (a copy), else a reshape."""
        y = y.reshape(self.n, -1, self.ho, self.row)
        return np.ascontiguousarray(y[..., :self.wo]) if self.wide else y


def _frame(n, padded, out, kernel, stride, dilation, wide) -> _Frame:
    return _Frame(n, *padded, *out, tuple(kernel), tuple(stride), tuple(dilation),
                  wide and tuple(stride) == (1, 1))


def _im2col(x, pads, f, groups, ones):
    """X_col of each sample of the (N, C, H, W) input ``x`` with the (before, after)
    zeros ``pads``: (N, groups, C/g·kh·kw [+ 1], Ho·row), rows (c, i, j) of each group,
    and a last row of ones per group if ``ones`` (for the bias). One copy of a
    strided view."""
    n, c, h, w = x.shape
    (t, _), (le, _) = pads
    flat = f.image(c, x.dtype)
    f.planes(flat, c)[:, :, t:t + h, le:le + w] = x
    windows = f.windows(flat, c, offsets=True)  # (N, C, kh, kw, Ho, row)
    k = c // groups * f.kernel[0] * f.kernel[1]
    cols = np.empty((n, groups, k + ones, f.cells), dtype=x.dtype)
    grouped = (n, groups, c // groups) + windows.shape[2:]  # split axes: views, no copy
    cols[:, :, :k].reshape(grouped)[...] = windows.reshape(grouped)
    if ones:
        cols[:, :, k] = 1
    return cols


def _spread(g4, f, groups):
    """δ_Y (N, O, Ho, Wo) as the (N, groups, O/g, Ho·row) matrices of the output grid,
    zero in the junk columns of a wide grid."""
    n, o = g4.shape[:2]
    if f.wide:
        wide = np.zeros((n, o, f.ho, f.row), dtype=g4.dtype)
        wide[..., :f.wo] = g4
        g4 = wide
    return g4.reshape(n, groups, o // groups, f.cells)


def _col2im(w_mat, g_mat, f):
    """col2im(W_matᵀ δ_Y): the padded image of δ_x̃, (N, C, H̃, W̃).

    ``w_mat`` is (groups, O/g, C/g·kh·kw) and ``g_mat`` (N, groups, O/g, Ho·row).
    δ_X_col is never built whole: for each kernel offset (i, j) its row block,
    W[:, :, i, j]ᵀ δ_Y (one product per sample), is added onto the cells that offset
    read (long runs on a wide grid, whose junk columns are 0). Nine small blocks stay
    in cache where one δ_X_col nine times the image would not (measured 1.3-1.7×).
    """
    groups, og, k = w_mat.shape
    kh, kw = f.kernel
    cg = k // (kh * kw)
    w_offsets = w_mat.reshape(groups, og, cg, kh, kw).transpose(3, 4, 0, 2, 1)
    w_offsets = np.ascontiguousarray(w_offsets)  # W[:, :, i, j]ᵀ per group, BLAS-ready
    block = np.empty((f.n, groups, cg, f.cells), dtype=g_mat.dtype)
    flat = f.image(groups * cg, g_mat.dtype)
    d1, d2 = f.dilation
    for i in range(kh):
        for j in range(kw):
            _per_sample(w_offsets[i, j], g_mat, out=block)
            cells = f.windows(flat[d1 * i * f.wp + d2 * j:], groups * cg, offsets=False)
            cells += block.reshape(cells.shape)
    return f.planes(flat, groups * cg)


#: OpenBLAS runs a GEMM on one thread when M·N·K is at most this (2¹⁸, its
#: GEMM_MULTITHREAD_THRESHOLD of 4 times 65536); 0 lets it thread every product
_ONE_THREAD_WORK = 1 << 18


def _pieces(cells, work):
    """Into how many equal pieces to cut the Ho·row columns of a per-sample product
    of ``work`` = M·N·K so that each piece stays on one BLAS thread (1: none)."""
    if work <= _ONE_THREAD_WORK:
        return 1
    for q in range(2, cells // 16 + 1):  # pieces of at least 16 columns
        if cells % q == 0 and work // q <= _ONE_THREAD_WORK:
            return q
    return 1


def _per_sample(a, b, out=None):
    """a @ b for every sample: a (g, m, k), b (N, g, k, P) → (N, g, m, P), the columns
    cut in pieces that BLAS runs on one thread each (see :func:`_pieces`)."""
    n, g, k, p = b.shape
    m = a.shape[1]
    if out is None:
        out = np.empty((n, g, m, p), dtype=b.dtype)
    q = _pieces(p, m * k * p)
    if q == 1:
        return np.matmul(a, b, out=out)
    np.matmul(a[:, None], b.reshape(n, g, k, q, p // q).transpose(0, 1, 3, 2, 4),
              out=out.reshape(n, g, m, q, p // q).transpose(0, 1, 3, 2, 4))
    return out


def _gram(a, cols, f):
    """Σ_n a[n] cols[n]ᵀ per group: (N, g, m, Ho·row) and (N, g, k, Ho·row) → (g, m, k).

    ``a`` is zero in the junk columns of a wide grid, which cancels X_col's junk unless
    that is infinite or NaN: then, seen as a non-finite result, the junk is zeroed and
    the product made again (what a non-finite input gives, without the junk's say)."""
    n, groups, k, p = cols.shape
    m = a.shape[2]
    q = _pieces(p, m * k * p)

    def product():
        pieces = (n, groups, k, q, p // q)
        parts = np.matmul(cols.reshape(pieces).transpose(0, 1, 3, 2, 4),
                          a.reshape(n, groups, m, q, p // q).transpose(0, 1, 3, 4, 2))
        return parts.sum(axis=(0, 2)).transpose(0, 2, 1)

    if not f.wide:
        return product()
    with np.errstate(invalid="ignore"):
        result = product()
    if np.isfinite(result).all():
        return result
    cols.reshape(*cols.shape[:3], f.ho, f.row)[..., f.wo:] = 0
    return product()


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


def _grouped(a, groups):
    """A weight (O, C/g, kh, kw) as the (groups, O/g, C/g·kh·kw) matrix of each group."""
    return a.reshape(groups, a.shape[0] // groups, -1)


class Convolution(Function):
    """y[n,o,p] = b_o + Σ_{c,k} W[o,c,k] x̃[n,c,s·p+d·k]  (im2col: Y = W_mat X_col + b)

    δ_W = δ_Y X_colᵀ,  δ_b = Σ_{n,p} δ_y,  δ_x = col2im(W_matᵀ δ_Y)  (per group)

    ``x`` is (N, C, H, W) and ``weight`` (O, C/g, kh, kw); ``pads`` holds the
    (before, after) zeros of each spatial axis. A 1-d convolution arrives with a
    unit height (``squeeze=True`` drops it again), one sample with
    ``batched=False``. Saves the weight if x needs a gradient; keeps X_col (a
    fresh array) if the weight or the bias does.
    """

    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride, pads, dilation, groups, squeeze, batched):
        need_x = ctx.needs_input_grad[0]
        ctx.save_for_backward(weight if need_x else None)
        ctx.weight_shape = weight.shape
        x, weight = _to_4d(x, squeeze, batched), _to_4d(weight, squeeze, True)
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        padded = (h + sum(pads[0]), w + sum(pads[1]))
        out = tuple((size - d * (k - 1) - 1) // s + 1
                    for size, k, s, d in zip(padded, (kh, kw), stride, dilation))
        # wide rows pay for col2im, or for an im2col that moves more rows than the output
        f = _frame(n, padded, out, (kh, kw), stride, dilation, need_x or c * kh * kw > 2 * o)
        ones = bias is not None
        cols = _im2col(x, pads, f, groups, ones)
        w_mat = _grouped(weight, groups)
        if ones:  # [W_mat | b] [X_col; 1] = W_mat X_col + b
            w_mat = np.concatenate([w_mat, bias.reshape(groups, -1, 1)], axis=2)
        y = f.crop(_per_sample(w_mat, cols))
        ctx.cols = cols if any(ctx.needs_input_grad[1:]) else None
        ctx.geometry = (x.shape, pads, f, groups, squeeze, batched)
        return _from_4d(y, squeeze, batched)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        (n, c, h, w), pads, f, groups, squeeze, batched = ctx.geometry
        g_mat = _spread(_to_4d(grad, squeeze, batched), f, groups)
        grad_x = grad_w = grad_b = None
        cols = ctx.cols
        if cols is not None:  # [δ_W | δ_b] = Σ_n δ_Y [X_col; 1]ᵀ
            both = _gram(g_mat, cols, f)
            k = both.shape[2] - (len(ctx.needs_input_grad) == 3)
            grad_w = both[:, :, :k].reshape(ctx.weight_shape)
            if k < both.shape[2]:
                grad_b = both[:, :, k].reshape(-1)
        if weight is not None:  # δ_x = col2im(W_matᵀ δ_Y), cropped to the unpadded input
            image = _col2im(_grouped(_to_4d(weight, squeeze, True), groups), g_mat, f)
            (t, _), (le, _) = pads
            grad_x = _from_4d(image[:, :, t:t + h, le:le + w], squeeze, batched)
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
        kh, kw = w4.shape[2:]
        full = tuple((size - 1) * s + d * (k - 1) + 1
                     for size, k, s, d in zip((h, w), (kh, kw), stride, dilation))
        (t, b), (le, r) = pads  # b, r < 0: output_padding reaches past the fold (zeros)
        padded = (full[0] + max(0, -b), full[1] + max(0, -r))
        f = _frame(n, padded, (h, w), (kh, kw), stride, dilation, True)
        image = _col2im(_grouped(w4, groups), _spread(x4, f, groups), f)
        y = np.ascontiguousarray(image[:, :, t:padded[0] - max(b, 0), le:padded[1] - max(r, 0)])
        if bias is not None:
            y += bias[:, None, None]
        ctx.geometry = (pads, f, groups, squeeze, batched)
        return _from_4d(y, squeeze, batched)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pads, f, groups, squeeze, batched = ctx.geometry
        g4 = _to_4d(grad, squeeze, batched)
        (t, b), (le, r) = pads
        grad_x = grad_w = grad_b = None
        if x is not None or weight is not None:
            # δ_y back on the full fold (zeros where it was cropped), then its windows
            cols = _im2col(g4, ((t, max(b, 0)), (le, max(r, 0))), f, groups, False)
        if weight is not None:  # δ_x = W_mat im2col(δ_y)
            grad_x = f.crop(_per_sample(_grouped(weight, groups), cols))
            grad_x = _from_4d(grad_x, squeeze, batched)
        if x is not None:  # δ_W = X im2col(δ_y)ᵀ
            x_mat = _spread(_to_4d(x, squeeze, batched), f, groups)
            grad_w = _gram(x_mat, cols, f).reshape(ctx.weight_shape)
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
