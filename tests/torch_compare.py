"""Run the same function on chainrule and on PyTorch and compare everything.

``assert_matches_torch(fn_cr, fn_torch, *arrays)`` builds float64 leaves from
the arrays (floating arrays require a gradient, integer ones do not), runs both
functions, compares the outputs, then back-propagates the same *random*
upstream gradient R through ``(out * R).sum()`` and compares every input
gradient. A plain ``out.sum()`` would hide wrong backwards of softmax and the
normalisations, whose input gradient of a sum is zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import chainrule as cr

torch.set_num_threads(1)


def _leaves(arrays: Sequence[Any], make: Callable[[Any, bool], Any]) -> list[Any]:
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating):
            out.append(make(a.astype(np.float64), True))
        elif isinstance(a, np.ndarray):
            out.append(make(a, False))
        else:
            out.append(a)  # scalars and options pass through unchanged
    return out


def assert_matches_torch(
    fn_cr: Callable[..., Any],
    fn_torch: Callable[..., Any],
    *arrays: Any,
    rtol: float = 1e-7,
    atol: float = 1e-10,
    seed: int = 0,
) -> None:
    """Forward outputs and all input gradients of the two functions agree."""
    cr_in = _leaves(arrays, lambda a, g: cr.tensor(a, requires_grad=g))
    t_in = _leaves(arrays, lambda a, g: torch.tensor(a, requires_grad=g))
    out_cr = fn_cr(*cr_in)
    out_t = fn_torch(*t_in)
    np.testing.assert_allclose(
        out_cr.data, out_t.detach().numpy(), rtol=rtol, atol=atol, err_msg="forward"
    )
    assert out_cr.dtype == np.float64, f"output dtype {out_cr.dtype}, expected float64"
    upstream = np.random.default_rng(seed).standard_normal(out_cr.shape)
    if not out_cr.requires_grad:
        return
    (out_cr * upstream).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()
    for i, (a, b) in enumerate(zip(cr_in, t_in)):
        if isinstance(a, cr.Tensor) and a.requires_grad:
            assert a.grad is not None, f"input {i}: chainrule gave no gradient"
            expected = b.grad.numpy() if b.grad is not None else np.zeros_like(a.data)
            assert a.grad.shape == a.shape
            np.testing.assert_allclose(
                a.grad, expected, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}"
            )
