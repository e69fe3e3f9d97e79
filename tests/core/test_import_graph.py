"""The import graph of ``portal/`` has no cycle, and modules are rooms: none imports another
module's package or a core blueprint, only the core (``portal.*``) and its own files.

The graph is read from the source (``ast``), so it counts every import wherever it stands —
at module level, inside a function, under ``TYPE_CHECKING`` — and the packages an import
runs on the way (``import portal.a.b`` runs ``portal/a/__init__.py`` first)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
MODULES = ("applications", "expenses", "expert_visits", "donors")
CORE_BLUEPRINTS = ("auth", "admin", "catalogue", "core")


def python_modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name → (file, is a package) for every module under portal/."""
    found = {}
    for path in PORTAL.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module → the portal modules it imports (explicitly, or as the packages on the way)."""
    modules = python_modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        here = name if package else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(t for alias in node.names if (t := known(alias.name)))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source != "portal" and not source.startswith("portal."):
                    continue
                for alias in node.names:  # `from pkg import submodule` imports the submodule
                    target = f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else known(source)
                    if target:
                        targets.add(target)
        mine = set(_ancestors(name))
        for target in set(targets):
            targets.update(a for a in _ancestors(target) if a in modules and a not in mine)
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_scan_sees_function_level_imports_and_packages_on_the_way():
    graph = import_graph()
    # portal_blueprints() imports its views inside the function
    assert "portal.blueprints.applications.views" in graph["portal.blueprints.applications"]
    # `from .blueprints.core import hooks` runs portal/blueprints/core/__init__.py too
    assert {"portal.blueprints.core.hooks", "portal.blueprints.core"} <= graph["portal.core"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_import_graph_has_no_cycle():
    assert cycles(import_graph()) == []


def test_hookspecs_import_nothing_of_the_portal_at_module_level():
    tree = ast.parse((PORTAL / "hookspecs.py").read_text())
    top_level = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.level]
    assert top_level == []


def test_no_module_imports_another_module_or_a_core_blueprint():
    graph = import_graph()
    blueprint_packages = {path.parent.name for path in (PORTAL / "blueprints").glob("*/__init__.py")}
    assert set(MODULES) | set(CORE_BLUEPRINTS) <= blueprint_packages
    trespasses = []
    for module in MODULES:
        room = f"portal.blueprints.{module}"
        for name, targets in graph.items():
            if name != room and not name.startswith(room + "."):
                continue
            for target in targets:
                parts = target.split(".")
                if (len(parts) >= 3 and parts[:2] == ["portal", "blueprints"] and parts[2] in blueprint_packages
                        and parts[2] != module):
                    trespasses.append(f"{name} → {target}")
    assert sorted(trespasses) == []
