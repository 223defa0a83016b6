"""Random edits and truncations of the shipped policy give the project's own diagnostics, never a traceback;
fmt is idempotent and keeps meaning on whatever parses."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES
from sptui.policy.compile import check
from sptui.policy.diagnostics import CODES, render
from sptui.policy.fmt import format_module, format_text
from sptui.policy.parse import parse_text
from sptui.policy.testrun import load_tests

FILES = {p.name: p.read_text(encoding="utf-8") for p in sorted(POLICIES.glob("*.sptp"))}
NAMES = sorted(FILES)
ALPHABET = st.sampled_from(list('{}()[],.=<>!+-*/"#\n _:0123456789abcxyz第章表別-円はじめに設置 \t') +
                           ["=>", "..", "let ", "rule ", "cite ", "when ", "require ", "not ", " in ", "08:30",
                            "21:00-08:30", "12-29..01-03", "2h", "10,000円", "2026-02-30", "2026-11-27T17:00",
                            "第3章 2.2 (4)", "{a, b}", "null", "_"])


@st.composite
def edited(draw):
    name = draw(st.sampled_from(NAMES))
    text = FILES[name]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "swap-lines"]))
        i = draw(st.integers(0, len(text)))
        if kind == "delete":
            j = draw(st.integers(i, min(len(text), i + 40)))
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + "".join(draw(st.lists(ALPHABET, min_size=1, max_size=4))) + text[i:]
        elif kind == "replace":
            j = draw(st.integers(i, min(len(text), i + 10)))
            text = text[:i] + draw(ALPHABET) + text[j:]
        elif kind == "truncate":
            text = text[:i]
        else:
            lines = text.splitlines(True)
            if len(lines) > 2:
                a = draw(st.integers(0, len(lines) - 1))
                b = draw(st.integers(0, len(lines) - 1))
                lines[a], lines[b] = lines[b], lines[a]
                text = "".join(lines)
    return name, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_edits_give_only_diagnostics(edit):
    name, text = edit
    files = dict(FILES, **{name: text})
    policy, diags, sources = check([], extra_text=files)
    for d in diags:
        assert d.code in CODES
        assert d.span.line >= 0 and d.span.col >= 0
        render(d, sources)  # never raises
    if policy is not None:
        assert not [d for d in diags if d.is_error]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_fmt_is_idempotent_and_keeps_meaning(edit):
    name, text = edit
    module, diags = parse_text(text, name)
    if diags:
        assert format_text(text, name) == (text, diags)  # a broken file is left alone
        return
    once = format_module(module)
    again, d2 = format_text(once, name)
    assert not d2
    assert again == once
    assert parse_text(once, name)[0].items == module.items
    # no comment is lost
    assert [c.text for c in parse_text(once, name)[0].comments] == [c.text for c in module.comments]


TEST_FILE = (POLICIES / "tests" / "supportpack_test.sptp").read_text(encoding="utf-8")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(TEST_FILE)), st.integers(0, 30), st.sampled_from(["", "x", "{", "}", "\n", "given nope\n"]))
def test_edits_of_test_files_give_only_diagnostics(tmp_path_factory, i, n, insert):
    path = tmp_path_factory.mktemp("t") / "x_test.sptp"
    path.write_text(TEST_FILE[:i] + insert + TEST_FILE[i + n:], encoding="utf-8")
    tests, diags, _ = load_tests([path])
    assert all(d.code in CODES for d in diags)


def test_shipped_files_are_fixed_points_of_fmt():
    for name, text in FILES.items():
        assert format_text(text, name)[0] == text, name
