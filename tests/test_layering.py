"""Imports point one way (DESIGN.md, "Layers"): the import graph of hotline/ — every import, at
module level or inside a function, TYPE_CHECKING ones included — has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline
from hotline.actions import ACTIONS
from hotline.facts import FACTS
from hotline.vocabulary import ACTION_NAMES, FACT_NAMES

PACKAGE = Path(hotline.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def resolve(current: str, is_package: bool, node: ast.ImportFrom | ast.Import, known: set[str]) -> set[str]:
    """The hotline modules an import statement loads (a name imported from a package counts as its
    submodule when there is one)."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                found.add(alias.name)
        return found
    if node.level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("hotline"):
        return found
    for alias in node.names:
        candidate = f"{target}.{alias.name}"
        found.add(candidate if candidate in known else target)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= resolve(name, path.name == "__init__.py", node, names)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_reads_real_imports():
    graph = import_graph()
    assert "hotline.incidents.escalation" in graph["hotline.jobs"]
    assert "hotline.queueing" in graph["hotline.incidents.escalation"]
    # An import inside a function counts too.
    assert "hotline.sim.web" in graph["hotline.app"]


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_a_cycle_would_be_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_incident_domain_never_imports_the_layers_above_it():
    graph = import_graph()
    above = {"hotline.jobs", "hotline.conversation", "hotline.actions", "hotline.turn", "hotline.facts",
             "hotline.staff_commands", "hotline.app", "hotline.cli", "hotline.worker"}
    for name, edges in graph.items():
        if name.startswith("hotline.incidents"):
            assert not edges & above, f"{name} imports {sorted(edges & above)}"


def test_the_flow_vocabulary_names_exactly_what_the_conversation_layer_implements():
    """vocabulary.py declares what flows may use, below the code that implements it."""
    assert set(ACTIONS) == ACTION_NAMES
    assert set(FACTS) == FACT_NAMES
