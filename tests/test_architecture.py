"""The house rules of docs/architecture.md, checked on the source: lab/ never imports streamlit, measures
touch neither the store nor the worker, only the registry imports a paper package, no import cycles,
and files and functions stay small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "lab"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The modules a file imports (absolute names); top_level_only: only imports run at import time."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}  # `from lab.measures import maps`
    return found


def lab_files() -> list[Path]:
    return sorted(LAB.rglob("*.py"))


def paper_packages() -> list[str]:
    return sorted(p.name for p in (LAB / "papers").iterdir() if (p / "__init__.py").is_file())


def test_lab_never_imports_streamlit():
    offenders = [str(f) for f in lab_files() if any(m.split(".")[0] == "streamlit" for m in imports(f))]
    assert not offenders, offenders


def test_measures_import_neither_the_store_nor_the_worker_nor_a_paper():
    offenders = [(str(f), m) for f in (LAB / "measures").rglob("*.py") for m in imports(f)
                 if m.startswith(("lab.store", "lab.worker", "lab.papers", "lab.view"))]  # fmt: skip
    assert not offenders, offenders


def test_only_the_registry_imports_a_paper_package():
    """lab/papers/__init__.py is the one module of lab/ (outside a paper's own folder) that imports a
    paper; a paper never imports another paper."""
    for paper in paper_packages():
        own = LAB / "papers" / paper
        for f in lab_files():
            if f == LAB / "papers" / "__init__.py" or own in f.parents:
                continue
            hits = [
                m for m in imports(f) if m == f"lab.papers.{paper}" or m.startswith(f"lab.papers.{paper}.")
            ]
            assert not hits, f"{f.relative_to(REPO)} imports {hits}; go through lab.papers instead"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph (module -> modules it imports) as a path, or None."""
    state: dict[str, int] = {}

    def visit(node, path):
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep == node:
                continue
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep, [*path, dep])):
                return found
        state[node] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n, [n])):
            return found
    return None


def lab_import_graph() -> dict[str, set[str]]:
    """Module -> the lab modules it imports when it is imported (imports inside functions are how a
    registry reaches what registers itself later, and do not count; nor does a module's import of its
    own parent package, which Python makes anyway before the module runs)."""
    graph = {
        module_name(f): {m for m in imports(f, top_level_only=True) if m.startswith("lab")}
        for f in lab_files()
    }
    names = set(graph)
    resolved = {
        n: {m if m in names else m.rsplit(".", 1)[0] for m in deps} & names for n, deps in graph.items()
    }
    return {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in resolved.items()}


def test_no_import_cycles_in_lab():
    cycle = find_cycle(lab_import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_a_constructed_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("folder", ["lab", "pages"])
def test_modules_and_functions_stay_small(folder):
    files = sorted((REPO / folder).rglob("*.py")) + ([REPO / "app.py"] if folder == "pages" else [])
    long_files = [
        (str(f.relative_to(REPO)), n)
        for f in files
        if (n := len(f.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long_files, f"modules over {MAX_MODULE_LINES} lines: {long_files}"
    long_functions = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (n := node.end_lineno - node.lineno + 1) > MAX_FUNCTION_LINES:
                    long_functions.append((str(f.relative_to(REPO)), node.name, n))
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"
