"""Function: one differentiable primitive, and the engine that runs backward.

A primitive is a subclass of :class:`Function` with two static methods::

    class Exp(Function):
        '''y = e^x        δ_x = δ_y ⊙ y'''
        @staticmethod
        def forward(ctx, x):
            ctx.y = np.exp(x)
            return ctx.y

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.y

``forward`` receives plain NumPy arrays (Tensors are unwrapped, other operands
are passed through) and returns one array. ``backward`` receives the upstream
gradient δ_y and returns one gradient per positional input (a tuple, or a bare
array for a single input); ``None`` stands for "no gradient". ``ctx`` is the
node itself: attributes set in forward are what backward may read, and
``ctx.needs_input_grad[i]`` says whether input ``i`` wants a gradient.

The engine (:func:`run_backward`) sorts the graph iteratively, sums the
gradients that reach a tensor along several paths without ever writing into an
array that an op handed out, checks that every gradient has its input's shape,
and frees each node after use unless ``retain_graph=True``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule import profiler
from chainrule.tensor import Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad`."""
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    """Context manager that switches graph recording on or off."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager in which no graph is recorded (as ``torch.no_grad``)."""
    return set_grad_enabled(False)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the one place broadcasting is undone.

    If y = broadcast(x), each element of x fed every element of y it was
    copied to, so δ_x = Σ over the broadcast axes of δ_y.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    return summed.reshape(shape)


class Function:
    """Base class of every differentiable primitive; an instance is a graph node."""

    inputs: tuple[Any, ...] | None
    needs_input_grad: tuple[bool, ...]

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run forward on the inputs' arrays and, if needed, record the node."""
        ctx = cls.__new__(cls)
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        record = _grad_enabled and True in needs
        ctx.needs_input_grad = needs
        if profiler.active is not None:
            with profiler.active.timing(cls.__name__, "forward"):
                out = cls.forward(ctx, *arrays, **kwargs)
        else:
            out = cls.forward(ctx, *arrays, **kwargs)
        if record:
            ctx.inputs = inputs
            return Tensor._make(out, True, ctx)
        return Tensor._make(out, False, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _owner(array: np.ndarray) -> int:
    """Identity of the memory an array lives in (its base for a view)."""
    base = array.base
    return id(array) if base is None else id(base)


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool) -> None:
    """Back-propagate ``grad`` from ``root`` to every leaf that requires a gradient.

    Kahn's algorithm: count, for every node reachable from the root, how many
    consumers will send it a gradient; a node runs its backward only when all
    of them have, so each gradient is complete before it flows further.
    """
    if root._ctx is None:  # a leaf: the gradient is its own
        _accumulate_leaf(root, grad.copy())
        return
    pending: dict[Function, int] = {root._ctx: 0}
    stack = [root._ctx]
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values "
                "were freed by the first backward(). Call backward(retain_graph=True) "
                "the first time if you need to backward twice."
            )
        for x in node.inputs:
            if isinstance(x, Tensor) and x._ctx is not None and x.requires_grad:
                child = x._ctx
                if child in pending:
                    pending[child] += 1
                else:
                    pending[child] = 1
                    stack.append(child)

    grads: dict[Function, np.ndarray] = {root._ctx: grad}
    owned: set[Function] = set()  # nodes whose gradient buffer the engine allocated
    handed_out: set[int] = {_owner(grad)}  # memory already stored somewhere
    ready = [root._ctx]
    timer = profiler.active
    while ready:
        node = ready.pop()
        upstream = grads.pop(node, None)
        inputs = node.inputs
        if upstream is None:  # no path sent a gradient: its inputs get none either
            input_grads: tuple[Any, ...] = (None,) * len(inputs)
        else:
            input_grads = _call_backward(node, upstream, timer)
        for x, g, need in zip(inputs, input_grads, node.needs_input_grad):
            if not need:
                continue
            child = x._ctx
            if g is not None:
                g = _checked(node, x, g)
                if child is None:
                    key = _owner(g)
                    if key in handed_out or not g.flags.writeable:
                        g = g.copy()
                    else:
                        handed_out.add(key)
                    _accumulate_leaf(x, g)
                elif child in grads:
                    if child in owned:
                        grads[child] += g
                    else:
                        grads[child] = grads[child] + g
                        owned.add(child)
                else:
                    grads[child] = g
                    handed_out.add(_owner(g))
            if child is not None:
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
        if not retain_graph:
            node.__dict__.clear()
            node.inputs = None


def _call_backward(node: Function, upstream: np.ndarray, timer: Any) -> tuple[Any, ...]:
    if timer is not None:
        with timer.timing(type(node).__name__, "backward"):
            input_grads = node.backward(node, upstream)
    else:
        input_grads = node.backward(node, upstream)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) != len(node.inputs):
        raise RuntimeError(
            f"{type(node).__name__}.backward returned {len(input_grads)} gradients "
            f"for {len(node.inputs)} inputs"
        )
    return input_grads


def _checked(node: Function, x: Tensor, g: np.ndarray) -> np.ndarray:
    """Assert the gradient's shape (a wrong backward is caught at its op); match dtype."""
    if g.shape != x.data.shape:
        raise RuntimeError(
            f"{type(node).__name__}.backward returned a gradient of shape "
            f"{g.shape} for an input of shape {x.data.shape}"
        )
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    return g


def _accumulate_leaf(leaf: Tensor, g: np.ndarray) -> None:
    """Leaves accumulate: ``leaf.grad += g`` until ``zero_grad()`` (PyTorch's rule)."""
    if leaf.grad is None:
        leaf.grad = g
    else:
        leaf.grad = leaf.grad + g
