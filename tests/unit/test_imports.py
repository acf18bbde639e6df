"""The import graph of badgehub: no cycle between modules, and the layer contracts of ``.importlinter``.

Type-only imports (under ``TYPE_CHECKING``) are not counted; imports inside functions are: a lazy import that
closes a circle is still a circle, only a later one.
"""

from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]

# Cycles still to break, each named by its modules; the test fails when one is broken and still listed, so
# that the list only shrinks.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()


def _cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def test_cycle_finder_sees_a_lazy_import_that_closes_a_circle(tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle import b\n")
    (package / "b.py").write_text("def f():\n    from circle import a\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circle import a\n")
    (package / "d.py").write_text("from circle import c\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circle", exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == [frozenset({"circle.a", "circle.b"})]


def test_no_module_of_badgehub_is_in_an_import_cycle() -> None:
    graph = grimp.build_graph("badgehub", exclude_type_checking_imports=True, cache_dir=None)
    cycles = set(_cycles(graph))
    assert sorted(sorted(cycle) for cycle in cycles - KNOWN_CYCLES) == []
    assert sorted(sorted(cycle) for cycle in KNOWN_CYCLES - cycles) == [], "broken: take it off KNOWN_CYCLES"


def test_the_import_contracts_hold(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True) == 0
