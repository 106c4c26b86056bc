"""A small residual network of basic blocks, for images (2-D) or signals (1-D).

A basic block computes y = ReLU(F(x) + S(x)) with the residual branch
F = conv3 → BN → ReLU → conv3 → BN and the shortcut S = x where the shapes
match, else the projection S(x) = W_s·x: a 1 × 1 convolution with the block's
stride, then BN (He et al., 2016). The network::

    conv3(in → w₀) → BN → ReLU
    → stage 1 … stage s: ``depth`` blocks of width wᵢ (the first of each later stage
      halves the resolution with stride 2)
    → global average pool → Flatten → Linear(w_last → num_classes)
"""

from __future__ import annotations

from collections.abc import Sequence

from chainrule import nn
from chainrule.models.cnn import layers_for
from chainrule.models.mlp import check_positive
from chainrule.tensor import Tensor


class BasicBlock(nn.Module):
    """y = ReLU(BN(conv(ReLU(BN(conv(x))))) + S(x)); S is the identity or W_s·x (1×1, stride)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dims: int = 2) -> None:
        super().__init__()
        conv, norm, _ = layers_for(dims)
        self.conv1 = conv(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = norm(out_channels)
        self.conv2 = conv(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = norm(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = nn.Sequential(
                conv(in_channels, out_channels, 1, stride=stride, bias=False), norm(out_channels)
            )
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class GlobalAveragePool(nn.Module):
    """The mean over every position: N × C × (H × W or L) → N × C."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=tuple(range(2, x.ndim)))


def resnet(
    in_channels: int = 1,
    num_classes: int = 10,
    widths: Sequence[int] = (16, 32, 64),
    depth: int = 2,
    dims: int = 2,
) -> nn.Sequential:
    """The network above: ``len(widths)`` stages of ``depth`` basic blocks each."""
    check_positive("resnet", in_channels=in_channels, num_classes=num_classes, depth=depth,
                   **{f"widths[{i}]": w for i, w in enumerate(widths)})
    if not widths:
        raise ValueError("resnet: widths must name at least one stage")
    conv, norm, _ = layers_for(dims)
    layers: list[nn.Module] = [conv(in_channels, widths[0], 3, padding=1, bias=False),
                               norm(widths[0]), nn.ReLU()]
    fan_in = widths[0]
    for stage, width in enumerate(widths):
        for block in range(depth):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(fan_in, width, stride=stride, dims=dims))
            fan_in = width
    layers += [GlobalAveragePool(), nn.Linear(fan_in, num_classes)]
    return nn.Sequential(*layers)
