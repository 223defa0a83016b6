"""docs/policy-language.md's "Authoring workflow" runs as written: each `console` block of the section, in order, in
one folder holding a copy of policies/ and examples/; each `$ command` runs in bash with this sptui first on the
PATH, and its output must match what the document shows (`…` any text; a line of `…` any lines)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = ROOT / "docs" / "policy-language.md"


def workflow_blocks() -> list[list[tuple[str, list[str]]]]:
    """Each console block of the section: its commands, each with the output lines shown under it."""
    text = LANGUAGE.read_text(encoding="utf-8")
    section = text[text.index("## Authoring workflow"):]
    section = section[:section.index("\n## ", 5)]
    blocks = []
    for body in re.findall(r"^```console\n(.*?)^```$", section, re.S | re.M):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def _pattern(expected: list[str]) -> re.Pattern:
    parts = []
    for line in expected:
        if line == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.split("…")) + r"\n")
    return re.compile("".join(parts), re.S)


def test_the_section_has_every_step():
    commands = [c for block in workflow_blocks() for c, _ in block]
    for step in ("sptui check", "sptui test", "--update", "--threshold 100", "sptui diff"):
        assert any(step in c for c in commands), step


def test_the_authoring_workflow_runs_as_written(tmp_path):
    for name in ("policies", "examples"):
        shutil.copytree(ROOT / name, tmp_path / name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for block in workflow_blocks():
        for command, expected in block:
            p = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                               timeout=120)
            assert p.returncode in (0, 1), (command, p.returncode, p.stderr)
            assert _pattern(expected).fullmatch(p.stdout), (command, p.stdout)
