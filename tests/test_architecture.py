"""The shape of the code: no import cycles, a short model, strategies that see only their contract."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sim.policies import policy_specs
from tests.conftest import REPO

PACKAGES = ("sim", "core_ext", "experiments")


def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py and .pyx (compiled) file of ``packages`` under ``root``."""
    out: dict[str, Path] = {}
    for package in packages:
        for path in sorted([*(root / package).rglob("*.py"), *(root / package).rglob("*.pyx")]):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that ``name`` imports anywhere: top level, in functions, under TYPE_CHECKING."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    if path.suffix == ".pyx":
        return found  # compiled kernels import numpy and C only
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a.b import c` imports the module a.b.c when there is one, else names of a.b
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            # `import a.b.c` of a name below a module counts as importing the module
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_cycles(root: Path, packages: tuple[str, ...]) -> list[list[str]]:
    """Every strongly connected group of two or more modules in the import graph (Tarjan)."""
    modules = module_files(root, packages)
    graph = {name: sorted(imports_of(name, path, modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_the_project_has_no_import_cycle() -> None:
    assert import_cycles(REPO, PACKAGES) == []


def test_the_cycle_finder_finds_cycles_hidden_in_functions_and_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import X\n"
    )
    (pkg / "c.py").write_text("from . import a\nX = 1\n")
    (pkg / "d.py").write_text("import pkg.a\n")
    assert import_cycles(tmp_path, ("pkg",)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_the_model_module_holds_set_up_and_step_order_only() -> None:
    lines = (REPO / "sim" / "model.py").read_text().count("\n")
    assert lines <= 300, f"sim/model.py has {lines} lines; behaviour belongs in its own module"


@pytest.mark.parametrize("spec", policy_specs(), ids=lambda s: s.name)
def test_a_strategy_imports_neither_the_model_nor_another_strategy(spec) -> None:  # type: ignore[no-untyped-def]
    modules = module_files(REPO, PACKAGES)
    own = spec.policy_cls.__module__
    strategies = {s.policy_cls.__module__ for s in policy_specs()} - {own}
    imported = imports_of(own, modules[own], modules)
    assert "sim.model" not in imported
    assert not imported & strategies, f"{own} imports {sorted(imported & strategies)}"
