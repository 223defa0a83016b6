"""The `sptui` command's one way to fail (sptui.cli.errors): one line on stderr, `error: …`, control characters
shown escaped, exit 2 for bad input and 1 for a failure, never a traceback; and what the desk's TUI takes from
below the CLI (the default policy)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import registry_csv, registry_row

import sptui

SRC = Path(sptui.__file__).resolve().parent


def one_error_line(p) -> str:
    lines = p.stderr.splitlines()
    assert "Traceback" not in p.stderr and len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    return lines[0]


def test_a_failure_nobody_foresaw_is_one_line_and_exit_1(run, tmp_path):
    """An export to a folder that is not there, a plugin written where a file stands: the OS's refusal in a line."""
    from sptui.store import Store

    db = tmp_path / "desk.db"
    s = Store.open(str(db))
    s.registry.import_csv(registry_csv([registry_row(1)]))
    s.close()
    export = run("registry", "export", "-o", tmp_path / "no-such-folder" / "registry.csv", "--db", db)
    assert export.returncode == 1 and "No such file or directory" in one_error_line(export)
    (tmp_path / "a-file").write_text("")
    new = run("plugin", "new", "night-owl", "--dir", tmp_path / "a-file" / "plugins")
    assert new.returncode == 1 and "a-file" in one_error_line(new)


def test_an_error_line_shows_the_control_characters_of_what_was_typed_escaped(run, tmp_path):
    """A file name with an OSC sequence (which would retitle the operator's terminal) or a bell in it: each
    command's error line shows them as escapes, whatever the command group."""
    from sptui.store import Store

    name = str(tmp_path / "case\x1b]0;pwned\x07.json")
    Store.open(str(tmp_path / "desk.db")).close()
    for args, code in ((("eval", name), 2), (("explain", name), 2),
                       (("incident", "open", "--label", "\x1b]0;x\x07", "--at", "2026-11-27T16:45+09:00",
                         "--summary", "s", "--db", tmp_path / "desk.db"), 2)):
        p = run(*args)
        line = one_error_line(p)
        assert p.returncode == code, (args, p.stderr)
        assert "\x1b" not in p.stderr and "\x07" not in p.stderr and "\\x1b]0;" in line and "\\x07" in line, line


def test_the_desk_takes_its_default_policy_from_below_the_cli(tmp_path, monkeypatch):
    """The TUI imports nothing of the CLI (not even inside a function); the default policy it opens with is
    sptui.config's: $SPTUI_POLICY, else ./policies, else the shipped one."""
    from sptui.config import default_policy

    found = []
    for path in sorted((SRC / "tui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n == "sptui.cli" or n.startswith("sptui.cli.")]
    assert found == []
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPTUI_POLICY", raising=False)
    assert default_policy() == sptui.shipped_policy_dir()
    (tmp_path / "policies").mkdir()
    assert default_policy() == "policies"
    monkeypatch.setenv("SPTUI_POLICY", "/elsewhere")
    assert default_policy() == "/elsewhere"
