"""A LeNet-style convolutional network: conv–ReLU–pool blocks, then a classifier.

For images (``dims=2``, input N × C × H × W) or signals (``dims=1``, N × C × L)::

    [Conv(k, padding k//2) → (BatchNorm) → ReLU → MaxPool(2)] × len(channels)
    → Flatten → [Linear → ReLU → (Dropout)] × len(hidden) → Linear(num_classes)

A block pools only while its input is at least 2 wide, so any input size works;
the classifier's input size is worked out from ``input_size``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule import nn
from chainrule.models.mlp import check_positive


def layers_for(dims: int) -> tuple[type, type, type]:
    """(Conv, BatchNorm, MaxPool) classes for 1-D or 2-D inputs."""
    if dims == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d
    if dims == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d
    raise ValueError(f"dims must be 1 (signals) or 2 (images), got {dims!r}")


def cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: int | Sequence[int] = (28, 28),
    channels: Sequence[int] = (16, 32),
    hidden: Sequence[int] = (),
    kernel_size: int = 3,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """The network above; ``input_size`` is (H, W) for images or L (an int) for signals.

    Returns logits (no softmax): pair it with ``cross_entropy``.
    """
    size = (input_size,) if isinstance(input_size, int) else tuple(input_size)
    check_positive("cnn", in_channels=in_channels, num_classes=num_classes,
                   kernel_size=kernel_size, **{f"input_size[{i}]": n for i, n in enumerate(size)},
                   **{f"channels[{i}]": c for i, c in enumerate(channels)},
                   **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    if not channels:
        raise ValueError("cnn: channels must name at least one convolution block")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"cnn: dropout must be in [0, 1), got {dropout!r}")
    conv, norm, pool = layers_for(len(size))
    layers: list[nn.Module] = []
    fan_in = in_channels
    for width in channels:
        layers.append(conv(fan_in, width, kernel_size, padding=kernel_size // 2,
                           bias=not batch_norm))
        if batch_norm:
            layers.append(norm(width))
        layers.append(nn.ReLU())
        size = tuple(n + 2 * (kernel_size // 2) - kernel_size + 1 for n in size)
        if min(size) >= 2:
            layers.append(pool(2))
            size = tuple(n // 2 for n in size)
        if min(size) < 1:
            raise ValueError(f"cnn: input_size {input_size} is too small for {len(channels)} "
                             f"blocks of kernel {kernel_size}")
        fan_in = width
    layers.append(nn.Flatten())
    features = fan_in * math.prod(size)
    for width in hidden:
        layers += [nn.Linear(features, width), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        features = width
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)
