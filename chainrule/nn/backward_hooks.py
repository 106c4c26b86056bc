"""Module backward hooks (``register_full_backward_hook``), with torch's semantics.

A module with backward hooks runs its forward on watched inputs and returns a
watched output: each watch is an identity node (y = x, δ_x = δ_y) that tells the
hooks' state what gradient passed. When the gradients with respect to every
tensor input that requires grad are known, each hook is called as
``hook(module, grad_input, grad_output)``; if no input requires grad it is
called as soon as ``grad_output`` is known, with ``grad_input`` all None. A hook
may return a replacement ``grad_input`` (a module with one tensor input only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.function import Function, is_grad_enabled
from chainrule.tensor import Tensor

BackwardHook = Callable[[Any, tuple[Any, ...], tuple[Any, ...]], Any]


class _HookState:
    """The gradients seen around one call of a module, and when to call its hooks."""

    def __init__(self, module: Any, hooks: list[BackwardHook], n_inputs: int) -> None:
        self.module, self.hooks = module, hooks
        self.grad_input: list[Any] = [None] * n_inputs
        self.grad_output: tuple[Any, ...] = (None,)
        self.pending = 0  # inputs whose gradient has not arrived yet

    def fire(self) -> tuple[Any, ...]:
        grad_input = tuple(self.grad_input)
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result)
                if len(result) != len(grad_input):
                    raise RuntimeError(
                        f"a backward hook of {type(self.module).__name__} returned "
                        f"{len(result)} gradients for {len(grad_input)} inputs"
                    )
                grad_input = result
        return grad_input


class WatchOutput(Function):
    """y = x (a module's output)     δ_x = δ_y, shown to the module's backward hooks"""

    is_view = True

    @staticmethod
    def forward(ctx, x, state):
        ctx.state = state
        return x

    @staticmethod
    def backward(ctx, grad):
        state = ctx.state
        state.grad_output = (Tensor._make(grad, False, None),)
        if state.pending == 0:
            state.fire()
        return grad


class WatchInput(Function):
    """y = x (a module's input)     δ_x = δ_y, or what the module's backward hooks return"""

    is_view = True

    @staticmethod
    def forward(ctx, x, state, index):
        ctx.state, ctx.index = state, index
        return x

    @staticmethod
    def backward(ctx, grad):
        state = ctx.state
        state.grad_input[ctx.index] = Tensor._make(grad, False, None)
        state.pending -= 1
        if state.pending:
            return grad
        original = tuple(state.grad_input)
        replaced = state.fire()
        if any(r is not o for r, o in zip(replaced, original)):
            if len(original) != 1:
                raise RuntimeError(
                    f"a backward hook of {type(state.module).__name__} replaced grad_input, "
                    f"which chainrule supports for modules with one tensor input only"
                )
            new = replaced[ctx.index]
            return np.zeros_like(grad) if new is None else np.asarray(
                new.data if isinstance(new, Tensor) else new, dtype=grad.dtype)
        return grad


def call_with_backward_hooks(module: Any, hooks: list[BackwardHook], args: tuple[Any, ...],
                             run: Callable[..., Any]) -> Any:
    """``run(*args)`` with the tensor inputs and the output watched for ``hooks``."""
    if not is_grad_enabled():
        return run(*args)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    state = _HookState(module, hooks, len(positions))
    watched = list(args)
    for slot, i in enumerate(positions):
        if args[i].requires_grad:
            watched[i] = WatchInput.apply(args[i], state=state, index=slot)
            state.pending += 1
    output = run(*watched)
    if isinstance(output, Tensor) and output.requires_grad:
        output = WatchOutput.apply(output, state=state)
    return output
