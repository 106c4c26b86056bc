"""Pictures of the computation graph: :func:`draw_graph` returns a :class:`Graph`.

>>> loss = F.cross_entropy(model(x), y)                                # doctest: +SKIP
>>> g = draw_graph(loss, params=dict(model.named_parameters()))       # doctest: +SKIP
>>> loss.backward()                                                   # doctest: +SKIP
>>> g.render("graph.svg")      # or just `g` as the last line of a Jupyter cell

One box per op (its name, the shape and dtype of what it computed), one per
leaf tensor that requires a gradient (named from ``params``), and a dashed one
per tensor input that needs none (data, targets). Edges point the way data
flows, from an op's inputs to the op. After ``backward()`` each leaf, and each
tensor that kept its gradient (``retain_grad()``), shows ‖grad‖ = √(Σ grad²).

The graph is read when :func:`draw_graph` is called, and the gradients when the
picture is made: so draw it before ``backward()`` (which frees the graph unless
``retain_graph=True``) and look at it after. ``Graph.source`` is the DOT text and
needs nothing; SVG and PNG go through the ``graphviz`` Python package and the
Graphviz program ``dot`` (``pip install "chainrule[viz]"``, ``apt install
graphviz``); without them rendering raises :class:`GraphvizNotFound` saying how
to install what is missing, and Jupyter shows the DOT text instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.function import Function
from chainrule.io import atomic_write
from chainrule.tensor import Tensor

__all__ = ["Graph", "GraphNode", "GraphvizNotFound", "draw_graph"]

FORMATS = ("svg", "png")

INSTALL = (
    'install the package with pip install "chainrule[viz]" (or pip install graphviz) and '
    "the Graphviz program dot with apt install graphviz (Debian/Ubuntu), brew install "
    "graphviz (macOS) or conda install -c conda-forge graphviz; Graph.source holds the "
    "DOT text, which needs neither"
)

_FILL = {"op": "#e8e8e8", "leaf": "#bfdcf5", "constant": "#ffffff", "output": "#c8e6a0"}


class GraphvizNotFound(RuntimeError):
    """Rendering needs the ``graphviz`` Python package and the Graphviz program ``dot``."""


@dataclass(frozen=True)
class GraphNode:
    """One box of the picture.

    ``kind`` is ``'op'`` (a Function node: ``name`` is its class, ``tensor`` what it
    computed), ``'leaf'`` (a tensor that requires a gradient) or ``'constant'`` (a
    tensor input that needs none); ``name`` of a tensor is its key in ``params`` or
    ``''``. ``output`` marks the tensors :func:`draw_graph` was given.
    """

    id: str
    kind: str
    name: str
    tensor: Tensor
    output: bool = False

    @property
    def grad_norm(self) -> float | None:
        """‖grad‖ = √(Σ grad²) of the tensor's ``.grad`` now (float64), or None without one."""
        grad = self.tensor.grad
        if grad is None:
            return None
        return float(np.linalg.norm(grad.data.astype(np.float64).ravel()))

    def label(self, show_grads: bool) -> str:
        """The lines of the box: name, shape and dtype, ‖grad‖ when known."""
        t = self.tensor
        shape = "scalar" if t.ndim == 0 else str(tuple(t.shape))
        lines = [self.name] if self.name else []
        lines.append(f"{shape} {t.dtype}")
        norm = self.grad_norm if show_grads else None
        if norm is not None:
            lines.append(f"‖grad‖ {norm:.6g}")
        return "\n".join(lines)


class Graph:
    """The computation graph behind some tensors: :attr:`source` (DOT), :meth:`render`.

    ``nodes`` are the boxes (:class:`GraphNode`) in the order they were found,
    walking from the outputs towards the leaves; ``edges`` are ``(from_id, to_id)``
    pairs, from an input to the op that used it (twice if used twice).
    """

    def __init__(self, nodes: list[GraphNode], edges: list[tuple[str, str]],
                 show_grads: bool = True, format: str = "svg") -> None:
        self.nodes, self.edges = nodes, edges
        self.show_grads, self.format = show_grads, _format(format, "Graph")

    @property
    def source(self) -> str:
        """The graph in the DOT language (Graphviz), gradients as they are now."""
        kinds = {node.id: node.kind for node in self.nodes}
        lines = [
            "digraph chainrule {",
            '  graph [rankdir=TB, fontname="Helvetica"];',
            '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
            '  edge [arrowsize=0.7];',
        ]
        for node in self.nodes:
            fill = _FILL["output" if node.output else node.kind]
            style = ', style="rounded,filled,dashed"' if node.kind == "constant" else ""
            shape = ", shape=ellipse" if node.kind != "op" else ""
            label = _escape(node.label(self.show_grads))
            lines.append(f'  {node.id} [label="{label}", fillcolor="{fill}"'
                         f"{shape}{style}];")
        for start, end in self.edges:
            style = " [style=dashed]" if kinds[start] == "constant" else ""
            lines.append(f"  {start} -> {end}{style};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def pipe(self, format: str | None = None) -> bytes:
        """The picture as bytes (``'svg'`` or ``'png'``; default :attr:`format`), drawn by
        Graphviz's ``dot``. Raises :class:`GraphvizNotFound` without graphviz."""
        format = self.format if format is None else _format(format, "Graph.pipe")
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotFound(
                f"Graph: rendering needs the Graphviz program dot, which is not on the PATH: "
                f"{INSTALL}"
            ) from exc

    def render(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the picture to ``path`` and return the path written.

        The format is ``format``, else the suffix of ``path`` (``.svg``/``.png``), else
        :attr:`format`; a path without a suffix gets one. The file is written atomically.
        """
        path = Path(path)
        suffix = path.suffix.lower().lstrip(".")
        if format is not None:
            format = _format(format, "Graph.render")
            if suffix in FORMATS and suffix != format:
                raise ValueError(f"Graph.render: format={format!r} but the path {str(path)!r} "
                                 f"ends in .{suffix}")
        else:
            format = suffix if suffix in FORMATS else self.format
        if suffix not in FORMATS:
            path = path.with_name(f"{path.name}.{format}")
        atomic_write(path, self.pipe(format))
        return path

    def _repr_svg_(self) -> str | None:
        """Jupyter's inline picture (None, hence the text, where graphviz is missing)."""
        try:
            return self.pipe("svg").decode("utf-8")
        except GraphvizNotFound:
            return None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """The SVG and a text version; only the DOT text (and why) without graphviz."""
        try:
            svg = self.pipe("svg").decode("utf-8")
        except GraphvizNotFound as exc:
            return {"text/plain": f"{exc}\n\n{self.source}"}
        return {"image/svg+xml": svg, "text/plain": repr(self)}

    def __repr__(self) -> str:
        counts = {kind: sum(node.kind == kind for node in self.nodes)
                  for kind in ("op", "leaf", "constant")}
        return (f"Graph({counts['op']} ops, {counts['leaf']} leaves requiring grad, "
                f"{counts['constant']} constant inputs)")


def draw_graph(
    output: Tensor | Sequence[Tensor],
    params: Mapping[str, Tensor] | None = None,
    *,
    format: str | None = None,
    path: str | os.PathLike | None = None,
    show_grads: bool = True,
) -> Graph:
    """The computation graph behind ``output`` (a tensor or a sequence of them).

    ``params`` names tensors, as torchviz's ``make_dot``: pass
    ``dict(model.named_parameters())`` to label a model's weights (any tensor may be
    named, an input or an intermediate result too). ``format`` (``'svg'``, the
    default, or ``'png'``) is what :meth:`Graph.render` and :meth:`Graph.pipe` make;
    with ``path`` the picture is also written there at once. ``show_grads=False``
    leaves out the gradient norms.
    """
    outputs = [output] if isinstance(output, Tensor) else output
    if not isinstance(outputs, Sequence) or not outputs or \
            not all(isinstance(t, Tensor) for t in outputs):
        raise TypeError(f"draw_graph: output must be a Tensor or a non-empty sequence of "
                        f"Tensors, got {_describe(output)}")
    names = _names(params)
    graph = Graph(*_walk(outputs, names), show_grads=show_grads,
                  format="svg" if format is None else _format(format, "draw_graph"))
    if path is not None:
        graph.render(path)
    return graph


def _walk(outputs: Sequence[Tensor], names: Mapping[int, str]
          ) -> tuple[list[GraphNode], list[tuple[str, str]]]:
    """Every node reachable from ``outputs`` (iteratively: graphs may be deep) and the
    edges between them."""
    nodes: list[GraphNode] = []
    edges: list[tuple[str, str]] = []
    ids: dict[int, str] = {}  # id of a Function node or a leaf tensor -> its box
    keep: list[Any] = []  # what the ids belong to, alive for as long as the walk runs
    stack: list[Function] = []

    def box(key: Any, kind: str, name: str, tensor: Tensor, output: bool = False) -> str:
        found = ids.get(id(key))
        if found is None:
            found = ids[id(key)] = f"n{len(nodes)}"
            keep.append(key)
            nodes.append(GraphNode(found, kind, name, tensor, output))
            if kind == "op":
                stack.append(key)
        return found

    for t in outputs:
        if t._ctx is None:
            box(t, "leaf" if t.requires_grad else "constant", names.get(id(t), ""), t, True)
        else:
            box(t._ctx, "op", _op_name(t._ctx, t, names), t, True)
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise RuntimeError(
                f"draw_graph: the graph behind output was freed by backward() (at "
                f"{type(node).__name__}); call draw_graph before backward(), the picture "
                f"shows the gradients once backward() has run, or backward(retain_graph=True)"
            )
        end = ids[id(node)]
        for x, parent in zip(node.inputs, node.parents):
            if parent is None:
                if not isinstance(x, Tensor):
                    continue  # a number or an array operand: no box
                start = box(x, "constant", names.get(id(x), ""), x)
            elif isinstance(parent, Tensor):
                start = box(parent, "leaf", names.get(id(parent), ""), parent)
            else:
                start = box(parent, "op", _op_name(parent, x, names), x)
            edges.append((start, end))
    return nodes, edges


def _op_name(node: Function, result: Tensor, names: Mapping[int, str]) -> str:
    """The op's class name, and ``→ name`` where ``params`` named the tensor it computed."""
    name = names.get(id(result))
    return type(node).__name__ + (f" → {name}" if name else "")


def _names(params: Mapping[str, Tensor] | None) -> dict[int, str]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise TypeError(f"draw_graph: params must be a mapping name -> Tensor such as "
                        f"dict(model.named_parameters()), got {_describe(params)}")
    names = {}
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: params[{name!r}] must be a Tensor, got "
                            f"{_describe(t)}")
        names[id(t)] = str(name)
    return names


def _format(format: str, caller: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"{caller}: format must be 'svg' or 'png', got {format!r}")
    return format


def _graphviz() -> Any:
    try:
        import graphviz
    except ImportError as exc:
        raise GraphvizNotFound(
            f"Graph: rendering needs the graphviz Python package, which is not installed: "
            f"{INSTALL}"
        ) from exc
    return graphviz


def _escape(text: str) -> str:
    """``text`` inside a DOT string: backslashes and quotes escaped, newlines as ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
