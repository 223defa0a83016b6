"""The catalogue of broken policies (tests/broken/): each one is reported with the right code, at the right place.

Every entry of tests/broken/ is one small, self-contained policy with one mistake:

* `NNN-short-name.sptp`: a policy file, checked alone (as `sptui check FILE` does);
* `NNN-short-name_test.sptp`: a policy test file, checked with the shipped policies/ (as
  `sptui check policies FILE` does);
* `NNN-short-name/`: a folder whose entry file is `main.sptp` (for includes); only the entry is checked,
  the other files are reached through its includes.

The entry file starts with one or more header lines

    # expect: E041 at 12:9
    # expect: E011 at rules.sptp:2:9      (a place in another file of the folder)

and each expected diagnostic must be reported there (line and column count characters, not bytes).
For every entry three things are tested separately, so a checker bug in one does not hide the others:

* `test_reported`: each expected (code, file, line, col) is reported, no Python exception escapes, and
  the rendered text has `file:line:col: severity[CODE]` and a caret under the place;
* `test_hint`: each expected diagnostic comes with a hint;
* `test_nothing_else`: no error is reported besides the expected ones ("one mistake, one diagnostic");
  a file that expects only warnings reports no error at all.

Checker bugs found while building the catalogue are kept as strict xfails (see BUGS): the expectation
states what is right, and the xfail turns into a failure the day the checker is fixed, so the mark is removed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import traceback
import unicodedata
from pathlib import Path

import attrs
import pytest

from conftest import check
from sptui.policy.diagnostics import CODES, Diagnostic, render
from sptui.policy.testrun import load_tests

ROOT = Path(__file__).resolve().parents[1]
BROKEN = ROOT / "tests" / "broken"
POLICIES = ROOT / "policies"
TEST_SUFFIX = "_test.sptp"
ENTRY = "main.sptp"
EXPECT = re.compile(r"^# expect: (?P<code>[EW]\d{3}) at (?:(?P<file>[^:\s]+):)?(?P<line>\d+):(?P<col>\d+)\s*$")
NAME = re.compile(r"^\d{3}-[a-z0-9-]+(_test\.sptp|\.sptp)?$")

# codes that no policy file can cause, with the reason; the catalogue must cover every other code
UNTRIGGERABLE = {
    "E090": "a block kind's compile function raising: the built-in block kinds guard their input, so no policy "
    "mistake causes it; test_plugin_failure_is_e090 covers it with a broken plugin",
    "W091": "an installed plugin that fails to load is no policy file's mistake; test_plugins.py::"
    "test_check_reports_a_plugin_that_fails_to_load_as_a_warning_and_strict_fails covers it with broken plugins",
}

# checker bugs, by catalogue entry and aspect ("reported", "hint", "nothing-else"): strict xfails
BUGS: dict[str, dict[str, str]] = {}  # checker bugs found by the catalogue, as strict xfails (all fixed so far)


@attrs.frozen
class Expect:
    code: str
    file: Path
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.code} at {self.file.relative_to(BROKEN)}:{self.line}:{self.col}"


# ---- the catalogue -------------------------------------------------------------------------------------------
def catalogue() -> list[Path]:
    return sorted(p for p in BROKEN.iterdir() if p.is_dir() or p.suffix == ".sptp")


def entry_file(item: Path) -> Path:
    return item / ENTRY if item.is_dir() else item


def is_test_file(item: Path) -> bool:
    return item.name.endswith(TEST_SUFFIX)


def expectations(item: Path) -> list[Expect]:
    entry = entry_file(item)
    out = []
    for line in entry.read_text(encoding="utf-8-sig").splitlines():
        if not line.startswith("#"):
            break
        m = EXPECT.match(line)
        if m:
            file = entry.parent / m["file"] if m["file"] else entry
            out.append(Expect(m["code"], file, int(m["line"]), int(m["col"])))
    return out


def run_checker(item: Path) -> tuple[list[Diagnostic], dict[str, str]]:
    """What `sptui check` reports for this entry (cwd is the repository root, as for the CLI)."""
    if is_test_file(item):
        _, diags, sources = check([POLICIES])
        _, tdiags, tsources = load_tests([item])
        return diags + tdiags, {**sources, **tsources}
    _, diags, sources = check([entry_file(item)])
    return diags, sources


def same_file(d: Diagnostic, file: Path) -> bool:
    return Path(d.span.file).resolve() == file.resolve()


def matching(diags: list[Diagnostic], e: Expect) -> list[Diagnostic]:
    return [
        d for d in diags if d.code == e.code and d.span.line == e.line and d.span.col == e.col and same_file(d, e.file)
    ]


def listing(diags: list[Diagnostic]) -> str:
    return "\n".join(f"  {d.span}: {d.code}: {d.message}" for d in diags) or "  (nothing)"


def params(aspect: str) -> list:
    out = []
    for item in catalogue():
        reason = BUGS.get(item.name, {}).get(aspect)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(item, id=item.name, marks=marks))
    return out


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    # file names in diagnostics are relative to the working directory, as `sptui check` prints them
    monkeypatch.chdir(ROOT)


def checked(item: Path) -> tuple[list[Diagnostic], dict[str, str]]:
    try:
        return run_checker(item)
    except Exception:  # noqa: BLE001 - the checker must report problems, never raise
        pytest.fail(f"the checker raised on {item.name}:\n{traceback.format_exc()}")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# ---- per entry ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("item", params("reported"))
def test_reported(item: Path) -> None:
    expects = expectations(item)
    assert expects, f"{item.name} has no `# expect:` header"
    diags, sources = checked(item)
    for e in expects:
        found = matching(diags, e)
        assert found, f"expected {e}; the checker reported:\n{listing(diags)}"
        d = found[0]
        text = render(d, sources)
        head = f"{d.span.file}:{e.line}:{e.col}: {CODES[e.code][0]}[{e.code}]"
        assert text.startswith(head), text
        # the source line, then a caret under the place (indented by display width: 全角 is two columns)
        src_line = sources[d.span.file].splitlines()[e.line - 1].expandtabs(1)
        lines = text.splitlines()
        assert lines[1] == f" {e.line} | {src_line}", text
        caret = lines[2]
        gutter = f" {' ' * len(str(e.line))} | "
        assert caret.startswith(gutter) and "^" in caret, text
        assert caret[len(gutter) :].index("^") == _width(src_line[: e.col - 1]), text
    if all(CODES[e.code][0] == "warning" for e in expects):
        errors = [d for d in diags if d.is_error]
        assert not errors, f"{item.name} should report warnings only; errors:\n{listing(errors)}"


@pytest.mark.parametrize("item", params("hint"))
def test_hint(item: Path) -> None:
    diags, _ = checked(item)
    for e in expectations(item):
        found = matching(diags, e)
        assert found, f"expected {e}; the checker reported:\n{listing(diags)}"
        assert all(d.hint.strip() for d in found), f"{e}: no hint ({found[0].message})"


@pytest.mark.parametrize("item", params("nothing-else"))
def test_nothing_else(item: Path) -> None:
    diags, _ = checked(item)
    expects = expectations(item)
    extra = [d for d in diags if d.is_error and not any(d in matching([d], e) for e in expects)]
    assert not extra, f"{item.name}: errors besides the expected ones:\n{listing(extra)}"


# ---- the catalogue as a whole -------------------------------------------------------------------------------------
def test_catalogue_covers_every_code() -> None:
    items = catalogue()
    assert len(items) >= 36, f"only {len(items)} entries in {BROKEN}"
    numbers = [i.name[:3] for i in items]
    assert len(set(numbers)) == len(numbers), "two entries share a number"
    for i in items:
        assert NAME.match(i.name), f"{i.name}: name it NNN-short-name.sptp, NNN-short-name_test.sptp or NNN-short-name/"
        assert entry_file(i).is_file(), f"{i.name}: a folder entry needs {ENTRY}"
        assert entry_file(i).read_text(encoding="utf-8-sig").startswith("# expect: "), f"{i.name}: no header"
    covered = {e.code for i in items for e in expectations(i)}
    assert covered <= set(CODES), f"unknown codes in headers: {covered - set(CODES)}"
    assert set(UNTRIGGERABLE) <= set(CODES)
    missing = set(CODES) - covered - set(UNTRIGGERABLE)
    assert not missing, f"no catalogue entry for {sorted(missing)}"


def test_test_file_codes_are_in_test_files() -> None:
    for i in catalogue():
        for e in expectations(i):
            if e.code in ("E080", "E081"):
                assert is_test_file(i), f"{i.name}: {e.code} is a policy-test code; name the file NNN-name{TEST_SUFFIX}"


def _sptui() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "sptui"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("sptui")
    return [found] if found else [sys.executable, "-c", "from sptui.cli import main; main()"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SPTUI_POLICY"}
    return subprocess.run(
        [*_sptui(), "check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )


def _entry(suffix: str) -> str:
    (item,) = [i for i in catalogue() if i.name.endswith(suffix)]
    return item.relative_to(ROOT).as_posix()


def test_cli_reports_the_place() -> None:
    rel = _entry("-field-typo.sptp")
    (e,) = expectations(ROOT / rel)
    proc = _cli(rel)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{rel}:{e.line}:{e.col}: error[{e.code}]" in proc.stdout, proc.stdout
    assert "did you mean `device.country`?" in proc.stdout, proc.stdout


def test_cli_reports_a_test_file_with_the_policy() -> None:
    rel = _entry("-unknown-expect-field_test.sptp")
    (e,) = expectations(ROOT / rel)
    proc = _cli("policies", rel)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{rel}:{e.line}:{e.col}: error[{e.code}]" in proc.stdout, proc.stdout


# ---- E090: only a plugin can cause it ---------------------------------------------------------------------------------
def test_plugin_failure_is_e090() -> None:
    from sptui.plugins.api import hookimpl
    from sptui.plugins.manager import PluginManager
    from sptui.policy.schema import BlockKind, BlockSchema, EntrySpec

    def explode(block, ctx):
        raise ZeroDivisionError("boom")

    class BrokenPlugin:
        @staticmethod
        @hookimpl
        def sptui_block_kinds(register):
            register(BlockKind("gauge", BlockSchema((EntrySpec("level", ("int",)),)), explode, phase=70))

    text = (
        'policy "p"\nversion "1"\neffective 2021-08-01\ndate-rounding clamp\n\n'
        'register {\n  clause 第1章 1, "x", not-computable("n/a")\n}\n\ngauge g {\n  level 3\n}\n'
    )
    pm = PluginManager(entry_points=False, extra=(BrokenPlugin,))
    policy, diags, _ = check([], plugins=pm, extra_text={"gauge.sptp": text})
    assert policy is None
    assert [(d.code, d.span.line, d.span.col) for d in diags] == [("E090", 10, 1)], listing(diags)
    assert "ZeroDivisionError" in diags[0].message and diags[0].hint


def test_long_condition_is_checked() -> None:
    cond = " and ".join(['device.country == "JP"'] * 400)
    text = (
        'policy "p"\nversion "1"\neffective 2021-08-01\ndate-rounding clamp\n\n'
        'register {\n  clause 第1章 1, "x"\n}\n\n'
        f'rule long {{\n  cite 第1章 1\n  require {cond}\n  fail-ja "x"\n  fail-en "x"\n}}\n'
    )
    _, diags, _ = check([], extra_text={"long.sptp": text})
    assert not diags, listing(diags)
