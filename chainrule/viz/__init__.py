"""Pictures of what happens inside: the computation graph (:func:`draw_graph`).

>>> from chainrule.viz import draw_graph
>>> g = draw_graph(loss, params=dict(model.named_parameters()))   # doctest: +SKIP
>>> print(g.source)                  # DOT text, no dependency   # doctest: +SKIP
>>> g.render("graph.png")            # needs graphviz            # doctest: +SKIP
"""

from chainrule.viz.graph import Graph, GraphNode, GraphvizNotFound, draw_graph

__all__ = ["Graph", "GraphNode", "GraphvizNotFound", "draw_graph"]
