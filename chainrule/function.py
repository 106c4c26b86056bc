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
import functools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

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


class Observer:
    """Watches the engine at work, without the engine knowing what for (a profiler,
    gradient-flow statistics, a graph explainer). Override what you need:

    - ``forward(op, run)``: wraps one op's forward; must return ``run()``'s result;
    - ``backward(node, run)``: wraps one node's backward; must return ``run()``'s result;
    - ``gradient(node, index, grad)``: sees δ for input ``index`` of ``node`` as it is
      computed (an array; read it, never change it).

    Install one with :func:`observe`. With none installed the engine pays one
    falsy check per op and per node.
    """

    def forward(self, op: type[Function], run: Callable[[], Any]) -> Any:
        return run()

    def backward(self, node: Function, run: Callable[[], Any]) -> Any:
        return run()

    def gradient(self, node: Function, index: int, grad: np.ndarray) -> None:
        return None


_observers: tuple[Observer, ...] = ()


def add_observer(observer: Observer) -> None:
    """Let ``observer`` watch the engine from now on (see :func:`observe` for a block)."""
    global _observers
    _observers = (*_observers, observer)


def remove_observer(observer: Observer) -> None:
    global _observers
    _observers = tuple(o for o in _observers if o is not observer)


@contextlib.contextmanager
def observe(observer: Observer) -> Iterator[Observer]:
    """Let ``observer`` watch every forward, backward and gradient inside the block."""
    add_observer(observer)
    try:
        yield observer
    finally:
        remove_observer(observer)


def _observed(method: str, subject: Any, run: Callable[[], Any]) -> Any:
    """``run`` wrapped by every observer's ``forward`` or ``backward``, first one outermost."""
    for observer in reversed(_observers):
        run = _wrapped(getattr(observer, method), subject, run)
    return run()


def _wrapped(wrap: Callable[..., Any], subject: Any, run: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: wrap(subject, run)


#: gradient hooks (``Tensor.register_hook``) by the id of their owner -- a leaf
#: tensor, or a non-leaf's node -- for as long as the owner lives
grad_hooks: dict[int, dict[int, Callable[[Tensor], Any]]] = {}


def hooks_for(owner: Any) -> dict[int, Callable[[Tensor], Any]]:
    """The (new or existing) hook table of ``owner``, dropped when ``owner`` dies."""
    table = grad_hooks.get(id(owner))
    if table is None:
        table = grad_hooks[id(owner)] = {}
        weakref.finalize(owner, grad_hooks.pop, id(owner), None)
    return table


def _run_hooks(owner: Any, grad: np.ndarray) -> np.ndarray:
    """δ after the hooks registered on ``owner``: each may return a replacement."""
    hooks = grad_hooks.get(id(owner), {}).values()
    for hook in sorted(hooks, key=lambda h: getattr(h, "runs_last", False)):  # retain_grad
        result = hook(Tensor._make(grad, False, None))
        if result is not None:
            replacement = result.data if isinstance(result, Tensor) else np.asarray(result)
            if replacement.shape != grad.shape:
                raise RuntimeError(
                    f"a gradient hook returned shape {replacement.shape} for a gradient of "
                    f"shape {grad.shape}"
                )
            grad = np.array(replacement, dtype=grad.dtype)  # our own copy
    return grad


class SavedTensorModified(RuntimeError):
    """A value saved for backward was changed in place before ``backward()`` used it."""


class Function:
    """Base class of every differentiable primitive; an instance is a graph node.

    A node keeps, per input, the edge its gradient flows along (``parents``: the
    input's own node, the leaf tensor itself, or None when no gradient is
    needed), captured when the op ran, so an in-place change that later gives an
    input a new node does not re-route this one.
    """

    #: True for ops whose output is a view of input 0 (shares its memory and version)
    is_view = False

    inputs: tuple[Any, ...] | None
    parents: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> Any:
        raise NotImplementedError

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward, as ``torch``: an input or the output saved here is
        checked at ``backward()`` to be unchanged by any in-place operation since."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The arrays given to :meth:`save_for_backward`, after checking their versions."""
        for counter, version, which in self.__dict__.get("_saved_versions", ()):
            if counter.n != version:
                raise SavedTensorModified(self._modified_message(counter.n, version, which))
        return self._saved

    def _modified_message(self, now: int, then: int, which: int) -> str:
        name = type(self).__name__
        if which < 0:
            what = "its output"
        else:
            x = self.inputs[which]
            what = f"input {which} (shape {x.shape}, {x.dtype})"
        return (
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {what} of {name} is at version {now}; {name} saved it at "
            f"version {then}. Change it after backward(), or give the op a .clone() of it."
        )

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        """Run forward on the inputs' arrays and, if needed, record the node."""
        ctx = cls.__new__(cls)
        arrays = []
        needs = []
        any_needs = False
        for x in inputs:
            if isinstance(x, Tensor):
                if x._base is not None:
                    refresh_view(x)
                arrays.append(x.data)
                needs.append(x.requires_grad)
                any_needs = any_needs or x.requires_grad
            else:
                arrays.append(x)
                needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        record = any_needs and _grad_enabled
        if _observers:
            out = _observed("forward", cls, lambda: cls.forward(ctx, *arrays, **kwargs))
        else:
            out = cls.forward(ctx, *arrays, **kwargs)
        if not record:
            result = Tensor._make(out, False, None)
            if cls.is_view:
                make_view(result, inputs[0], (cls, inputs[1:], kwargs))
            return result
        result = Tensor._make(out, True, ctx)
        if cls.is_view:
            make_view(result, inputs[0], (cls, inputs[1:], kwargs))
        ctx.inputs = inputs
        ctx.parents = tuple([(x._ctx or x) if need else None for x, need in zip(inputs, needs)])
        saved = ctx.__dict__.get("_saved")
        if saved:
            ctx._saved_versions = _versions(saved, inputs, arrays, result)
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"


def _versions(
    saved: tuple[Any, ...], inputs: tuple[Any, ...], arrays: list[Any], result: Tensor,
) -> list[tuple[_Version, int, int]]:
    """(version counter, its value now, which: input index or -1 for the output) of each
    saved array that is an input's or the output's memory."""
    found = []
    for a in saved:
        if isinstance(a, np.ndarray):
            which = _which(a, inputs, arrays, result)
            if which is not None:
                t = result if which < 0 else inputs[which]
                counter = version_counter(t)
                found.append((counter, counter.n, which))
    return found


def _which(a: np.ndarray, inputs: tuple[Any, ...], arrays: list[Any], result: Tensor) -> int | None:
    """-1 if ``a`` is (a view of) the output's array, i if input i's, else None."""
    if a is result.data:
        return -1
    for i, arr in enumerate(arrays):
        if a is arr and isinstance(inputs[i], Tensor):
            return i
    if a.base is None:
        return None
    if np.may_share_memory(a, result.data):
        return -1
    for i, arr in enumerate(arrays):
        if isinstance(inputs[i], Tensor) and np.may_share_memory(a, arr):
            return i
    return None


class _Version:
    """A tensor's version: bumped by every in-place change, shared with its views."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


def version_counter(t: Tensor) -> _Version:
    """The version counter of ``t`` (made on first use)."""
    counter = t._vc
    if counter is None:
        counter = t._vc = _Version()
    return counter


def bump_version(t: Tensor) -> None:
    """Record an in-place change of ``t`` (and so of every view of its memory)."""
    version_counter(t).n += 1


def make_view(view: Tensor, source: Tensor, step: tuple[Any, ...]) -> None:
    """Mark ``view`` as a view of ``source``: one version counter, one root base,
    and the chain of view ops from the base, to rebuild its node after the base
    changes in place."""
    if not isinstance(source, Tensor) or not np.may_share_memory(view.data, source.data):
        return
    view._vc = version_counter(source)
    if source._base is None:
        view._base, view._view_chain = source, (step,)
    else:
        view._base, view._view_chain = source._base, (*source._view_chain, step)
    view._view_of_ctx = view._base._ctx


def refresh_view(view: Tensor) -> None:
    """After an in-place change gave the base a new node, re-derive the view's node
    from it (as torch regenerates a view's grad_fn)."""
    base = view._base
    if view._view_of_ctx is base._ctx or not _grad_enabled:
        return
    rebuilt = base
    for cls, args, kwargs in view._view_chain:
        rebuilt = cls.apply(rebuilt, *args, **kwargs)
    view._ctx = rebuilt._ctx
    view.requires_grad = rebuilt.requires_grad
    view._view_of_ctx = base._ctx


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
        for parent in node.parents:
            if parent is not None and not isinstance(parent, Tensor):
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    stack.append(parent)

    grads: dict[Function, np.ndarray] = {root._ctx: grad}
    owned: set[Function] = set()  # nodes whose gradient buffer the engine allocated
    handed_out: set[int] = {_owner(grad)}  # memory already stored somewhere
    hooked_leaves: dict[Tensor, np.ndarray] = {}  # leaves with hooks see their total δ
    ready = [root._ctx]
    observers = _observers
    while ready:
        node = ready.pop()
        upstream = grads.pop(node, None)
        inputs = node.inputs
        if upstream is not None and grad_hooks and id(node) in grad_hooks:
            upstream = _run_hooks(node, upstream)
        if upstream is None:  # no path sent a gradient: its inputs get none either
            input_grads: Any = (None,) * len(inputs)
        elif not observers:
            input_grads = node.backward(node, upstream)
        else:
            input_grads = _observed("backward", node,
                                    functools.partial(node.backward, node, upstream))
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(inputs):
            raise RuntimeError(
                f"{type(node).__name__}.backward returned {len(input_grads)} gradients "
                f"for {len(inputs)} inputs"
            )
        for index, (x, g, parent) in enumerate(zip(inputs, input_grads, node.parents)):
            if parent is None:
                continue
            if g is not None:
                if g.shape != x.data.shape or g.dtype != x.data.dtype:
                    g = _checked(node, x, g)
                for observer in observers:
                    observer.gradient(node, index, g)
                base = g.base
                key = id(g) if base is None else id(base)  # the memory g lives in
                if isinstance(parent, Tensor):  # a leaf that requires grad: it keeps g
                    if grad_hooks and id(parent) in grad_hooks:  # summed first, as torch
                        total = hooked_leaves.get(parent)
                        hooked_leaves[parent] = g if total is None else total + g
                        continue
                    if key in handed_out or (base is not None and not g.flags.writeable):
                        g = g.copy()
                    else:
                        handed_out.add(key)
                    _accumulate_leaf(parent, g)
                    continue
                if parent in grads:
                    if parent in owned:
                        grads[parent] += g
                    else:
                        grads[parent] = grads[parent] + g
                        owned.add(parent)
                else:
                    grads[parent] = g
                    handed_out.add(key)
            elif isinstance(parent, Tensor):
                continue
            pending[parent] -= 1
            if pending[parent] == 0:
                ready.append(parent)
        if not retain_graph:
            node.__dict__.clear()
            node.inputs = None
    for leaf, total in hooked_leaves.items():
        _accumulate_leaf(leaf, _run_hooks(leaf, np.array(total)))


def _owner(array: np.ndarray) -> int:
    """Identity of the memory an array lives in (its base for a view)."""
    base = array.base
    return id(array) if base is None else id(base)


def _checked(node: Function, x: Tensor, g: np.ndarray) -> np.ndarray:
    """A gradient whose shape or dtype is not its input's: a wrong shape is a wrong
    backward, caught at its op; a dtype is matched."""
    if g.shape != x.data.shape:
        raise RuntimeError(
            f"{type(node).__name__}.backward returned a gradient of shape "
            f"{g.shape} for an input of shape {x.data.shape}"
        )
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)
    return g


def _accumulate_leaf(leaf: Tensor, g: np.ndarray) -> None:
    """Leaves accumulate: ``leaf.grad += g`` until ``zero_grad()`` (PyTorch's rule).

    ``g`` is owned by the engine and becomes ``leaf.grad``'s array; a later one is
    added out of place (the engine may still hold the old array), and the sum
    becomes the same ``leaf.grad`` tensor's new array.
    """
    current = leaf._grad
    if current is None:
        leaf._grad = Tensor._make(g, False, None)
    else:
        current.data = current.data + g
