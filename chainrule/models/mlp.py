"""The multilayer perceptron: Flatten, then Linear → ReLU (→ Dropout) blocks, then Linear."""

from __future__ import annotations

from collections.abc import Sequence

from chainrule import nn


def check_positive(model: str, **sizes: object) -> None:
    """Each of ``sizes`` is a positive int, else a ValueError naming the model and the size."""
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{model}: {name} must be a positive int, got {value!r}")


def mlp(
    in_features: int,
    hidden: Sequence[int] = (128, 64),
    num_classes: int = 10,
    dropout: float = 0.0,
) -> nn.Sequential:
    """``Sequential(Flatten(), Linear(in, h1), ReLU(), [Dropout(p)], ..., Linear(h_k, classes))``.

    The output is the logits (no softmax): pair it with ``cross_entropy``.
    Weights are initialised by :class:`chainrule.nn.Linear` from the global
    generator, so ``chainrule.manual_seed`` fixes them.
    """
    sizes = [in_features, *hidden]
    check_positive("mlp", in_features=in_features, num_classes=num_classes,
                   **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout!r}")
    layers: list[nn.Module] = [nn.Flatten()]
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(sizes[-1], num_classes))
    return nn.Sequential(*layers)
