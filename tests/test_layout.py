"""The shape of the code: import layers, and every Function states its formula.

Layers, lowest first; a module may import only from its own layer or lower ones.
The one sanctioned back edge is ``chainrule.tensor`` importing ``chainrule.ops``
(so that ``x.exp()`` and ``x @ w`` can call the ops), as in every framework.
"""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import chainrule
from chainrule.function import Function

PACKAGE = Path(chainrule.__file__).parent

LAYERS = [
    ["chainrule.random", "chainrule.hooks"],
    ["chainrule.tensor", "chainrule.function"],
    ["chainrule.ops", "chainrule.factory", "chainrule.tensor_functions", "chainrule.profiler"],
    ["chainrule.nn", "chainrule.check", "chainrule.metrics"],
    ["chainrule.optim", "chainrule.data", "chainrule.io"],
    ["chainrule.train", "chainrule.models", "chainrule.neighbors", "chainrule.model_selection",
     "chainrule.viz", "chainrule.playground"],
    ["chainrule.cli", "chainrule.commands", "chainrule.__main__", "chainrule"],
]
SANCTIONED = {("chainrule.tensor", "chainrule.ops")}


def _layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (rank, prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def _modules():
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(name, path):
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            yield target
            if target == "chainrule":  # `from chainrule import nn` imports chainrule.nn
                yield from (f"chainrule.{alias.name}" for alias in node.names)


def test_imports_point_down_the_layers_with_one_sanctioned_back_edge():
    back_edges = []
    for name, path in _modules():
        for target in _imports(name, path):
            if not target.startswith("chainrule.") or target == name:
                continue
            if _layer(target) > _layer(name):
                back_edges.append((name, target))
    allowed = [(a, b) for a, b in back_edges
               if any(a == x and (b == y or b.startswith(y + ".")) for x, y in SANCTIONED)]
    assert sorted(set(back_edges) - set(allowed)) == []
    assert allowed, "the tensor -> ops edge is expected (it makes x.exp() work)"


def _functions():
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name == "chainrule.__main__":
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Function) and cls is not Function and cls.__module__ == info.name:
                yield cls


def test_every_function_docstring_states_its_forward_and_its_delta():
    missing = []
    for cls in set(_functions()):
        doc = cls.__doc__ or ""
        if "δ" not in doc or "=" not in doc.split("δ")[0]:
            missing.append(cls.__qualname__)
    assert not missing, f"Functions without 'y = …  δ_x = …' in the docstring: {missing}"


def test_there_are_many_functions():
    assert len(set(_functions())) > 40
