"""domain/ and events/ are pure: they import nothing but the standard library, msgspec,
events and domain (no I/O library, nothing from services/)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_ROOTS = {"msgspec", "events", "domain", "__future__"}
MODULES = sorted(
    p for pkg in ("domain", "events") for p in (ROOT / pkg).rglob("*.py") if ".venv" not in p.parts
)


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import stays inside the package
                continue
            assert node.module is not None
            roots.add(node.module.split(".")[0])
    return roots


def test_modules_found() -> None:
    assert any(p.parent.name == "domain" for p in MODULES)
    assert any(p.parent.name == "events" for p in MODULES)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_stdlib_msgspec_events_domain(path: Path) -> None:
    bad = {
        root
        for root in imported_roots(path)
        if root not in ALLOWED_ROOTS and root not in sys.stdlib_module_names
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_events_do_not_import_domain() -> None:
    for path in MODULES:
        if path.relative_to(ROOT).parts[0] == "events":
            assert "domain" not in imported_roots(path), path


def test_stdlib_io_libraries_are_not_used() -> None:
    """Beyond the allow-list: no sockets, subprocesses or clocks in the pure code."""
    forbidden = {
        "socket",
        "subprocess",
        "asyncio",
        "urllib",
        "http",
        "sqlite3",
        "time",
        "uuid",
        "random",
    }
    for path in MODULES:
        assert not (imported_roots(path) & forbidden), path


def test_pure_code_never_reads_the_clock_or_makes_ids() -> None:
    """The clock and new ids come in as arguments."""
    forbidden_calls = {"today", "now", "utcnow", "uuid4", "uuid1", "getenv", "open"}
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                assert name not in forbidden_calls, (
                    f"{path.relative_to(ROOT)}:{node.lineno} {name}()"
                )
