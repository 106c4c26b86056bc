"""A Keras/torchsummary-style table of a model's layers, output shapes and parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.factory import from_numpy
from chainrule.function import no_grad
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

BATCH_SIZE = 2  # batch used for the forward pass (2, so BatchNorm-style layers work)


@dataclass(frozen=True)
class LayerRow:
    """One call of a layer: its qualified name, type, output shape and own parameters.

    ``params`` is None for the second and later calls of a reused layer (its
    parameters are counted once, at its first call).
    """

    name: str
    type: str
    output_shape: Any
    params: int | None


@dataclass(frozen=True)
class Summary:
    """What :func:`summary` returns; ``str()`` (and the repr) is the table."""

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    input_shape: Any

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer (type)", "Output Shape", "Param #")
        cells = [
            (
                f"{row.name} ({row.type})" if row.name else row.type,
                _format_shape(row.output_shape),
                "--" if row.params is None else f"{row.params:,}",
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(3)]
        width = sum(widths) + 6

        def line(cols: Sequence[str]) -> str:
            return f"{cols[0]:<{widths[0]}}   {cols[1]:<{widths[1]}}   {cols[2]:>{widths[2]}}"

        return "\n".join(
            [
                "=" * width,
                line(header),
                "=" * width,
                *(line(c) for c in cells),
                "=" * width,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                "=" * width,
            ]
        )

    __repr__ = __str__


def _format_shape(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(_format_shape(s) for s in shape)
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _output_shape(output: Any) -> Any:
    """Shape with the batch dimension shown as -1 (a list for several outputs)."""
    if isinstance(output, Tensor):
        shape = list(output.shape)
        if shape and shape[0] == BATCH_SIZE:
            shape[0] = -1
        return tuple(shape)
    if isinstance(output, (tuple, list)):
        return [_output_shape(o) for o in output]
    return ()


def _is_shape(shape: Any) -> bool:
    return isinstance(shape, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in shape
    )


def summary(model: Module, input_shape: Sequence[Any], dtype: Any = np.float32) -> Summary:
    """Run ``model`` once on zeros and tabulate every layer it calls.

    ``input_shape`` is one sample's shape WITHOUT the batch dimension, e.g.
    ``(1, 8, 8)`` for 8×8 grey images (as torchsummary); a list of shapes for a
    model taking several inputs. The pass uses a batch of 2 (shown as -1 in
    the table) in eval mode under ``no_grad``, so running statistics, RNG
    state and gradients are untouched; each module's training flag is
    restored afterwards.

    A row is a leaf module (or one with parameters of its own) each time it is
    called; "Param #" counts its own parameters once. Totals count every
    parameter of ``model`` once (shared ones once), as
    ``sum(p.numel() for p in model.parameters())``; non-trainable ones are the
    frozen parameters (``requires_grad=False``).
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a chainrule.nn.Module, got {type(model).__name__}")
    shapes = [input_shape] if _is_shape(input_shape) else input_shape
    if not isinstance(shapes, (tuple, list)) or not shapes or not all(map(_is_shape, shapes)):
        raise ValueError(
            f"summary: input_shape must be a tuple of positive ints without the batch "
            f"dimension (e.g. (1, 8, 8)) or a list of such tuples, got {input_shape!r}"
        )
    inputs = [from_numpy(np.zeros((BATCH_SIZE, *shape), dtype=dtype)) for shape in shapes]

    rows: list[LayerRow] = []
    counted: set[int] = set()

    def record(name: str) -> Any:
        def hook(module: Module, args: tuple[Any, ...], output: Any) -> None:
            params = None
            if id(module) not in counted:
                counted.add(id(module))
                params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(LayerRow(name, type(module).__name__, _output_shape(output), params))

        return hook

    modes = [(module, module.training) for module in model.modules()]
    handles = [
        module.register_forward_hook(record(name))
        for name, module in model.named_modules()
        if next(module.children(), None) is None
        or next(module.parameters(recurse=False), None) is not None
    ]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in modes:
            module.training = mode

    params = list(model.parameters())
    return Summary(
        rows=rows,
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        input_shape=input_shape,
    )
