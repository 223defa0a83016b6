"""Random edits and truncations of the shipped policy give the project's own diagnostics, never a traceback;
fmt is idempotent and keeps meaning on whatever parses."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES
from conftest import check
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


# ---- the CLI on hostile input (issue 17): exit 0 or 2, one line of error, no traceback, bounded output and time -----
import datetime as dt  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from sptui.cli import main  # noqa: E402
from sptui.model.case import FIELDS  # noqa: E402
from sptui.testing import make_case  # noqa: E402

LEAVES = [p for p, (kind, _, _) in FIELDS.items() if kind != "record"]
ODD = ["\ud800", "\udfff", "\x00", "\x1b[2J", "\u2028", "\x85", "\u3000", "円", "[bold]", '"', "\\", "é", "\U0001f600"]
odd_text = st.lists(st.sampled_from(ODD) | st.characters(), max_size=12).map("".join) | st.builds(
    lambda c, n: c * n, st.sampled_from(["x", "\ud800", "9"]), st.integers(0, 200_000))
OFFSETS = ["+14:00", "-12:00", "+09:00", "Z", "", "+23:59"]
far_instant = st.builds(lambda y, m, off: f"{y:04d}-{m:02d}-28T23:30:00{off}", st.integers(1, 9999), st.integers(1, 12),
                        st.sampled_from(OFFSETS))
far_day = st.builds(lambda y: f"{y:04d}-12-31", st.integers(1, 9999))
huge_int = st.integers(-10 ** 6, 10 ** 6) | st.sampled_from([10 ** 4000, -(10 ** 4000), 2 ** 63, 10 ** 300])
SYMBOLS = ["hw", "pp", "accepted", "option", "disk-array", "direct", "ex-04", "ex-91", "weekday-9h", "24x7", "install"]
scalar = (st.none() | st.booleans() | huge_int | st.floats() | odd_text | far_instant | far_day
          | st.sampled_from(SYMBOLS))
json_value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
deep_value = st.integers(1, 3000).map(lambda n: json.loads("[" * n + "]" * n) if n < 900 else [[]])


def _invoke(args, input=None):
    from hypothesis import event

    """The CLI in this process: what a user sees, checked as the issue's Done-when says."""
    start = time.perf_counter()
    r = CliRunner().invoke(main, args, input=input)
    elapsed = time.perf_counter() - start
    assert r.exception is None or isinstance(r.exception, SystemExit), f"{type(r.exception).__name__}: {r.exception}"
    assert r.exit_code in (0, 2), (r.exit_code, r.stderr[-400:])
    assert "Traceback" not in r.stderr
    if r.exit_code == 2:  # one line says what is wrong (click's usage errors add the usage above it)
        said = [line for line in r.stderr.splitlines() if line.lower().startswith("error: ")]
        # (click quotes a bad option's value whole: an argument is at most 128 KiB)
        quoted = sum(len(repr(a)) for a in args if a.startswith("--technicians") or a.startswith("--variant"))
        assert r.stdout == "" and len(said) == 1 and len(said[0]) < 2_000 + quoted, r.stderr[:400]
    assert len(r.stdout) < 500_000
    assert elapsed < 10, elapsed  # (generous: the machine's cores are shared)
    event(f"exit {r.exit_code}")
    return r


def plausible(path: str):
    """A value the field may well have (so that many cases decide, and the decision itself is fuzzed too)."""
    kind, allowed, _ = FIELDS[path]
    if allowed:
        return st.sampled_from(allowed)
    return {"datetime": st.datetimes(dt.datetime(2018, 1, 1), dt.datetime(2032, 1, 1)).map(
                lambda t: t.isoformat(timespec="minutes") + "+09:00"),
            "date": st.dates(dt.date(2015, 1, 1), dt.date(2032, 1, 1)).map(dt.date.isoformat),
            "bool": st.booleans(), "int": st.integers(0, 8), "list": st.just([]),
            "symbol": st.sampled_from(SYMBOLS), "string": st.sampled_from(["JP", "SG"])}[kind]


@st.composite
def hostile_cases(draw):
    paths = draw(st.lists(st.sampled_from(LEAVES), max_size=4, unique=True))
    fields = {p: draw(plausible(p) | json_value | deep_value if draw(st.booleans()) else plausible(p)) for p in paths}
    if draw(st.booleans()):  # a work of any length, from a departure anywhere in time (mostly near now)
        start = draw(st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1))
                     | st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30)))
        length = draw(st.timedeltas(dt.timedelta(0), dt.timedelta(days=10))
                      | st.timedeltas(dt.timedelta(0), dt.timedelta(days=40_000)))
        end = start + length if start + length < dt.datetime(9999, 12, 30) else start
        off = draw(st.sampled_from(OFFSETS))
        fields.update({"work.departed_at": start.isoformat() + off, "work.completed_at": end.isoformat() + off})
    return make_case(fields)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=hostile_cases(), command=st.sampled_from(["eval", "eval", "explain"]), lang=st.sampled_from(["en", "ja"]))
def test_eval_of_any_case_exits_0_or_2_with_bounded_output(case, command, lang):
    r = _invoke([command, "-", "--lang", lang], input=json.dumps(case))
    if r.exit_code == 0 and command == "eval":
        assert json.loads(r.stdout)["verdict"]


near_instant = st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1)).map(lambda t: t.isoformat() + "+09:00")
instant_text = (near_instant | far_instant | odd_text | st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30)).map(
                    lambda t: t.isoformat() + "+09:00"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depart=near_instant | instant_text, length=st.timedeltas(dt.timedelta(minutes=1), dt.timedelta(days=8))
       | st.timedeltas(dt.timedelta(minutes=1), dt.timedelta(days=2))
       | st.timedeltas(dt.timedelta(days=-1), dt.timedelta(days=40_000)) | st.none(),
       complete=instant_text, technicians=st.just("1") | st.just("2") | huge_int.map(str) | odd_text,
       variant=st.sampled_from([None, "24x7", "nope"]))
def test_fee_of_any_times_exits_0_or_2_with_bounded_output(depart, length, complete, technicians, variant):
    if length is not None:  # mostly a completion after the departure, by anything up to a century
        try:
            complete = (dt.datetime.fromisoformat(depart) + length).isoformat()
        except (ValueError, OverflowError):
            pass
    args = ["fee", f"--depart={depart}", f"--complete={complete}", f"--technicians={technicians}"]
    r = _invoke(args + ([f"--variant={variant}"] if variant else []))
    if r.exit_code == 0:  # a fee, or (the work inside the variant's service hours, as the desk quotes it) none
        assert "per technician" in r.stdout or r.stdout == "  no fee: covered work inside the service hours\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=instant_text, variant=st.sampled_from(["weekday-9h", "24x7", "nope", "\ud800"]))
def test_deadline_of_any_time_exits_0_or_2(at, variant):
    r = _invoke(["deadline", f"--at={at}", f"--variant={variant}"])
    if r.exit_code == 0:
        assert dt.datetime.fromisoformat(r.stdout.strip()).utcoffset() == dt.timedelta(hours=9)
