"""The shape of the code holds: no import cycles between modules, and a module that grows long
says why at its top. (Which layer may import which is checked by `lint-imports`, configured
in pyproject.toml, in CI before the tests.)"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import dangan

SOURCE = Path(dangan.__file__).parent
LONG = 550  # lines: "about 500", with room for a docstring that grows


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_round_a_circle():
    assert import_cycles(grimp.build_graph("dangan")) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert import_cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_a_long_module_says_why_it_is_long():
    unexplained = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > LONG:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "long" not in doc.lower():
                unexplained.append(f"{path.relative_to(SOURCE)} ({text.count(chr(10))} lines)")
    assert unexplained == [], "split these, or say at the top why they are long: " + ", ".join(unexplained)
