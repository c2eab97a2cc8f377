"""Every rule id R1-R19 appears in docs/rules.md, in the domain code and in test names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = [f"R{n}" for n in range(1, 20)]


def code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "domain").rglob("*.py"))


def collected_test_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests" / "unit").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(node.name.lower())
    return names


@pytest.mark.parametrize("rule", RULES)
def test_rule_id_is_documented_coded_and_tested(rule: str) -> None:
    pattern = re.compile(rf"\b{rule}\b")
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {rule} ", docs, re.M), f"docs/rules.md has no section for {rule}"
    assert pattern.search(code_text()), f"{rule} not named in domain/"
    tag = re.compile(rf"(?:^|_){rule.lower()}(?:_|$)")
    assert any(tag.search(n) for n in collected_test_names()), f"no test named after {rule}"
