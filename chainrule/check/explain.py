"""Gradient paths: the routes through the graph a gradient flows along, one by one.

By the chain rule, the gradient of an output L with respect to x is a sum over
every path x → v₁ → … → v_k → L in the computation graph of the product of the
local derivatives along it::

    ∂L/∂x = Σ_paths  (∂L/∂v_k)(∂v_k/∂v_{k-1}) ⋯ (∂v₁/∂x)

For tensors the factors are Jacobians, applied from the output backwards as the
engine does: a path's contribution is the upstream gradient pushed through each
node's own ``backward`` along that path's edges only. The engine adds all paths
at once; :func:`explain` keeps them apart. For c = a²(a + b) at a = -1, b = 4::

    >>> report = explain(c, a, output_name="c", wrt_name="a")
    >>> [p.contribution.item() for p in report.paths], report.total.item()
    ([-6.0, 1.0], -5.0)

A path is a chain of graph nodes (one per op that ran), so paths are merged
wherever they pass through the same ops, and each node on a path is entered by
one input slot: ``Mul[1]`` is the path entering a Mul through its second input.
The slot is printed only where a node has more than one input that carries a
gradient, so ``x * x`` has the two paths ``Mul[0]`` and ``Mul[1]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.tensor import Tensor

__all__ = ["GradientPath", "PathReport", "explain"]

#: how many elements of a contribution are printed in full in a table
_SHOWN_ELEMENTS = 6


@dataclass(frozen=True)
class GradientPath:
    """One path from ``wrt`` to the output.

    ``nodes`` are the op names in order from ``wrt`` to the output (``'Mul[1]'``
    when the path enters a Mul by its second input), ``slots`` the input slot
    each node is entered by, ``factors`` the local derivative of each step (a
    number ∂v_{i+1}/∂v_i when both are scalars, else the Jacobian's shapes as
    ``'(3, 4)→(3,)'``), and ``contribution`` (an array of ``wrt``'s shape) the
    upstream gradient pushed back along this path alone.
    """

    nodes: tuple[str, ...]
    slots: tuple[int, ...]
    factors: tuple[float | str, ...]
    contribution: np.ndarray

    @property
    def signature(self) -> tuple[tuple[str, int], ...]:
        """(op, slot) per step: identifies the path in graphs of the same shape."""
        return tuple((node.split("[")[0], slot) for node, slot in zip(self.nodes, self.slots))

    def label(self, wrt_name: str = "x", output_name: str = "L") -> str:
        """The path in words: ``'a → Pow → Mul[0] → c'``."""
        return " → ".join((wrt_name, *self.nodes, output_name))


@dataclass(frozen=True)
class PathReport:
    """Every path from ``wrt`` to ``output``, and ``total``, their sum: the gradient.

    Iterating over a report gives its paths; ``str(report)`` is a table.
    """

    paths: tuple[GradientPath, ...]
    total: np.ndarray
    wrt_name: str
    output_name: str
    wrt_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    upstream: str

    def __iter__(self) -> Iterator[GradientPath]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __str__(self) -> str:
        w, o = self.wrt_name, self.output_name
        head = (f"paths from {w} (shape {self.wrt_shape}) to {o} (shape {self.output_shape}), "
                f"upstream gradient {self.upstream}")
        if not self.paths:
            return f"{head}\nno path: {o} does not depend on {w}, so ∂{o}/∂{w} = 0"
        rows = [(str(i), p.label(w, o), " × ".join(_factor(f) for f in p.factors),
                 _value(p.contribution)) for i, p in enumerate(self.paths, 1)]
        rows.append(("", "total", "", _value(self.total)))
        header = ("#", "path", "local derivatives", "contribution")
        widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
        lines = [head] + ["  ".join(cell.ljust(n) for cell, n in zip(row, widths)).rstrip()
                          for row in [header, *rows]]
        return "\n".join(lines)


def _factor(factor: float | str) -> str:
    return factor if isinstance(factor, str) else f"{factor:g}"


def _value(array: np.ndarray) -> str:
    """A contribution for a table: the number, a short array, or its norm."""
    if array.size == 1:
        return f"{array.item():g}"
    if array.size <= _SHOWN_ELEMENTS:
        return np.array2string(array.ravel(), precision=4, separator=" ")
    return f"‖·‖ = {np.linalg.norm(array):.4g}"


def _graph_freed() -> RuntimeError:
    return RuntimeError(
        "explain: the graph was freed by backward(): call explain() before backward(), "
        "or run backward(retain_graph=True) first"
    )


def _path_counts(root: Function, target: Any) -> dict[Function, int]:
    """For every node from which ``target`` can be reached: the number of paths to it.

    Iterative post-order (graphs may be thousands of ops deep); a node's count is
    the sum over its gradient-carrying inputs of 1 (the target itself) or the
    input node's count.
    """
    counts: dict[Function, int] = {}
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            counts[node] = sum(1 if p is target else counts.get(p, 0) for p in node.parents
                               if isinstance(p, Function) or p is target)
            continue
        if node in counts:
            continue
        if node.inputs is None:
            raise _graph_freed()
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents
                     if isinstance(p, Function) and p is not target and p not in counts)
    return counts


def _input_grads(node: Function, upstream: np.ndarray) -> tuple[Any, ...]:
    """The node's backward, one gradient (or None) per input, as the engine calls it."""
    grads = node.backward(node, upstream)
    return grads if type(grads) is tuple else (grads,)


def _step_factor(node: Function, slot: int, out_shape: tuple[int, ...]) -> float | str:
    """∂(node's output)/∂(its input ``slot``): a number between scalars, else shapes."""
    x = node.inputs[slot]
    if x.data.size == 1 and int(np.prod(out_shape)) == 1:
        g = _input_grads(node, np.ones(out_shape, dtype=x.data.dtype))[slot]
        return 0.0 if g is None else float(np.asarray(g).item())
    return f"{x.data.shape}→{out_shape}"


def _upstream(output: Tensor, grad: Any) -> tuple[np.ndarray, str]:
    if grad is None:
        if output.data.size == 1:
            return np.ones(output.data.shape, dtype=output.data.dtype), "1"
        return np.ones(output.data.shape, dtype=output.data.dtype), "ones (as for out.sum())"
    array = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=output.data.dtype)
    if array.shape != output.data.shape:
        raise ValueError(
            f"explain: grad has shape {array.shape} but output has shape {output.data.shape}"
        )
    return array, "given"


def explain(
    output: Tensor,
    wrt: Tensor,
    *,
    grad: Any = None,
    max_paths: int = 1000,
    output_name: str = "out",
    wrt_name: str = "x",
) -> PathReport:
    """Every path in the recorded graph from ``wrt`` to ``output``, with its local
    derivatives and its contribution; their sum ``.total`` is ∂output/∂wrt.

    ∂L/∂x = Σ_paths Π_steps ∂v_{i+1}/∂v_i  (for tensors: each node's backward,
    applied along that path's edges only).

    ``output`` is a tensor computed from ``wrt``; a non-scalar output is explained for
    the upstream gradient ``grad`` (default: ones, i.e. as for ``output.sum()``).
    ``wrt`` is a leaf that requires grad or an intermediate tensor of the graph.
    Raises ValueError when more than ``max_paths`` paths lead from ``wrt`` to
    ``output`` (they are counted before any is computed): explain a smaller subgraph.

    The graph is read, never changed or freed: call ``output.backward()`` afterwards
    as usual. It must be called before ``backward()`` frees the graph (or after a
    ``backward(retain_graph=True)``). Gradient hooks are not run, and ``.grad`` is not
    touched: the contributions are what the ops' backwards compute.
    """
    if not isinstance(output, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError(
            f"explain: output and wrt must be Tensors, got {type(output).__name__} and "
            f"{type(wrt).__name__}"
        )
    if not isinstance(max_paths, int) or isinstance(max_paths, bool) or max_paths < 1:
        raise ValueError(f"explain: max_paths must be a positive integer, got {max_paths!r}")
    if not wrt.requires_grad:
        raise ValueError(
            f"explain: {wrt_name} does not require grad, so the graph recorded no edge from "
            f"it; create it with requires_grad=True"
        )
    if not output.requires_grad:
        raise ValueError(f"explain: {output_name} does not require grad: it has no graph")
    upstream, described = _upstream(output, grad)
    target = wrt if wrt._ctx is None else wrt._ctx
    root = output._ctx
    report = dict(wrt_name=wrt_name, output_name=output_name, wrt_shape=wrt.data.shape,
                  output_shape=output.data.shape, upstream=described)
    if output is wrt or (root is not None and root is target):
        path = GradientPath((), (), (), upstream)
        return PathReport(paths=(path,), total=upstream.copy(), **report)
    counts = _path_counts(root, target) if root is not None else {}
    found = counts.get(root, 0)
    if found > max_paths:
        raise ValueError(
            f"explain: {found} paths lead from {wrt_name} to {output_name}, more than "
            f"max_paths={max_paths}; explain a smaller subgraph (an output or wrt closer "
            f"together, e.g. an intermediate tensor as wrt) or raise max_paths"
        )
    paths = _enumerate(root, target, upstream, counts) if found else []
    total = np.zeros(wrt.data.shape, dtype=wrt.data.dtype)
    for path in paths:
        total = total + path.contribution
    return PathReport(paths=tuple(paths), total=total, **report)


def _enumerate(
    root: Function, target: Any, upstream: np.ndarray, counts: dict[Function, int],
) -> list[GradientPath]:
    """Depth-first from the root, one backward per node visit: a shared prefix of
    several paths is computed once. Steps are kept as linked (step, previous) pairs,
    so a deep path costs memory linear in its length."""
    paths = []
    stack: list[tuple[Any, np.ndarray, Any]] = [(root, upstream, None)]
    while stack:
        node, g, steps = stack.pop()
        if node is target:  # a whole path: from the root down to wrt
            paths.append(_path(steps, g))
            continue
        grads = _input_grads(node, g)
        carrying = sum(p is not None for p in node.parents)
        for slot in reversed(range(len(node.parents))):  # slot 0 is explored first
            parent = node.parents[slot]
            if not (parent is target or (isinstance(parent, Function) and counts.get(parent))):
                continue
            x = node.inputs[slot]
            gi = grads[slot] if slot < len(grads) else None
            gi = np.zeros(x.data.shape, x.data.dtype) if gi is None else np.asarray(gi)
            if gi.dtype != x.data.dtype:
                gi = gi.astype(x.data.dtype)
            name = type(node).__name__ + (f"[{slot}]" if carrying > 1 else "")
            stack.append((parent, gi, ((name, slot, _step_factor(node, slot, g.shape)), steps)))
    return paths


def _path(steps: Any, contribution: np.ndarray) -> GradientPath:
    """A path from its linked steps (the last one, the one nearest ``wrt``, first)."""
    names, slots, factors = [], [], []
    while steps is not None:
        (name, slot, factor), steps = steps
        names.append(name)
        slots.append(slot)
        factors.append(factor)
    return GradientPath(tuple(names), tuple(slots), tuple(factors), np.array(contribution))
