"""The language's literals, date arithmetic, clause register and expression rules."""
from __future__ import annotations

import datetime as dt

import pytest

from sptui.clock import dates
from sptui.model import values as V
from sptui.errors import LiteralError
from sptui.policy import literals as L
from conftest import POLICIES, check
from sptui.policy.parse import parse_text

HEADER = 'policy "t"\nversion "1"\neffective 2021-08-01\ndate-rounding {rounding}\n' \
         'register {{\n  clause 第1章 4, "期間", items(i, ii, iii)\n}}\n'


def compile_text(body: str, rounding: str = "clamp"):
    return check([], extra_text={"t.sptp": HEADER.format(rounding=rounding) + body})


@pytest.mark.parametrize("rounding, expected", [("clamp", dt.date(2025, 2, 28)), ("roll-forward", dt.date(2025, 3, 1))])
def test_date_rounding_is_stated_by_the_policy(rounding, expected):
    assert dates.add_months(dt.date(2024, 2, 29), 12, rounding) == expected


def test_month_end_rounding():
    assert dates.add_months(dt.date(2026, 1, 31), 1, "clamp") == dt.date(2026, 2, 28)
    assert dates.add_months(dt.date(2026, 1, 31), 1, "roll-forward") == dt.date(2026, 3, 1)
    assert dates.add_months(dt.date(2026, 1, 15), -2) == dt.date(2025, 11, 15)


@pytest.mark.parametrize("text, kind, value", [
    ("10,000円", "money", V.Money(10000)), ("10000 JPY", "money", V.Money(10000)),
    ("2h", "duration", V.Duration(minutes=120)), ("15min", "duration", V.Duration(minutes=15)),
    ("3 months", "duration", V.Duration(months=3)), ("5 years", "duration", V.Duration(months=60)),
    ("30 days", "duration", V.Duration(days=30)),
    ("21:00-08:30", "window", V.Window(1260, 510)), ("12-29..01-03", "mdrange",
                                                      V.MonthDayRange(V.MonthDay(12, 29), V.MonthDay(1, 3))),
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
    with pytest.raises(LiteralError):
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
    assert V.Duration(minutes=90) > V.Duration(minutes=60)
    assert V.Duration(days=1) >= V.Duration(minutes=1440)
    with pytest.raises(TypeError):
        V.Duration(months=1) < V.Duration(days=31)


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
    check([str(POLICIES)])  # modules imported, parser built, caches filled
    gc.collect()
    gc.disable()
    try:
        policy, diags, _ = check([str(POLICIES)])
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


# ---- bounds: what the parser, the formatter and the compiler take (issue 17, item 14) -----------------------------
def _rule(require: str, name: str = "r", on_fail: str = "warn") -> str:
    return f'rule {name} {{\n  cite 第1章 4\n  require {require}\n  on-fail {on_fail}\n  fail-ja "x"\n  fail-en "x"\n}}\n'


def test_a_thousand_ands_check_format_and_decide():
    from sptui.policy.fmt import format_text

    body = _rule(" and ".join(["pack.years < 99"] * 1000) + " or " + " or ".join(["support == pp"] * 1000))
    policy, diags, _ = compile_text(body)
    assert policy is not None and [d.code for d in diags] == []
    text = HEADER.format(rounding="clamp") + body
    once, fdiags = format_text(text, "t.sptp")
    assert not fdiags and format_text(once, "t.sptp")[0] == once
    assert "pack.years < 99 and pack.years < 99" in once and "support == pp or support == pp" in once


def test_a_long_sum_formats_and_compiles():
    from sptui.policy.fmt import format_text

    body = _rule(" + ".join(["pack.years"] * 3000) + " > 0")
    policy, diags, _ = compile_text(body)
    assert policy is not None and not diags
    assert format_text(HEADER.format(rounding="clamp") + body, "t.sptp")[1] == []


@pytest.mark.parametrize("deep", ["not " * 3000 + "true", "not (" * 500 + "true" + ")" * 500,
                                  "1 in " + "{" * 200 + "1" + "}" * 200])
def test_an_expression_nested_too_deep_is_e007_not_a_recursion_error(deep):
    from sptui.policy.fmt import format_text

    policy, diags, _ = compile_text(_rule(deep))
    assert policy is None and [d.code for d in diags] == ["E007"]
    assert (diags[0].span.line, diags[0].span.col) == (10, 11) and "at most 100" in diags[0].message
    text = HEADER.format(rounding="clamp") + _rule(deep)
    assert format_text(text, "t.sptp")[0] == text  # reported, left alone


def test_an_expression_a_hundred_levels_deep_still_compiles():
    policy, diags, _ = compile_text(_rule("not " * 98 + "(pack.years == 5)"))
    assert policy is not None and not diags


def test_blocks_nested_too_deep_are_e007():
    text = "x {\n" * 150 + "}\n" * 150
    module, diags = parse_text(text, "t")
    assert [d.code for d in diags] == ["E007"] and module.items == ()


@pytest.mark.parametrize("literal", ["1" * 4400, "1" * 4400 + "円", "1" * 4400 + " days", "1" * 16])
def test_a_number_too_long_is_e004(literal):
    from sptui.policy.fmt import format_text

    text = f"let n = {literal}\n"
    _, diags = parse_text(text, "t")
    assert [d.code for d in diags] == ["E004"] and "at most 15" in diags[0].message
    assert len(diags[0].message) < 120
    assert format_text(text, "t")[0] == text


def _fifo(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.sptp")
    return tmp_path / "pipe.sptp"


@pytest.mark.parametrize("target, said", [("/dev/zero", "an absolute path"), ("pipe.sptp", "not a regular file"),
                                          ("big.sptp", "larger than 16 MiB"), ("latin1.sptp", "not UTF-8 text (byte 9")])
def test_an_include_that_is_no_readable_text_file_is_e010(tmp_path, target, said):
    _fifo(tmp_path)
    with open(tmp_path / "big.sptp", "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)
    (tmp_path / "latin1.sptp").write_bytes(b'let a = "\xe9"\n')
    main = tmp_path / "main.sptp"
    main.write_text(HEADER.format(rounding="clamp") + f'include "{target}"\n', encoding="utf-8")
    policy, diags, _ = check([main])
    assert policy is None and [(d.code, d.span.line, d.span.col) for d in diags if d.is_error] == [("E010", 8, 9)]
    assert said in diags[0].message


def _cli(*args):
    from click.testing import CliRunner

    from sptui.cli import main

    r = CliRunner().invoke(main, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("make, said", [
    (lambda tmp: tmp / "nope.sptp", "no such file"),
    (lambda tmp: (tmp / "x.sptp").mkdir() or tmp / "x.sptp", "not a regular file (it is a folder)"),  # in a folder
    (_fifo, "not a regular file (it is a named pipe)"),
    (lambda tmp: (tmp / "x.sptp").write_bytes(b"let a = 1\n\x80\n") and tmp / "x.sptp", "not UTF-8 text (byte 10"),
])
def test_fmt_of_a_file_that_cannot_be_read_exits_2_naming_it(tmp_path, make, said):
    path = make(tmp_path)
    code, out, err = _cli("fmt", tmp_path if path.is_dir() else path)  # (a folder given is read for its files)
    assert code == 2 and err == f"error: {path}: {err.split(': ', 2)[2]}" and said in err and err.count("\n") == 1


def test_a_test_file_that_is_not_utf8_is_e010_for_test_and_check(tmp_path):
    import shutil

    pol = tmp_path / "policies"
    shutil.copytree(POLICIES, pol)
    (pol / "tests" / "broken_test.sptp").write_bytes(b'test t {\n  case {\n    at \xff\n  }\n}\n')
    for command in ("test", "check"):
        code, out, err = _cli(command, pol)
        assert code == 1 and "error[E010]" in out + err and "is not UTF-8 text (byte 25" in out + err


# ---- a rule that fails to compute is its own error (issue 17, item 16) -----------------------------------------------
def test_a_rule_that_raises_alone_becomes_an_error_naming_it_and_the_rules_after_it_still_run(base_case):
    body = ('rule divides {\n  cite 第1章 4\n  require pack.years / (pack.years - 5) > 0\n  fail-ja "x"\n  fail-en "x"\n}\n'
            'rule far-future {\n  cite 第1章 4\n  require add_years(device.purchased_on, pack.years * 2000) > date(at)\n'
            '  fail-ja "x"\n  fail-en "x"\n}\n'
            'rule after-them {\n  cite 第1章 4\n  require support == pp\n  on-fail warn\n  fail-ja "後"\n  fail-en "after"\n}\n')
    d = with_shipped(body).decide(base_case)
    by_rule = {r.rule: r for r in d.reasons}
    assert by_rule["after-them"].outcome == "warn" and by_rule["after-them"].message_en == "after"
    assert by_rule["divides"].outcome == "error" and by_rule["far-future"].outcome == "error"
    assert by_rule["divides"].message_en.startswith("rule divides (t.sptp:1) could not be decided: ZeroDivisionError")
    assert "rule far-future (t.sptp:7)" in by_rule["far-future"].message_en
    assert "in the function `add_years` of the plugin sptui.evaluators.core" in by_rule["far-future"].message_en
    assert "ルール divides（t.sptp:1）" in by_rule["divides"].message_ja
    assert d.verdict == "consult" and d.dispatch_deadline is None
    assert not [r for r in d.reasons if r.rule == "rules"]  # the evaluator itself did not fail


def test_a_rule_that_raises_keeps_a_more_severe_verdict(base_case):
    body = ('rule divides {\n  cite 第1章 4\n  require pack.years / 0 > 0\n  fail-ja "x"\n  fail-en "x"\n}\n'
            'rule not-japan {\n  cite 第1章 4\n  require device.country == "SG"\n  fail-ja "x"\n  fail-en "x"\n}\n')
    assert with_shipped(body).decide(base_case).verdict == "not-covered"


def with_shipped(text: str):
    """The shipped policy with `text` as a file `t.sptp` beside it."""
    policy, diags, _ = check([str(POLICIES)], extra_text={"t.sptp": text})
    assert policy is not None, [str(d) for d in diags if d.is_error]
    return policy


# ---- what `check` catches (issue 17, item 17) -------------------------------------------------------------------------
VARIANT = '''calendar closing {{
  closed 12-29..01-03
}}

variant two-windows {{
  cite 第1章 4
  years 1, 3, 5
  hours hw {{
    days mon-fri
    window 08:30-17:30
    closed closing
  }}
  hours hw {{
    days {second}
    window 09:00-13:00
  }}
  hours pp {{
    days mon-fri
    window 08:30-17:30
  }}
}}
'''


def test_hours_may_differ_by_day():
    from sptui.evaluators.hours import service_deadline, service_hours
    from sptui.testing import tokyo

    policy, diags, _ = compile_text(VARIANT.format(second="sat"))
    assert policy is not None and not [d for d in diags if d.is_error], diags
    hw = service_hours(policy, "two-windows", "hw")
    assert hw.contains(tokyo("2026-11-27 17:29")) and not hw.contains(tokyo("2026-11-27 17:30"))  # Friday
    assert hw.contains(tokyo("2026-11-28 12:59")) and not hw.contains(tokyo("2026-11-28 13:00"))  # Saturday
    assert not hw.contains(tokyo("2026-11-28 08:45")) and not hw.contains(tokyo("2026-11-29 10:00"))
    # Friday 17:00: 30 min on Friday, 90 on Saturday from 09:00
    assert service_deadline_of(policy, "2026-11-27 17:00") == tokyo("2026-11-28 10:30")
    # Saturday 12:30: 30 min on Saturday, 90 on Monday from 08:30
    assert service_deadline_of(policy, "2026-11-28 12:30") == tokyo("2026-11-30 10:00")
    # the weekday window's calendar closes 12-29 (a Tuesday); Saturday 2027-01-02 has its own window, no calendar
    assert hw.next_open(tokyo("2026-12-28 18:00")) == tokyo("2027-01-02 09:00")
    assert service_deadline is not None


def service_deadline_of(policy, at: str):
    from sptui.evaluators.hours import service_hours
    from sptui.testing import tokyo

    return service_hours(policy, "two-windows", "hw").add_service_minutes(tokyo(at), 120)


@pytest.mark.parametrize("second", ["mon-fri", "fri-sat", "every-day"])
def test_hours_that_give_a_day_twice_are_e074(second):
    policy, diags, _ = compile_text(VARIANT.format(second=second))
    assert policy is None and [(d.code, d.span.line, d.span.col) for d in diags if d.is_error] == [("E074", 21, 10)]


FEE = '''table bands {{
  cite 第1章 4
  input {inputs}
  output band, base, add
{rows}
}}

fee {{
  cite 第1章 4
  bands bands
  base-covers 60min
  block {block}
  longest-work 7 days
}}
'''
ROWS = "  row 00:00-12:00 => am, 10,000円, 2,500円\n  row 12:00-24:00 => pm, 12,000円, 3,000円"


@pytest.mark.parametrize("inputs, rows, said", [
    ("departure, weekday", ROWS.replace(" =>", ", _ =>"), "2 input columns"),
    ("departure", ROWS.replace("12:00-24:00", "12:00-23:00"), "no band from 23:00-24:00"),
    ("weekday", "  row mon => am, 10,000円, 2,500円", "no time window"),
], ids=["two-inputs", "a-gap", "not-windows"])
def test_a_fee_table_that_cannot_price_every_departure_is_e066(inputs, rows, said):
    body = FEE.format(inputs=inputs, rows=rows, block="15min")
    policy, diags, _ = compile_text(body)
    errors = [d for d in diags if d.is_error]
    bands_line = (HEADER.format(rounding="clamp") + body).splitlines().index("  bands bands") + 1
    assert policy is None and [(d.code, d.span.line) for d in errors] == [("E066", bands_line)]
    assert said in errors[0].message


@pytest.mark.parametrize("block, said", [("0min", "at least 1 min"), ("1 month", "fixed length")])
def test_a_fee_block_without_a_fixed_positive_length_is_e033(block, said):
    policy, diags, _ = compile_text(FEE.format(inputs="departure", rows=ROWS, block=block))
    assert policy is None and [d.code for d in diags if d.is_error] == ["E033"] and said in diags[0].message


def test_the_fee_needs_its_longest_work():
    policy, diags, _ = compile_text(FEE.format(inputs="departure", rows=ROWS, block="15min").replace(
        "  longest-work 7 days\n", ""))
    assert policy is None and [(d.code, d.message) for d in diags if d.is_error] == [("E032", "fee needs `longest-work`")]


CAUSES = '''table reasons {{
  cite 第1章 4
  input cause
  output treatment
  {domain}
  row ex-01 => billable
  row {{ex-02, ex-03}} => consult
}}

rule excluded {{
  cite 第1章 4
  when cause {compare}
  require false
  on-fail info
  fail-ja "x"
  fail-en "x"
}}
'''


def test_the_causes_a_case_may_name_are_the_keys_of_the_table_marked_as_their_domain(base_case):
    from sptui import CaseError

    # (the shipped exclusions table is the domain of cause: these policies are the shipped one without it)
    shipped = {p.name: p.read_text(encoding="utf-8") for p in POLICIES.glob("*.sptp") if p.name != "exclusions.sptp"}

    def policy_with(text):
        policy, diags, _ = check([], extra_text={**shipped, "t.sptp": text})
        assert policy is not None, [str(d) for d in diags if d.is_error]
        return policy

    policy = policy_with(CAUSES.format(domain="domain cause", compare="!= null"))
    assert policy.decide(dict(base_case, cause="ex-03")).verdict == "covered"
    with pytest.raises(CaseError) as e:
        policy.decide(dict(base_case, cause="ex-04"))
    assert e.value.field == "cause" and "the table `reasons` (第1章 4) lists ex-01, ex-02, ex-03" in e.value.message
    # no table is the domain: any cause is read (a table named `exclusions` is nothing special)
    policy = policy_with(CAUSES.format(domain="", compare="!= null").replace("reasons", "exclusions"))
    assert policy.decide(dict(base_case, cause="ex-91")).verdict == "covered"


@pytest.mark.parametrize("compare", ["== ex-91", "in {ex-01, ex-91}"])
def test_a_cause_compared_with_a_word_its_domain_lacks_is_e055(compare):
    policy, diags, _ = compile_text(CAUSES.format(domain="domain cause", compare=compare))
    errors = [d for d in diags if d.is_error]
    assert policy is None and [(d.code, d.span.line) for d in errors] == [("E055", 19)]
    assert "`ex-91` is not a possible value" in errors[0].message


@pytest.mark.parametrize("domain, said", [("domain support", "cannot take its values"),
                                          ("domain caus", "no field `caus`")])
def test_a_domain_the_field_cannot_take_is_reported(domain, said):
    _, diags, _ = compile_text(CAUSES.format(domain=domain, compare="!= null"))
    assert [d.code for d in diags if d.is_error] in (["E067"], ["E051"]) and said in diags[0].message


@pytest.mark.parametrize("within, said", [("1 month", "fixed length"), ("99999999999999h", "at most 30 days"),
                                          ("0min", "at least 1 min")])
def test_an_onsite_within_without_a_fixed_length_in_range_is_e033(within, said):
    files = {p.name: p.read_text(encoding="utf-8") for p in POLICIES.glob("*.sptp")}
    files["hours.sptp"] = files["hours.sptp"].replace("within 2h", f"within {within}")
    policy, diags, _ = check([], extra_text=files)
    assert policy is None and [d.code for d in diags if d.is_error] == ["E033"] and said in diags[0].message


@pytest.mark.parametrize("literal", ["9999-12-31T23:00-12:00", "0001-01-01T00:00+14:00", "1800-01-01T09:00+09:00"])
def test_a_date_time_literal_outside_the_years_accepted_is_e004(literal):
    _, diags = parse_text(f"let t = {literal}\n", "t")
    assert [d.code for d in diags] == ["E004"] and "1900–2999" in diags[0].message


def test_a_date_plus_a_duration_past_the_calendar_is_that_rules_error_not_e090(base_case):
    d = with_shipped(_rule("device.purchased_on + 999999999999999 days > date(at)")).decide(base_case)
    (r,) = [r for r in d.reasons if r.rule == "r"]
    assert r.outcome == "error" and "OverflowError" in r.message_en and d.verdict == "consult"
