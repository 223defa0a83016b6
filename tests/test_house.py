"""The house's own rules (issue 18, docs/architecture.md): modules and functions a newcomer can read, and imports
that run one way with nothing excused."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "sptui"
MODULE_LINES, FUNCTION_LINES = 700, 60


def _modules():
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def test_no_module_is_over_700_lines():
    long = {str(p.relative_to(SRC)): n for p in _modules() if (n := p.read_text(encoding="utf-8").count("\n")) > MODULE_LINES}
    assert long == {}


def test_no_function_is_over_60_lines():
    long = {}
    for p in _modules():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long[f"{p.relative_to(SRC)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_the_import_contracts_excuse_nothing_and_hold():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    assert {c["type"] for c in contracts} == {"layers", "forbidden"}
    assert not any("ignore_imports" in c for c in contracts)
    linter = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
