"""The first-party import graph has no cycles, and migrations do not import the live models.

The graph is read from the source with `ast` (nothing is imported): imports at module level and inside
functions count, those under `if TYPE_CHECKING:` do not (they never run). Relative imports and
`from package import module` resolve to modules; every edge points at a module, never at a package
that merely contains it. A cycle is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "flows", "storage")
MIGRATIONS = ROOT / "service" / "migrations" / "versions"
# What a migration may import from the application: column types, which must keep their meaning.
MIGRATION_ALLOWED = {"service.db"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: all nesting levels, minus `if TYPE_CHECKING:` bodies."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> Iterator[str]:
    """Dotted names an import statement loads (first-party or not)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        package = _package_of(module, path).split(".")
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        yield base if alias.name == "*" else f"{base}.{alias.name}"


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The first-party module a dotted name lands in (`pkg.mod.attr` -> `pkg.mod`), else None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for name in _targets(node, module, path):
                target = _resolve(name, modules)
                if target is not None and target != module:
                    edges[target] = min(edges.get(target, node.lineno), node.lineno)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on deep chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
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
                    components.append(sorted(component))
    return components


def _cycle(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first inside the component)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in members:
                    continue
                if child == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [start, *reversed(chain[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return component  # not reached: a component of several modules always has a cycle


def _describe(graph: dict[str, dict[str, int]], chain: list[str]) -> str:
    modules = _modules()
    steps = [chain[0]]
    for source, target in zip(chain, chain[1:], strict=False):
        line = graph[source][target]
        steps.append(f"  -> {target}  ({modules[source].relative_to(ROOT)}:{line})")
    return "\n".join(steps)


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert "service.app" in graph and "flows" in graph and "storage" in graph  # the walk found the packages
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    report = [
        f"{len(component)} modules: {', '.join(component)}\n{_describe(graph, _cycle(graph, component))}"
        for component in sorted(cycles)
    ]
    assert not cycles, f"{len(cycles)} import cycle(s):\n\n" + "\n\n".join(report)


def test_the_graph_sees_what_it_should() -> None:
    """The walker itself: function-level imports count, TYPE_CHECKING ones do not, relative ones resolve."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from service.cases.models import Case\n"
        "else:\n    import service.config\n"
        "def f():\n    from . import db\n    from .cases import models\n    from ..flows import runtime\n"
    )
    path = ROOT / "service" / "example.py"
    modules = _modules()
    found = {_resolve(n, modules) for node in _imports(tree) for n in _targets(node, "service.example", path)}
    assert found == {None, "service.config", "service.db", "service.cases.models", "flows.runtime"}


def test_migrations_do_not_import_the_application() -> None:
    """A migration is frozen in time: it may not change when a model or a constant in the live code does."""
    offending = []
    for path in sorted(MIGRATIONS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            for name in names:
                first_party = name.startswith(".") or name.split(".")[0] in PACKAGES
                if first_party and name not in MIGRATION_ALLOWED:
                    offending.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not offending, "migrations import the application:\n" + "\n".join(offending)


# The outbox is a mechanism the domains use; it may know the database and its own modules, nothing above it.
OUTBOX_MAY_IMPORT = ("service.outbox", "service.db", "service.config", "service.errors", "service.probes")


def test_the_outbox_imports_no_domain() -> None:
    graph = import_graph()
    outbox = [m for m in graph if m == "service.outbox" or m.startswith("service.outbox.")]
    assert "service.outbox.service" in outbox
    above = [f"{m} -> {t}" for m in outbox for t in graph[m] if not any(t == a or t.startswith(a + ".") for a in OUTBOX_MAY_IMPORT)]
    assert not above, "the outbox imports domains:\n" + "\n".join(above)
