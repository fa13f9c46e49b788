"""The layout is the architecture (issue 17, issue 18): imports point one way, function-level
imports included (drivers -> the Dagster definitions -> captures -> core -> parsing); no module
imports an underscored module of Dagster, dagster-dbt or dbt; importing the code location reads
no file."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "orchestration"
# Each layer may import its own and lower layers only. The Dagster layer is the package's top
# level (definitions, project, jobs, resources, sensors) and assets/.
LAYERS = ["parsing", "core", "captures", "dagster", "drivers"]
FRAMEWORKS = ("dagster", "dagster_dbt", "dbt")
# dbt's public programmatic API (https://docs.getdbt.com/reference/programmatic-invocations) and
# its CLI entry point (kfor-dbt runs it): nothing else of dbt is imported.
DBT_PUBLIC = {"dbt.cli.main"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "orchestration":
        return None
    if len(parts) == 1 or parts[1] == "__init__":
        return "parsing"  # the package itself: empty, below everything
    if parts[1] in ("definitions", "project", "jobs", "resources", "sensors",
                                        "assets"):
        return "dagster"
    return parts[1] if parts[1] in LAYERS else None


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module a file imports (absolute, relative resolved), at any depth, with its line."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.append((name, node.lineno))
            found += [(f"{name}.{alias.name}", node.lineno) for alias in node.names]
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_layers(path):
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    own = LAYERS.index(layer_of(module))
    for name, line in imports(path):
        layer = layer_of(name)
        if layer is not None:
            assert LAYERS.index(layer) <= own, f"{module}:{line} imports {name} ({layer} layer)"
        if name.split(".")[0] in FRAMEWORKS and own < LAYERS.index("dagster"):
            pytest.fail(f"{module}:{line}: the {LAYERS[own]} layer knows no framework, yet "
                        f"imports {name}")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_public_framework_modules_are_imported(path):
    for name, line in imports(path):
        parts = name.split(".")
        if parts[0] not in FRAMEWORKS:
            continue
        private = [p for p in parts if p.startswith("_")]
        assert not private, f"{path.name}:{line} imports {name}: not public API"
        if parts[0] == "dbt":
            assert ".".join(parts[:3]) in DBT_PUBLIC, f"{path.name}:{line} imports {name}"


def test_importing_the_code_location_reads_no_file_and_loads_no_dbt():
    """`import orchestration.definitions` opens nothing of the project (no manifest, no seeds,
    no settings file) and imports no dbt; Dagster loads `defs` when it needs it."""
    probe = (
        "import sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda e, a: opened.append(str(a[0])) if e == 'open' else None)\n"
        "import dagster\n"  # Dagster's own imports read its package files: not ours
        "opened.clear()\n"
        "import orchestration.definitions\n"
        f"ours = [p for p in opened if p.startswith({str(PACKAGE.parent)!r}) "
        "and not p.endswith(('.py', '.pyc')) and '__pycache__' not in p]\n"
        "print(ours, sorted({m.split('.')[0] for m in sys.modules} & {'dbt', 'dagster_dbt'}))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[] []", out.stdout + out.stderr


def instance_calls() -> list[tuple[str, str, int]]:
    """(file, method, line) of every method the code calls on a Dagster instance: a variable or
    attribute named `instance`, or `get_instance(...)`."""
    found = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            named = (isinstance(owner, ast.Name) and owner.id == "instance") or (
                isinstance(owner, ast.Attribute) and owner.attr == "instance") or (
                isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "get_instance")
            if named:
                found.append((path.name, node.func.attr, node.lineno))
    return found


def test_only_public_instance_methods_are_called():
    """Issue 17: no non-public DagsterInstance method (add_run_tags, report_run_failed, ...)."""
    import dagster as dg
    from dagster._annotations import is_public  # the test asks Dagster what it marks public

    calls = instance_calls()
    assert calls, "the scan found no instance calls at all"
    for name, method, line in calls:
        assert is_public(getattr(dg.DagsterInstance, method)), f"{name}:{line} calls {method}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_imports(path):
    """A module that names a module which moved or went away fails here, not in a user's hands."""
    import importlib

    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    importlib.import_module(module.removesuffix(".__init__"))
