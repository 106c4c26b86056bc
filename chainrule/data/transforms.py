"""Data augmentation on whole batches, as ``torchvision.transforms`` but vectorized.

Every transform takes a float batch, NumPy array or Tensor, laid out as PyTorch's
convolutions want it: ``(N, C, H, W)`` for images, ``(N, C, L)`` for 1-D signals
(a 3-D input is always read as ``(N, C, L)``, never as one ``(C, H, W)`` image). It
returns a new batch of the same shape, dtype and type (a Tensor comes back as a
Tensor without a graph: augmentation is not differentiated). Each image gets its
own random draw (crop offset, flip, shift, angle, noise), computed for the whole
batch at once with fancy indexing, never with a Python loop over images.

Randomness comes from, in this order: the transform's own generator
(``seed=`` an int, or ``generator=`` a :class:`numpy.random.Generator`), the
``generator`` passed to the call (:class:`~chainrule.data.DataLoader` passes one
derived from its own generator, the epoch and the batch, so a resumed run sees the
same augmentations), else the global chainrule generator
(:func:`chainrule.manual_seed`). The same seed gives the same batches, bit for bit.

>>> import numpy as np
>>> from chainrule.data import transforms as T
>>> augment = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(),
...                      T.Normalize([0.1307], [0.3081])])
>>> augment(np.zeros((64, 1, 28, 28), np.float32), generator=np.random.default_rng(0)).shape
(64, 1, 28, 28)

Give a transform to the training :class:`~chainrule.data.DataLoader` only
(``DataLoader(train, batch_size=64, shuffle=True, transform=augment)``); validation
and test loaders get none. A deterministic :class:`Normalize` that every split needs
is simplest applied to the arrays once, before building the datasets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from chainrule.random import default_generator
from chainrule.tensor import Tensor

__all__ = [
    "Compose",
    "GaussianNoise",
    "Normalize",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomTranslate",
    "RandomVerticalFlip",
    "Transform",
]


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_real(x: Any) -> bool:
    return isinstance(x, (Real, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))


def _ints(name: str, owner: str, value: Any, lengths: tuple[int, ...],
          minimum: int = 0) -> tuple[int, ...]:
    """An int or a sequence of ``lengths`` ints, each ``>= minimum``, as a tuple."""
    values = (value,) if _is_int(value) else value
    if (not isinstance(values, (tuple, list)) or len(values) not in lengths
            or not all(_is_int(v) for v in values)):
        allowed = " or ".join(str(n) for n in lengths if n != 1)
        raise TypeError(
            f"{owner}: {name} must be an int or a sequence of {allowed} ints, got {value!r}"
        )
    if any(v < minimum for v in values):
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


class Transform:
    """Base class: ``transform(x, generator=None)`` maps a batch to a new batch.

    Subclasses implement ``_apply(array, rng)`` on a float ``numpy`` array whose
    shape has already been checked against ``spatial_dims`` (the number of axes
    after ``(N, C)`` they accept); ``rng`` is the generator to draw from.
    """

    #: How many axes after (N, C) a batch may have: 1 for (N, C, L), 2 for (N, C, H, W).
    spatial_dims: tuple[int, ...] = (1, 2)
    #: Whether the transform draws random numbers (and so takes ``seed``/``generator``).
    random = False

    def _init_generator(self, seed: int | None, generator: np.random.Generator | None) -> None:
        name = type(self).__name__
        if seed is not None and generator is not None:
            raise ValueError(f"{name}: give either seed or generator, not both")
        if seed is not None and not _is_int(seed):
            raise TypeError(f"{name}: seed must be an int, got {seed!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"{name}: generator must be a numpy.random.Generator, got "
                f"{type(generator).__name__}"
            )
        self.seed = None if seed is None else int(seed)
        self.generator = np.random.default_rng(self.seed) if seed is not None else generator

    def _rng(self, generator: np.random.Generator | None) -> np.random.Generator:
        own = getattr(self, "generator", None)
        if own is not None:
            return own
        if generator is not None:
            if not isinstance(generator, np.random.Generator):
                raise TypeError(
                    f"{type(self).__name__}: generator must be a numpy.random.Generator, "
                    f"got {type(generator).__name__}"
                )
            return generator
        return default_generator()

    def __call__(self, x: Any, generator: np.random.Generator | None = None) -> Any:
        is_tensor = isinstance(x, Tensor)
        array = x.data if is_tensor else x
        self._check(array)
        out = self._apply(array, self._rng(generator) if self.random else None)
        return Tensor._make(out, False, None) if is_tensor else out

    def _check(self, array: Any) -> None:
        name = type(self).__name__
        layouts = " or ".join("(N, C, L)" if d == 1 else "(N, C, H, W)"
                              for d in self.spatial_dims)
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"{name}: expects a batch as a numpy array or Tensor of shape {layouts}, "
                f"got {type(array).__name__}"
            )
        if array.ndim - 2 not in self.spatial_dims or not np.issubdtype(array.dtype, np.floating):
            raise ValueError(
                f"{name}: expects a float batch of shape {layouts}, got shape {array.shape} "
                f"and dtype {array.dtype}"
            )

    def _apply(self, array: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _apply")

    # ---------------------------------------------------------------- state and repr
    def state_dict(self) -> dict[str, Any]:
        """The state of the transform's own generator (empty if it has none)."""
        own = getattr(self, "generator", None)
        return {} if own is None else {"generator": own.bit_generator.state}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        if "generator" in state:
            if getattr(self, "generator", None) is None:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: the state holds a generator, "
                    "but this transform has none (construct it with seed= or generator=)"
                )
            self.generator.bit_generator.state = state["generator"]

    def _repr_args(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = dict(self._repr_args())
        if getattr(self, "seed", None) is not None:
            args["seed"] = self.seed
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"


class Compose(Transform):
    """Apply ``transforms`` in order; the random ones without a generator of their own
    draw, one after the other, from the same generator (Compose's own if given
    ``seed``/``generator``, else the one passed to the call).

    Members may be :class:`Transform` objects or any callable taking and returning a batch.
    """

    def __init__(self, transforms: Iterable[Callable[..., Any]], *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] is not callable: {t!r}")
        self.transforms = transforms
        self._init_generator(seed, generator)

    def __call__(self, x: Any, generator: np.random.Generator | None = None) -> Any:
        if self.generator is not None:
            generator = self.generator
        for t in self.transforms:
            x = t(x, generator=generator) if isinstance(t, Transform) else t(x)
        return x

    def state_dict(self) -> dict[str, Any]:
        states = super().state_dict()
        for i, t in enumerate(self.transforms):
            state = t.state_dict() if hasattr(t, "state_dict") else {}
            if state:
                states[str(i)] = state
        return states

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        for key, sub in state.items():
            if key == "generator":
                continue
            i = int(key)
            if not 0 <= i < len(self.transforms) or not hasattr(self.transforms[i], "state_dict"):
                raise ValueError(f"Compose.load_state_dict: no stateful transform at index {key}")
            self.transforms[i].load_state_dict(sub)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Callable[..., Any]:
        return self.transforms[index]

    def __repr__(self) -> str:
        seed = "" if self.seed is None else f", seed={self.seed}"
        if not self.transforms:
            return f"Compose([]{seed})"
        body = "".join(f"    {t!r},\n" for t in self.transforms)
        return f"Compose([\n{body}]{seed})"


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel (axis 1), as ``torchvision``'s Normalize.

    ``mean`` and ``std`` are one number per channel, or a single number for all.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = self._values("mean", mean)
        self.std = self._values("std", std)
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(
                f"Normalize: mean has {len(self.mean)} values but std has {len(self.std)}; "
                "give one per channel (or a single number)"
            )
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not be zero, got {list(self.std)}")

    @staticmethod
    def _values(name: str, value: Any) -> tuple[float, ...]:
        if isinstance(value, Tensor):
            value = value.data
        values = np.atleast_1d(np.asarray(value))
        if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
            raise TypeError(f"Normalize: {name} must be a number or a sequence of numbers, "
                            f"got {value!r}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"Normalize: {name} must be finite, got {value!r}")
        return tuple(float(v) for v in values)

    def _apply(self, array: np.ndarray, rng: Any) -> np.ndarray:
        channels = array.shape[1]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {len(values)} values, but the batch of shape "
                    f"{array.shape} has {channels} channels"
                )
        shape = (1, -1) + (1,) * (array.ndim - 2)
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(shape)
        std = np.asarray(self.std, dtype=array.dtype).reshape(shape)
        return (array - mean) / std

    def _repr_args(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std)}


# --------------------------------------------------------------------------- cropping
def _crop_windows(padded: np.ndarray, size: tuple[int, ...], offsets: np.ndarray) -> np.ndarray:
    """``out[n] = padded[n, :, o_n : o_n + size]`` (per spatial axis) for every n at once.

    ``offsets`` has shape (N, d): one start per image and spatial axis. The windows
    are an ``as_strided`` view; one fancy index copies out the chosen ones.
    """
    d = len(size)
    windows = sliding_window_view(padded, size, axis=tuple(range(2, 2 + d)))
    n = np.arange(len(padded))
    return windows[(n, slice(None)) + tuple(offsets[:, k] for k in range(d))]


def _pad(array: np.ndarray, before: tuple[int, ...], after: tuple[int, ...], mode: str,
         fill: float) -> np.ndarray:
    if not any(before) and not any(after):
        return array
    widths = [(0, 0), (0, 0)] + list(zip(before, after))
    if mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=fill)
    return np.pad(array, widths, mode=mode)


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


class RandomCrop(Transform):
    """Pad every image by ``padding``, then crop a random ``size`` window from each.

    As ``torchvision.transforms.RandomCrop``: ``size`` is an int (a square, or a length
    for 1-D) or ``(h, w)``; ``padding`` an int for every border, ``(left/right,
    top/bottom)`` or ``(left, top, right, bottom)`` (1-D: an int or ``(left, right)``);
    ``pad_if_needed`` pads an image smaller than ``size`` up to it; ``padding_mode`` is
    'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'. With ``size`` equal
    to the image size, content moves by at most ``padding`` pixels along each axis.
    """

    random = True

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] = 0,
                 pad_if_needed: bool = False, fill: float = 0.0,
                 padding_mode: str = "constant", *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        self.size = _ints("size", "RandomCrop", size, (1, 2), minimum=1)
        self.padding = _ints("padding", "RandomCrop", 0 if padding is None else padding,
                             (1, 2, 4))
        if not _is_real(fill):
            raise TypeError(f"RandomCrop: fill must be a number, got {fill!r}")
        if padding_mode not in _PAD_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode must be one of {sorted(_PAD_MODES)}, got "
                f"{padding_mode!r}"
            )
        self.pad_if_needed, self.fill = bool(pad_if_needed), float(fill)
        self.padding_mode = padding_mode
        self._init_generator(seed, generator)

    def _borders(self, d: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        p = self.padding
        if d == 1:
            if len(p) == 4:
                raise ValueError("RandomCrop: a 1-D batch takes padding as an int or "
                                 f"(left, right), got {p}")
            return (p[0],), (p[-1],)
        if len(p) == 1:
            return (p[0], p[0]), (p[0], p[0])
        if len(p) == 2:  # (left/right, top/bottom)
            return (p[1], p[0]), (p[1], p[0])
        left, top, right, bottom = p
        return (top, left), (bottom, right)

    def _apply(self, array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        d = array.ndim - 2
        if d == 1 and len(self.size) == 2:
            raise ValueError(f"RandomCrop: size {self.size} is 2-D, but the batch of shape "
                             f"{array.shape} is (N, C, L)")
        size = self.size * d if len(self.size) == 1 else self.size
        before, after = self._borders(d)
        padded_size = [s + b + a for s, b, a in zip(array.shape[2:], before, after)]
        if self.pad_if_needed:
            grow = [max(0, t - s) for t, s in zip(size, padded_size)]
            before = tuple(b + g for b, g in zip(before, grow))
            after = tuple(a + g for a, g in zip(after, grow))
            padded_size = [s + 2 * g for s, g in zip(padded_size, grow)]
        if any(t > s for t, s in zip(size, padded_size)):
            raise ValueError(
                f"RandomCrop: crop size {size} is larger than the padded image "
                f"{tuple(padded_size)} (batch shape {array.shape}); use pad_if_needed=True"
            )
        padded = _pad(array, before, after, _PAD_MODES[self.padding_mode], self.fill)
        high = np.asarray([s - t + 1 for s, t in zip(padded_size, size)])
        offsets = rng.integers(0, high, size=(len(array), d))
        return _crop_windows(padded, size, offsets)

    def _repr_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"size": self.size if len(self.size) > 1 else self.size[0],
                                "padding": self.padding if len(self.padding) > 1
                                else self.padding[0]}
        if self.pad_if_needed:
            args["pad_if_needed"] = True
        if self.fill:
            args["fill"] = self.fill
        if self.padding_mode != "constant":
            args["padding_mode"] = self.padding_mode
        return args


class RandomTranslate(Transform):
    """Shift every image by its own random whole number of pixels, filling with ``fill``.

    The shift along each spatial axis is uniform in ``[-max_shift, max_shift]``;
    ``max_shift`` is an int for every axis or one per axis in array order (``(h, w)``).
    It is the same as ``RandomCrop(image_size, padding=max_shift)``.
    """

    random = True

    def __init__(self, max_shift: int | Sequence[int], fill: float = 0.0, *,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        self.max_shift = _ints("max_shift", "RandomTranslate", max_shift, (1, 2))
        if not _is_real(fill):
            raise TypeError(f"RandomTranslate: fill must be a number, got {fill!r}")
        self.fill = float(fill)
        self._init_generator(seed, generator)

    def _apply(self, array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        d = array.ndim - 2
        if len(self.max_shift) not in (1, d):
            raise ValueError(f"RandomTranslate: max_shift {self.max_shift} does not match a "
                             f"batch of shape {array.shape}")
        shift = self.max_shift * d if len(self.max_shift) == 1 else self.max_shift
        padded = _pad(array, shift, shift, "constant", self.fill)
        offsets = rng.integers(0, np.asarray(shift) * 2 + 1, size=(len(array), d))
        return _crop_windows(padded, array.shape[2:], offsets)

    def _repr_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"max_shift": self.max_shift if len(self.max_shift) > 1
                                else self.max_shift[0]}
        if self.fill:
            args["fill"] = self.fill
        return args


# ----------------------------------------------------------------------------- flips
class _RandomFlip(Transform):
    random = True
    axis = -1

    def __init__(self, p: float = 0.5, *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if not _is_real(p) or not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], "
                             f"got {p!r}")
        self.p = float(p)
        self._init_generator(seed, generator)

    def _apply(self, array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(array)) < self.p
        out = array.copy()
        out[flip] = np.flip(array[flip], axis=self.axis)
        return out

    def _repr_args(self) -> dict[str, Any]:
        return {"p": self.p}


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each image left-right (the last axis) with probability ``p``."""


class RandomVerticalFlip(_RandomFlip):
    """Mirror each image top-bottom (axis -2 of an (N, C, H, W) batch) with probability ``p``."""

    spatial_dims = (2,)
    axis = -2


# -------------------------------------------------------------------------- rotation
class RandomRotation(Transform):
    """Rotate each image about its centre by its own angle, uniform in ``degrees``.

    ``degrees`` is a number d (angles in ``[-d, d]``) or ``(min, max)``; positive
    angles turn counter-clockwise, as ``torchvision`` and ``np.rot90``. Each output
    pixel looks up where it came from, ``R(-θ)`` applied about the centre
    ``((H-1)/2, (W-1)/2)``, and reads the input there by ``interpolation``
    ('bilinear': the four neighbours weighted by distance; 'nearest'); points outside
    the image read ``fill``. All images are done at once with index arithmetic and
    one gather per neighbour. (N, C, H, W) batches only.
    """

    random = True
    spatial_dims = (2,)

    def __init__(self, degrees: float | Sequence[float], interpolation: str = "bilinear",
                 fill: float = 0.0, *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if _is_real(degrees):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be non-negative when a single "
                                 f"number, got {degrees}")
            low, high = -float(degrees), float(degrees)
        elif (isinstance(degrees, (tuple, list)) and len(degrees) == 2
              and all(_is_real(v) for v in degrees)):
            low, high = float(degrees[0]), float(degrees[1])
            if low > high:
                raise ValueError(f"RandomRotation: degrees (min, max) needs min <= max, got "
                                 f"{tuple(degrees)}")
        else:
            raise TypeError(f"RandomRotation: degrees must be a number or a (min, max) pair, "
                            f"got {degrees!r}")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"RandomRotation: degrees must be finite, got {degrees!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation: interpolation must be 'bilinear' or 'nearest', "
                             f"got {interpolation!r}")
        if not _is_real(fill):
            raise TypeError(f"RandomRotation: fill must be a number, got {fill!r}")
        self.degrees = (low, high)
        self.interpolation, self.fill = interpolation, float(fill)
        self._init_generator(seed, generator)

    def _apply(self, array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angles = rng.uniform(self.degrees[0], self.degrees[1], size=len(array))
        return rotate(array, angles, self.interpolation, self.fill)

    def _repr_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"degrees": self.degrees}
        if self.interpolation != "bilinear":
            args["interpolation"] = self.interpolation
        if self.fill:
            args["fill"] = self.fill
        return args


def rotate(array: np.ndarray, angles: Any, interpolation: str = "bilinear",
           fill: float = 0.0) -> np.ndarray:
    """Rotate each image of an (N, C, H, W) array by ``angles[n]`` degrees
    counter-clockwise about its centre (the deterministic core of
    :class:`RandomRotation`).

    The image is framed with ``fill`` (one pixel before, two after, along each axis)
    and the source coordinates clipped to that frame, so every neighbour lookup is
    in bounds and a point outside the image reads ``fill`` without a mask.
    """
    n, c, h, w = array.shape
    theta = np.deg2rad(np.broadcast_to(np.asarray(angles, dtype=np.float64), (n,)))
    cos, sin = np.cos(theta), np.sin(theta)
    cos[np.abs(cos) < 1e-12] = 0.0  # exact quarter turns land on the pixel grid
    sin[np.abs(sin) < 1e-12] = 0.0
    dtype = np.float32 if array.dtype == np.float32 else np.float64
    cos, sin = cos.astype(dtype)[:, None, None], sin.astype(dtype)[:, None, None]
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    dy = (np.arange(h, dtype=dtype) - dtype(cy))[None, :, None]
    dx = (np.arange(w, dtype=dtype) - dtype(cx))[None, None, :]
    # source of output pixel (y, x): its offset from the centre turned by -θ (y points down)
    src_x = np.clip(dx * cos - dy * sin + dtype(cx), -1, w)
    src_y = np.clip(dx * sin + dy * cos + dtype(cy), -1, h)
    framed = np.pad(array, [(0, 0), (0, 0), (1, 2), (1, 2)], mode="constant",
                    constant_values=fill)
    stride = w + 3
    flat = framed.reshape(-1)
    # (image, channel) start of each framed plane, broadcast against pixel positions
    plane = (np.arange(n * c, dtype=np.intp) * framed[0, 0].size).reshape(n, c, 1)

    def index(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Flat index of framed pixel (y + 1, x + 1); y, x hold whole numbers."""
        return plane + ((y + 1) * stride + (x + 1)).astype(np.intp).reshape(n, 1, h * w)

    if interpolation == "nearest":
        i = index(np.floor(src_y + dtype(0.5)), np.floor(src_x + dtype(0.5)))
        return np.take(flat, i).reshape(array.shape)
    y0, x0 = np.floor(src_y), np.floor(src_x)
    fy, fx = (src_y - y0).reshape(n, 1, h * w), (src_x - x0).reshape(n, 1, h * w)
    i = index(y0, x0)
    top = np.take(flat, i) * (1 - fx) + np.take(flat, i + 1) * fx
    i += stride
    bottom = np.take(flat, i) * (1 - fx) + np.take(flat, i + 1) * fx
    return (top * (1 - fy) + bottom * fy).astype(array.dtype, copy=False).reshape(array.shape)


# ----------------------------------------------------------------------------- noise
class GaussianNoise(Transform):
    """Add independent noise ``N(0, std²)`` to every element."""

    random = True

    def __init__(self, std: float, *, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        if not _is_real(std) or not math.isfinite(std) or std < 0:
            raise ValueError(f"GaussianNoise: std must be a finite number >= 0, got {std!r}")
        self.std = float(std)
        self._init_generator(seed, generator)

    def _apply(self, array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        draw = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
        noise = rng.standard_normal(array.shape, dtype=draw).astype(array.dtype, copy=False)
        return array + np.asarray(self.std, dtype=array.dtype) * noise

    def _repr_args(self) -> dict[str, Any]:
        return {"std": self.std}
