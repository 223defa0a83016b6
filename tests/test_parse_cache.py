"""A file's last parse is kept (policy.parse.parse_text): what it gives is exactly what parsing the text again gives,
the same AST (spans included) and the same diagnostics, and a changed text is parsed again, never served stale."""
from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import POLICIES, ROOT
from sptui.policy.parse import _parse, parse_text
from test_fuzz import edited

SHIPPED = sorted(POLICIES.rglob("*.sptp"))
BROKEN = sorted((ROOT / "tests" / "broken").rglob("*.sptp"))


def dump(x):
    """Every field of an AST node, spans included (the AST's own `==` ignores spans)."""
    if attrs.has(type(x)):
        return (type(x).__name__,) + tuple(dump(getattr(x, a.name)) for a in attrs.fields(type(x)))
    if isinstance(x, (tuple, list)):
        return tuple(dump(i) for i in x)
    return (type(x).__name__, x)


def same_as_a_fresh_parse(text: str, name: str) -> None:
    for _ in range(2):  # the first parse, then the kept one
        module, diags = parse_text(text, name)
        fresh_module, fresh_diags = _parse(text, name)
        assert dump(module) == dump(fresh_module)
        assert dump(diags) == dump(fresh_diags)


@pytest.mark.parametrize("path", SHIPPED + BROKEN, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_kept_parse_is_a_fresh_parse(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: never parsed")
    same_as_a_fresh_parse(text, path.name)


def test_a_changed_file_is_parsed_again():
    name = "edited-in-place.sptp"
    good = 'policy "x"\nversion "1"\n'
    assert parse_text(good, name)[1] == []
    module, diags = parse_text(good + "rule r {\n  when a ==\n}\n", name)  # the same file, edited: an error now
    assert [d.code for d in diags] == ["E001"] and len(module.items) == 3
    assert parse_text(good, name)[1] == [] and len(parse_text(good, name)[0].items) == 2


def test_the_diagnostics_returned_are_the_callers_to_change():
    text = 'policy "x"\nrule r {\n  when a ==\n}\n'
    first = parse_text(text, "mutable.sptp")[1]
    first.clear()
    assert parse_text(text, "mutable.sptp")[1], "the kept diagnostics were changed through the list returned"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_random_edits_parse_as_a_fresh_parse(edit):
    name, text = edit
    same_as_a_fresh_parse(text, name)
