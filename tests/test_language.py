"""The language's literals, date arithmetic, clause register and expression rules."""
from __future__ import annotations

import datetime as dt

import pytest

from sptui.policy import literals as L
from sptui.policy.compile import check
from sptui.policy.parse import parse_text

HEADER = 'policy "t"\nversion "1"\neffective 2021-08-01\ndate-rounding {rounding}\n' \
         'register {{\n  clause 第1章 4, "期間", items(i, ii, iii)\n}}\n'


def compile_text(body: str, rounding: str = "clamp"):
    return check([], extra_text={"t.sptp": HEADER.format(rounding=rounding) + body})


@pytest.mark.parametrize("rounding, expected", [("clamp", dt.date(2025, 2, 28)), ("roll-forward", dt.date(2025, 3, 1))])
def test_date_rounding_is_stated_by_the_policy(rounding, expected):
    assert L.add_months(dt.date(2024, 2, 29), 12, rounding) == expected


def test_month_end_rounding():
    assert L.add_months(dt.date(2026, 1, 31), 1, "clamp") == dt.date(2026, 2, 28)
    assert L.add_months(dt.date(2026, 1, 31), 1, "roll-forward") == dt.date(2026, 3, 1)
    assert L.add_months(dt.date(2026, 1, 15), -2) == dt.date(2025, 11, 15)


@pytest.mark.parametrize("text, kind, value", [
    ("10,000円", "money", L.Money(10000)), ("10000 JPY", "money", L.Money(10000)),
    ("2h", "duration", L.Duration(minutes=120)), ("15min", "duration", L.Duration(minutes=15)),
    ("3 months", "duration", L.Duration(months=3)), ("5 years", "duration", L.Duration(months=60)),
    ("30 days", "duration", L.Duration(days=30)),
    ("21:00-08:30", "window", L.Window(1260, 510)), ("12-29..01-03", "mdrange",
                                                      L.MonthDayRange(L.MonthDay(12, 29), L.MonthDay(1, 3))),
    ("2026-05-06", "date", dt.date(2026, 5, 6)), ('"設置場所"', "string", "設置場所"),
])
def test_typed_literals(text, kind, value):
    module, diags = parse_text(f"x {text}\n", "t")
    assert not diags
    lit = module.items[0].args[0]
    assert (lit.kind, lit.value) == (kind, value)


def test_wrapping_window_contains_midnight():
    w = L.parse_window("21:00-08:30")
    assert w.contains(23 * 60) and w.contains(0) and w.contains(8 * 60 + 29)
    assert not w.contains(8 * 60 + 30) and not w.contains(20 * 60 + 59)


def test_year_end_range_wraps():
    r = L.parse_mdrange("12-29..01-03")
    assert r.contains(dt.date(2026, 12, 31)) and r.contains(dt.date(2027, 1, 3))
    assert not r.contains(dt.date(2027, 1, 4)) and not r.contains(dt.date(2026, 12, 28))


def test_weekday_sets():
    assert L.parse_weekdays("mon-fri").days == frozenset(range(5))
    assert L.parse_weekdays("fri-mon").days == frozenset({4, 5, 6, 0})
    assert L.parse_weekdays("every-day").days == frozenset(range(7))
    with pytest.raises(L.LiteralError):
        L.parse_weekdays("mon-fry")


def test_naive_datetime_literal_is_an_error():
    _, diags = parse_text("x 2026-11-27T17:00\n", "t")
    assert [d.code for d in diags] == ["E005"]


def test_clause_items_are_checked():
    rule = ('rule r {{\n  cite 第1章 4 ({item})\n  require true\n  fail-ja "x"\n  fail-en "x"\n}}\n')
    policy, diags, _ = compile_text(rule.format(item="ii"))
    assert policy is not None and not [d for d in diags if d.is_error]
    policy, diags, _ = compile_text(rule.format(item="iv"))
    assert policy is None and [d.code for d in diags if d.is_error] == ["E042"]


def test_uncited_clause_is_a_warning_not_an_error():
    policy, diags, _ = compile_text("")
    assert policy is not None
    assert [d.code for d in diags] == ["W044"]


def test_rule_reads_like_its_clause():
    body = ('let old = 6\nrule long-term {\n  cite 第1章 4\n  when pack.years >= old and device.manufacture_ended_on != null\n'
            '  require date(at) <= device.manufacture_ended_on + 5 years\n  on-fail warn\n'
            '  fail-ja "x {pack.years}"\n  fail-en "y {pack.years}"\n}\n')
    policy, diags, _ = compile_text(body)
    assert policy is not None, diags
    rule = policy.blocks["rule"]["long-term"]
    assert rule.cites == ("第1章 4",)


def test_a_rule_cannot_read_the_verdict():
    body = 'rule r {\n  cite 第1章 4\n  require verdict == covered\n  fail-ja "x"\n  fail-en "x"\n}\n'
    _, diags, _ = compile_text(body)
    assert "E050" in [d.code for d in diags]


def test_placeholder_must_name_something():
    body = 'rule r {\n  cite 第1章 4\n  require true\n  fail-ja "{pack.yeers}"\n  fail-en "x"\n}\n'
    _, diags, _ = compile_text(body)
    assert "E056" in [d.code for d in diags]


def test_citation_spellings_are_one_clause():
    m, d = parse_text("x 別表1, 別表－１, 表-2, 第１章 ４ (１)\n", "t")
    assert not d
    assert [str(a) for a in m.items[0].args] == ["別表-1", "別表-1", "表2", "第1章 4 (1)"]
    # spaces between a citation's parts are optional, and one on each side of the item is allowed
    m, d = parse_text("x 第3章2.2(4), 第3章 2.2 (4), 第3章\t2.2  ( 4 ), 第1章(ii), 第1章 3, 第2章 (4a), 第2章 (_b-c)\n", "t")
    assert not d
    assert [str(a) for a in m.items[0].args] == ["第3章 2.2 (4)"] * 3 + ["第1章 (ii)", "第1章 3", "第2章 (4a)",
                                                                      "第2章 (_b-c)"]


def test_durations_compare_when_their_length_is_fixed():
    assert L.Duration(minutes=90) > L.Duration(minutes=60)
    assert L.Duration(days=1) >= L.Duration(minutes=1440)
    with pytest.raises(TypeError):
        L.Duration(months=1) < L.Duration(days=31)


def test_a_policy_let_may_look_up_a_table():
    body = ('table t {\n  cite 第1章 4\n  input k\n  output v\n  row a => 5\n}\n'
            'let five = lookup(t, v, a)\n'
            'rule r {\n  cite 第1章 4\n  require pack.years <= five\n  fail-ja "x"\n  fail-en "x"\n}\n')
    policy, diags, _ = compile_text(body)
    assert policy is not None, diags


def test_loading_a_policy_leaves_no_cyclic_garbage():
    """What a load parses and compiles and then drops is freed as it goes, by reference counts: a cycle
    (a recursive closure, a compiler reporting through its context's bound method) kept every parsed module
    alive until the cyclic GC walked them, ~0.4 s at 10,000 rules."""
    import gc

    from sptui.testing import shipped_policy

    shipped_policy()
    check(["policies"])  # modules imported, parser built, caches filled
    gc.collect()
    gc.disable()
    try:
        policy, diags, _ = check(["policies"])
        assert policy is not None, diags
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_dotted_name_is_one_token_without_spaces_and_not_after_a_value_keyword():
    """`component.category` is one token (DOTTED): spaces around the dot are E002 with a hint; a keyword a
    value starts with (true, false, null, not) is no path's first part, as before the token existed."""
    def diags(line):
        return [(d.code, d.span.col, d.hint) for d in parse_text(line + "\n", "t")[1]]

    m, d = parse_text("x device.purchased_on, a-b.c_d, and.b\n", "t")
    assert not d and [a.parts for a in m.items[0].args] == [("device", "purchased_on"), ("a-b", "c_d"), ("and", "b")]
    for line in ("x pack . years", "x pack .years", "x pack. years"):
        [(code, col, hint)] = diags(line)
        assert (code, col) == ("E002", line.index(".") + 1) and "no spaces around its dots" in hint
    for line in ("x true.b", "x null.b", "x not.b", "x a == not.b"):
        assert [code for code, _, _ in diags(line)] == ["E002"], line
    [(_, _, hint)] = diags("x a.b.")  # a dot at the end of the line is not a spaced-out name
    assert "spaces" not in hint
    [(_, _, hint)] = diags("rule 第3章 == 1 (2)")  # a `(` well after a citation is not its item
    assert "item" not in hint
    [(_, _, hint)] = diags("x 第3章 2.2 (19")
    assert "a clause's item is one number or name in parentheses" in hint
