"""The fast parse driver gives exactly what Lark's own parse gives: the same AST, spans included, and the
same diagnostics; on text with a syntax error it hands over to Lark, so the diagnostics are Lark's."""
from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES, ROOT
from sptui.policy.fastparse import FAIL
from sptui.policy.parse import _driver, _parse_fast, parse_text
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


def same_as_lark(text: str, name: str = "<policy>") -> None:
    fast_module, fast_diags = parse_text(text, name)
    lark_module, lark_diags = parse_text(text, name, fast=False)
    assert dump(fast_module) == dump(lark_module)
    assert dump(fast_diags) == dump(lark_diags)


def test_the_driver_is_built():
    assert _driver() is not None


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(POLICIES)))
def test_shipped_files_parse_on_the_fast_path(path: Path):
    text = path.read_text(encoding="utf-8")
    assert _parse_fast(text if text.endswith("\n") else text + "\n", path.name, []) is not FAIL
    same_as_lark(text, path.name)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: str(p.relative_to(ROOT / "tests" / "broken")))
def test_broken_files_give_lark_diagnostics(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: never parsed")
    same_as_lark(text, path.name)


def test_a_syntax_error_falls_back_to_lark():
    text = 'policy "x"\nrule r {\n  when a ==\n}\n'
    assert _parse_fast(text, "<policy>", []) is FAIL
    same_as_lark(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_random_edits_parse_as_lark_does(edit):
    name, text = edit
    same_as_lark(text, name)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.integers(0, 3)), max_size=6), st.integers(0, 2))
def test_a_generated_child_filter_keeps_splices_and_pads_as_larks_does(entries, append_none):
    """The driver's generated filters (fastparse._filter_source) against Lark's own LALR child filter, on every
    shape of rule: children kept, children spliced from an inlined rule (of any length), Nones for optional parts."""
    from lark import Tree
    from lark.parse_tree_builder import ChildFilterLALR

    from sptui.policy.fastparse import _filter_source

    to_include = [(i, expand, nones) for i, (expand, nones, _) in enumerate(entries)]

    def children(splice_type):
        return [splice_type([f"s{i}.{k}" for k in range(n)]) if expand else f"c{i}"
                for i, (expand, _, n) in enumerate(entries)]

    theirs = ChildFilterLALR(to_include, append_none, list)(children(lambda kids: Tree("_x", kids)))
    for inline in (False, True):  # a rule's node is built from the list; an inlined rule's value is the list
        ns = {"build": tuple}
        exec(_filter_source(to_include, append_none, inline), ns)
        ours = ns["_filter"](children(list))  # (an inlined child's value is the list of its own children)
        assert ours == (theirs if inline else tuple(theirs))


def test_a_node_made_by_the_parsers_maker_is_the_node_attrs_makes():
    """ast.maker (the parser's fast constructor) gives the same frozen node as the class itself, every field
    set (the span too, which equality ignores), and refuses a class whose __init__ does more than set fields."""
    import attrs

    from sptui.policy.ast import Binary, Call, ClauseRef, Entry, Literal, Path, Span, maker

    span = Span("p.sptp", 3, 5, 3, 9)
    for cls in (Path, Binary, Entry, Literal, Call, ClauseRef):
        values = [f"{cls.__name__}-{f.name}" if f.name != "span" else span for f in attrs.fields(cls)]
        made, expected = maker(cls)(*values), cls(*values)
        assert type(made) is cls and made == expected and repr(made) == repr(expected)
        assert attrs.astuple(made, recurse=False) == attrs.astuple(expected, recurse=False)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            made.span = None

    @attrs.frozen
    class WithDefault:
        a: int
        b: int = 0

    with pytest.raises(TypeError):
        maker(WithDefault)
