"""draw_graph: the DOT text names every op, leaf and gradient norm; pictures are valid files."""

import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.viz import GraphvizNotFound, draw_graph

F = cr.nn.functional

NODE = re.compile(r'^  (n\d+) \[label="(.*?)", fillcolor="[^"]+"(.*)\];$', re.M)
EDGE = re.compile(r"^  (n\d+) -> (n\d+)", re.M)


def _model_and_loss():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    x = cr.randn(5, 4)
    y = cr.tensor([0, 1, 2, 0, 1])
    hidden = model[1](model[0](x))
    hidden.retain_grad()
    logits = model[2](hidden)
    loss = F.cross_entropy(logits, y) + 0.01 * (model[0].weight ** 2).sum()
    return model, x, hidden, loss


def _walk(output):
    """An independent walk: op names and the number of edges of the graph behind output."""
    ops, edges, seen, stack = Counter(), 0, set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ops[type(node).__name__] += 1
        for x, parent in zip(node.inputs, node.parents):
            if parent is None and not isinstance(x, cr.Tensor):
                continue
            edges += 1
            if parent is not None and not isinstance(parent, cr.Tensor):
                stack.append(parent)
    return ops, edges


def _nodes(source):
    """{id: (label lines, attributes)} of the DOT text."""
    return {m[1]: (m[2].split("\\n"), m[3]) for m in NODE.finditer(source)}


def _norms(source):
    """{first label line: the ‖grad‖ shown} of the boxes showing one."""
    out = {}
    for lines, _ in _nodes(source).values():
        for line in lines:
            if line.startswith("‖grad‖ "):
                out[lines[0]] = float(line.split()[1])
    return out


def test_the_dot_text_names_every_op_of_the_graph_once_per_node():
    model, x, _, loss = _model_and_loss()
    graph = draw_graph(loss, dict(model.named_parameters()))
    nodes = _nodes(graph.source)
    ops = Counter(lines[0].split(" → ")[0] for lines, attrs in nodes.values()
                  if "ellipse" not in attrs)
    expected_ops, expected_edges = _walk(loss)
    assert ops == expected_ops
    assert set(ops) >= {"Linear", "Tanh", "CrossEntropy", "Pow", "Sum", "Mul", "Add"}
    assert len(EDGE.findall(graph.source)) == expected_edges
    assert len(graph.nodes) == len(nodes)
    # every edge joins two boxes that exist
    assert all(a in nodes and b in nodes for a, b in EDGE.findall(graph.source))


def test_leaves_are_named_with_their_shape_and_dtype_and_constants_are_dashed():
    model, x, hidden, loss = _model_and_loss()
    graph = draw_graph(loss, {"x": x, "hidden": hidden, **dict(model.named_parameters())})
    nodes = {lines[0]: (lines, attrs) for lines, attrs in _nodes(graph.source).values()}
    assert nodes["0.weight"][0][1] == "(8, 4) float32"
    assert nodes["2.bias"][0][1] == "(3,) float32"
    assert nodes["x"][0][1] == "(5, 4) float32" and "dashed" in nodes["x"][1]
    assert "Tanh → hidden" in nodes  # a named intermediate result
    assert nodes["(5,) int64"][0] == ["(5,) int64"]  # the unnamed targets
    assert [n.kind for n in graph.nodes].count("leaf") == 4
    assert [n.kind for n in graph.nodes].count("constant") == 2
    root = graph.nodes[0]
    assert root.output and root.name == "Add" and root.tensor is loss
    assert "scalar float32" in graph.source
    assert repr(graph) == "Graph(8 ops, 4 leaves requiring grad, 2 constant inputs)"


def test_gradient_norms_appear_after_backward_and_equal_the_true_norms():
    model, x, hidden, loss = _model_and_loss()
    graph = draw_graph(loss, {"hidden": hidden, **dict(model.named_parameters())})
    assert "‖grad‖" not in graph.source  # drawn before backward: no gradients yet
    loss.backward()
    norms = _norms(graph.source)
    for name, p in model.named_parameters():
        true = np.linalg.norm(p.grad.data.astype(np.float64))
        assert norms[name] == pytest.approx(true, rel=1e-5), name
    assert norms["Tanh → hidden"] == pytest.approx(
        np.linalg.norm(hidden.grad.data.astype(np.float64)), rel=1e-5)
    assert len(norms) == 5  # 4 parameters and the retained gradient; none on the others
    weight = next(n for n in graph.nodes if n.name == "0.weight")
    assert weight.grad_norm == pytest.approx(
        float(np.sqrt((model[0].weight.grad.data.astype(np.float64) ** 2).sum())), rel=1e-12)
    model, x, hidden, loss = _model_and_loss()
    hidden.backward(cr.ones_like(hidden), retain_graph=True)
    assert "‖grad‖" in draw_graph(loss, dict(model.named_parameters())).source
    assert "‖grad‖" not in draw_graph(loss, dict(model.named_parameters()),
                                      show_grads=False).source


def test_hand_checked_norms_on_a_two_leaf_graph():
    a = cr.tensor([3.0, 4.0], requires_grad=True, dtype=np.float64)
    b = cr.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    c = (a * b).sum()
    graph = draw_graph(c, {"a": a, "b": b})
    c.backward()
    # ∂c/∂a = b = (1, 2): ‖·‖ = √5; ∂c/∂b = a = (3, 4): ‖·‖ = 5
    assert _norms(graph.source) == {"a": pytest.approx(5 ** 0.5, rel=1e-6), "b": 5.0}
    assert [n.name for n in graph.nodes] == ["Sum", "Mul", "a", "b"]
    assert graph.edges == [("n1", "n0"), ("n2", "n1"), ("n3", "n1")]


def test_an_input_used_twice_gets_two_edges_and_deep_graphs_need_no_recursion():
    x = cr.tensor([2.0], requires_grad=True)
    square = x * x
    assert draw_graph(square, {"x": x}).edges == [("n1", "n0"), ("n1", "n0")]
    y = x
    for _ in range(3000):
        y = y * 1.0
    graph = draw_graph(y)
    assert len(graph.nodes) == 3001 and len(graph.edges) == 3000


def test_a_graph_freed_by_backward_is_refused_with_a_clear_message():
    model, x, _, loss = _model_and_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward.*retain_graph=True"):
        draw_graph(loss)
    model, x, _, loss = _model_and_loss()
    loss.backward(retain_graph=True)
    assert "‖grad‖" in draw_graph(loss, dict(model.named_parameters())).source


def test_bad_arguments_name_what_was_wrong():
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="draw_graph: output must be a Tensor.*list"):
        draw_graph([1.0])
    with pytest.raises(TypeError, match="draw_graph: params must be a mapping.*list"):
        draw_graph(x * 2, [x])
    with pytest.raises(TypeError, match=r"draw_graph: params\['w'\] must be a Tensor"):
        draw_graph(x * 2, {"w": 1.0})
    with pytest.raises(ValueError, match="draw_graph: format must be 'svg' or 'png', got 'gif'"):
        draw_graph(x * 2, format="gif")


# ------------------------------------------------------------------ rendering

def _needs_dot():
    pytest.importorskip("graphviz", reason="the graphviz Python package is not installed: "
                                           'pip install "chainrule[viz]"')
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz program dot is not installed (apt install graphviz)")


def test_rendered_png_is_a_valid_image(tmp_path):
    _needs_dot()
    image = pytest.importorskip("matplotlib.image")
    model, x, _, loss = _model_and_loss()
    loss.backward(retain_graph=True)
    path = draw_graph(loss, dict(model.named_parameters())).render(tmp_path / "graph.png")
    assert path == tmp_path / "graph.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 0.05  # not a blank picture


def test_rendered_svg_parses_and_carries_the_labels(tmp_path):
    _needs_dot()
    model, x, _, loss = _model_and_loss()
    graph = draw_graph(loss, dict(model.named_parameters()), path=tmp_path / "g.svg")
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "CrossEntropy" in texts and "0.weight" in texts and "Tanh" in texts
    # a path without a suffix gets one; a suffix that contradicts format is refused
    assert graph.render(tmp_path / "plain", format="png") == tmp_path / "plain.png"
    assert (tmp_path / "plain.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="format='png' but the path .* ends in .svg"):
        graph.render(tmp_path / "g.svg", format="png")
    bundle = graph._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"]).tag.endswith("svg")
    assert graph._repr_svg_().lstrip().startswith("<?xml")


def test_without_the_graphviz_package_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz -> ImportError
    graph = draw_graph(cr.tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(GraphvizNotFound) as info:
        graph.render("never.svg")
    message = str(info.value)
    for hint in ('graphviz Python package, which is not installed', 'pip install "chainrule[viz]"',
                 "apt install graphviz", "brew install graphviz", "conda install",
                 "Graph.source"):
        assert hint in message
    # Jupyter falls back to the text
    assert graph._repr_svg_() is None
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and graph.source in bundle["text/plain"]
    assert 'pip install "chainrule[viz]"' in bundle["text/plain"]


def test_without_the_dot_program_the_message_names_it(monkeypatch, tmp_path):
    pytest.importorskip("graphviz", reason="the graphviz Python package is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    graph = draw_graph(cr.tensor([1.0], requires_grad=True) * 2)
    with pytest.raises(GraphvizNotFound, match="Graphviz program dot, which is not on the PATH"
                                               ".*apt install graphviz"):
        graph.pipe("png")
    assert not (tmp_path / "g.png").exists()
    assert graph._repr_mimebundle_()["text/plain"].endswith(graph.source)
