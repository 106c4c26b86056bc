"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils``.

- ``clip_grad_norm_``: if the total norm ‖g‖ = (Σ_p ‖g_p‖^q)^(1/q) of all the
  gradients exceeds ``max_norm``, scale every gradient by max_norm / (‖g‖ + 1e-6).
- ``clip_grad_value_``: clip every gradient element into [-clip_value, clip_value].
- ``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one
  flat vector and back.

Clipping changes ``.grad`` in place and records no graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from chainrule.factory import from_numpy
from chainrule.function import no_grad
from chainrule.ops.shape import cat
from chainrule.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def _listed(parameters: Tensor | Iterable[Tensor], caller: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{caller}: expected Tensors, got {type(p).__name__}")
    return params


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients so that their total ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm before clipping (a 0-d tensor), as torch.
    """
    grads = [p.grad.data for p in _listed(parameters, "clip_grad_norm_") if p.grad is not None]
    if not grads:
        return from_numpy(np.zeros((), dtype=np.float32))
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max(initial=0.0)) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type))
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped; pass error_if_nonfinite=False to go on"
        )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for g in grads:
            g *= coefficient
    return from_numpy(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _listed(parameters, "clip_grad_value_"):
        if p.grad is not None:
            p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    return cat([p.reshape(-1) for p in _listed(parameters, "parameters_to_vector")])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place."""
    params = _listed(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: expected a vector of {total} elements, got shape {vec.shape}"
        )
    start = 0
    with no_grad():
        for p in params:
            p.copy_(vec[start:start + p.numel()].reshape(p.shape))
            start += p.numel()
