"""A case (one incoming call or alarm) as `sptui eval` reads it, validated field by field.

`parse_case` turns the JSON object of ../shared/contract/eval.md into plain Python values (dates,
aware datetimes in Asia/Tokyo, strings for symbols) or raises CaseError naming the field.
"""
from __future__ import annotations

import datetime as dt
import re
import reprlib
from typing import Any

from sptui.policy.literals import TOKYO, YEARS

VERDICTS = ("not-started", "not-covered", "consult", "billable", "covered")
SUPPORTS = ("hw", "pp")

# dotted path -> (type, allowed symbols or None, required)
FIELDS: dict[str, tuple[str, tuple[str, ...] | None, bool]] = {
    "at": ("datetime", None, True),
    "support": ("symbol", SUPPORTS, True),
    "repair_needed": ("bool", None, False),
    "pack": ("record", None, True),
    "pack.variant": ("symbol", None, True),
    "pack.years": ("int", None, True),
    "pack.purchased_on": ("date", None, True),
    "registration": ("record", None, True),
    "registration.status": ("symbol", ("accepted", "pending", "rejected"), True),
    "registration.submitted_on": ("date", None, False),
    "registration.completed_on": ("date", None, False),
    "registration.agreed_end_on": ("date", None, False),
    "device": ("record", None, True),
    "device.purchased_on": ("date", None, True),
    "device.manufacture_ended_on": ("date", None, False),
    "device.country": ("string", None, True),
    "device.config_info": ("bool", None, False),
    "component": ("record", None, False),
    "component.kind": ("symbol", ("body", "option"), False),
    "component.category": ("symbol", None, False),
    "component.connection": ("symbol", ("internal", "direct", "appliance-linked"), False),
    "cause": ("symbol", None, False),
    "failure": ("record", None, False),
    "failure.raid": ("bool", None, True),
    "failure.disks_failed": ("int", None, True),
    "failure.mirror_lost": ("bool", None, False),
    "work": ("record", None, False),
    "work.departed_at": ("datetime", None, True),
    "work.completed_at": ("datetime", None, True),
    "work.technicians": ("int", None, False),
    "alarm": ("record", None, False),
    "alarm.received_at": ("datetime", None, True),
    "alarm.express_start_on": ("date", None, True),
    "alarm.contact_attempts": ("list", None, False),
    "pp_issue": ("record", None, False),
    "pp_issue.licence_ended": ("bool", None, False),
    "pp_issue.modified": ("bool", None, False),
    "pp_issue.request": ("symbol", ("question", "information", "revision-up", "version-up", "install", "fix",
                                    "onsite", "development", "misuse", "other-software", "disaster"), False),
    "move": ("record", None, False),
    "move.notified_on": ("date", None, True),
    "move.move_on": ("date", None, True),
    "move.country": ("string", None, False),
    "previous_service": ("record", None, False),
    "previous_service.on": ("date", None, True),
    "previous_service.same_cause": ("bool", None, True),
    "refund": ("record", None, False),
    "refund.kind": ("symbol", ("reject-terms", "registration-refused"), True),
    "refund.requested_on": ("date", None, True),
    "refund.notice_on": ("date", None, False),
}
# The ranges a case's values must lie in: beyond them a value is a mistake, and every computation on a value
# inside them stays inside Python's calendar (years 1-9999) and prints in a line.
# Instants and dates: YEARS, 1900-2999 (as written; see policy.literals).
# whole numbers, per field
INT_RANGES: dict[str, tuple[int, int]] = {"pack.years": (1, 99), "failure.disks_failed": (0, 999),
                                          "work.technicians": (1, 99)}
# text without a fixed set of values (a country, a category, a variant's or a cause's name): printable, this long
TEXT_LENGTH = 100
assert set(INT_RANGES) == {p for p, (kind, _, _) in FIELDS.items() if kind == "int"}

# fields the decision adds as it goes, readable by later blocks (fee, onsite, recovery, express)
DECISION_FIELDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "verdict": ("symbol", VERDICTS),
    "in_service_hours": ("bool", None),
}
ROOTS = {k for k in FIELDS if "." not in k}
# optional fields that parse_case fills in when they are missing
DEFAULTED = frozenset({"repair_needed", "component", "component.kind", "device.config_info", "failure.mirror_lost",
                       "work.technicians"})


# the dotted paths at which a parsed case always has a value: the field and every record above it are
# required or defaulted
NEVER_NULL = frozenset(path for path in FIELDS if all(
    FIELDS[p][2] or p in DEFAULTED for p in (".".join(path.split(".")[:i]) for i in range(1, path.count(".") + 2))))


def never_null(path: str) -> bool:
    return path in NEVER_NULL

# each record's own fields, precomputed: prefix -> [(key, path, type, allowed, required)]
_CHILDREN: dict[str, list[tuple[str, str, str, tuple[str, ...] | None, bool]]] = {}
for _path, (_kind, _allowed, _required) in FIELDS.items():
    _prefix, _, _key = _path.rpartition(".")
    _CHILDREN.setdefault(_prefix, []).append((_key, _path, _kind, _allowed, _required))
_KNOWN = {prefix: {c[0] for c in children} for prefix, children in _CHILDREN.items()}


class ParsedCase(dict):
    """A case that parse_case has already checked (decide does not parse it again)."""


class CaseError(ValueError):
    """Bad input: names the field (`pack.purchased_on`) and what was expected."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 60
_SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 2, 4, 4


def shown(value: Any) -> str:
    """A value as an error message quotes it: its repr (control characters and lone surrogates escaped),
    cut short (a value of megabytes, or nested a thousand deep, is quoted in a line)."""
    return _SHOWN.repr(value)


def parse_instant(value: Any, field: str) -> dt.datetime:
    """The one reader of an instant a user gives (a case's field, a CLI option): ISO 8601 with an offset, in
    the years sptui accepts (YEARS), as an aware datetime in Asia/Tokyo; CaseError naming `field` otherwise."""
    if not isinstance(value, str):
        raise CaseError(field, f"expected an ISO 8601 date-time with an offset, got {shown(value)}")
    try:
        t = dt.datetime.fromisoformat(value)  # Python 3.11 reads every ISO 8601 form, Z included
    except ValueError:
        raise CaseError(field, f"expected an ISO 8601 date-time with an offset, got {shown(value)}") from None
    return checked_instant(t, field)


def checked_instant(t: dt.datetime, field: str) -> dt.datetime:
    """An instant given as a datetime, checked as parse_instant checks it (aware, in YEARS), in Asia/Tokyo."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise CaseError(field, f"{shown(t.isoformat())} is a naive date-time; give its offset (+09:00 for Japan time)")
    if not YEARS[0] <= t.year <= YEARS[1]:
        raise CaseError(field, f"{shown(t.isoformat())} is outside the years {YEARS[0]}–{YEARS[1]} that sptui accepts")
    return t.astimezone(TOKYO)


def parse_day(value: Any, field: str) -> dt.date:
    """The one reader of a date a user gives: YYYY-MM-DD in the years sptui accepts (YEARS)."""
    if not isinstance(value, str):
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {shown(value)}")
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {shown(value)}") from None
    if not YEARS[0] <= d.year <= YEARS[1]:
        raise CaseError(field, f"{shown(value)} is outside the years {YEARS[0]}–{YEARS[1]} that sptui accepts")
    return d


def _value(path: str, kind: str, allowed, raw: Any) -> Any:
    """The value of one field, or the CaseError that names what is wrong with it (the generated reader calls
    this only for a value that failed its inline checks)."""
    if kind == "datetime":
        return parse_instant(raw, path)
    if kind == "date":
        return parse_day(raw, path)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise CaseError(path, f"expected true or false, got {shown(raw)}")
        return raw
    if kind == "int":
        lo, hi = INT_RANGES[path]
        if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
            raise CaseError(path, f"expected a whole number from {lo} to {hi}, got {shown(raw)}")
        return raw
    if kind in ("symbol", "string"):
        if allowed is not None:
            if not isinstance(raw, str) or raw not in allowed:
                raise CaseError(path, f"unknown value {shown(raw)}; expected one of {', '.join(allowed)}")
            return raw
        if not isinstance(raw, str) or not 0 < len(raw) <= TEXT_LENGTH or not raw.isprintable():
            raise CaseError(path, f"expected printable text of 1 to {TEXT_LENGTH} characters (no control "
                                  f"characters or lone surrogates), got {shown(raw)}")
        return raw
    if kind == "list":
        if not isinstance(raw, list):
            raise CaseError(path, f"expected a list, got {shown(raw)}")
        return raw
    raise AssertionError(kind)  # pragma: no cover


def _unknown_field(prefix: str, raw: dict) -> None:
    known = _KNOWN[prefix]
    for key in raw:
        if key not in known and not key.startswith("x-"):
            name = key if key.isprintable() and len(key) <= TEXT_LENGTH else shown(key)  # (a key is data too)
            raise CaseError(f"{prefix}.{name}", "unknown field")


def _not_object(prefix: str, raw: Any) -> CaseError:
    return CaseError(prefix or "case", f"expected an object, got {type(raw).__name__}")


# the checks each kind makes inline; a value that fails one goes to _value, which names the problem.
# A kind that keeps the value as it is has a test for a bad value {v}; a date or a date-time is converted
# from {v} into {out} (date.fromisoformat and datetime.fromisoformat refuse anything but a string with a
# TypeError)
_BAD = {
    "bool": "{v} is not True and {v} is not False",
    "int": "{v}.__class__ is not int or {test}",  # {test}: outside the field's range
    # with a set of allowed values (never the empty string) membership also refuses the empty string; without
    # one, {test} refuses text that is empty, too long or not printable
    "symbol": "{v}.__class__ is not str or {test}",
    "list": "not isinstance({v}, list)",
}
_BAD["string"] = _BAD["symbol"]
_IN_YEARS = f"{YEARS[0]} <= {{}}.year <= {YEARS[1]}"
_CONVERT = {
    "datetime": ("try:\n    t = _datetime({v})\nexcept (TypeError, ValueError):\n    _value({path!r}, 'datetime', None, {v})\n"
                 f"if t.tzinfo is None or not {_IN_YEARS.format('t')}:\n    _value({{path!r}}, 'datetime', None, {{v}})\n"
                 "{out} = t.astimezone(_TOKYO)"),
    "date": ("try:\n    {out} = _date({v})\nexcept (TypeError, ValueError):\n    _value({path!r}, 'date', None, {v})\n"
             f"if not {_IN_YEARS.format('{out}')}:\n    _value({{path!r}}, 'date', None, {{v}})"),
}


def _inline_test(path: str, kind: str, allowed, v: str) -> str:
    """The inline test that refuses a bad value of a field kept as it is (see _BAD)."""
    if kind == "int":
        lo, hi = INT_RANGES[path]
        return f"not {lo} <= {v} <= {hi}"
    if allowed:
        assert "" not in allowed
        return f"{v} not in {{{', '.join(map(repr, allowed))}}}"
    if kind in ("symbol", "string"):
        return f"not (0 < len({v}) <= {TEXT_LENGTH} and {v}.isprintable())"
    return ""


# what parse_case fills in for a missing optional field (source text)
_DEFAULTS = {"repair_needed": "False", "component": "{'kind': 'body', 'category': None, 'connection': None}",
             "component.kind": "'body'", "device.config_info": "False", "failure.mirror_lost": "False",
             "work.technicians": "1"}
assert set(_DEFAULTS) == DEFAULTED


def _bad_variant(variant: str, variants) -> None:
    raise CaseError("pack.variant", f"unknown variant {shown(variant)}; this policy has {', '.join(sorted(variants))}")


class Domain:
    """Every value a case field may take under a policy, and where the policy declares them (a table that is
    the field's domain: `domain cause` in the exclusions table)."""

    __slots__ = ("values", "source")

    def __init__(self, values: frozenset, source: str):
        self.values, self.source = values, source

    def refuse(self, field: str, value: str) -> None:
        ordered = sorted(self.values, key=str)
        listed = ", ".join(ordered) if len(ordered) <= 8 else f"{ordered[0]} … {ordered[-1]} ({len(ordered)} values)"
        raise CaseError(field, f"unknown value {shown(value)}; {self.source} lists {listed}")


# the fields a policy may give a domain: symbols that the case model leaves open (not pack.variant, whose values
# are the policy's variants)
DOMAIN_FIELDS = tuple(p for p, (kind, allowed, _) in FIELDS.items()
                      if kind == "symbol" and allowed is None and p != "pack.variant")


def _contact_attempts(raw: list | None) -> list:
    attempts = []
    for i, a in enumerate(raw or []):
        f = f"alarm.contact_attempts[{i}]"
        if not isinstance(a, dict):
            raise CaseError(f, f"expected an object {{\"at\": …, \"reached\": …}}, got {shown(a)}")
        if not isinstance(a.get("reached"), bool):
            raise CaseError(f + ".reached", f"expected true or false, got {shown(a.get('reached'))}")
        attempts.append({"at": parse_instant(a.get("at"), f + ".at"), "reached": a["reached"]})
    return sorted(attempts, key=lambda a: a["at"])


def _read_back(path: str) -> str:
    """Source (for _AFTER) of a field's value once its record is read: a missing record's fields are None."""
    record, _, key = path.rpartition(".")
    assert "." not in record, path  # (a record inside a record would need its own guard)
    return f"${path}" if not record else f"(${record} or {{}}).get({key!r})"


# the checks across fields and against the policy (`variants`: None when not given; `domains`: field -> Domain),
# in this order once every field is read; `$path` is the field's value
_AFTER = """\
if variants is not None and $pack.variant not in variants:
    _bad_variant($pack.variant, variants)
""" + "".join(f"""\
if (v := {_read_back(f)}) is not None and domains and (d := domains.get({f!r})) is not None and v not in d.values:
    d.refuse({f!r}, v)
""" for f in DOMAIN_FIELDS) + """\
if $work is not None:
    if $work.completed_at <= $work.departed_at:
        raise CaseError('work.completed_at', 'the work must complete after the departure')
if $alarm is not None:
    $alarm['contact_attempts'] = _contact_attempts($alarm.contact_attempts)"""


def _record_source(prefix: str, raw: str, out: str, lines: list[str], indent: str, names, ns: dict,
                   local: dict[str, str]) -> None:
    """Straight-line code that reads the record in variable `raw` into a dict in variable `out` (the root
    into a ParsedCase); `local` gets the variable of each field (path -> name)."""
    if prefix:
        ns[f"_known_{prefix}"] = frozenset(_KNOWN[prefix]).issuperset
        lines.append(f"{indent}if not _known_{prefix}({raw}):")
        lines.append(f"{indent}    _unknown_field({prefix!r}, {raw})")
    items = []
    for key, path, kind, allowed, required in _CHILDREN[prefix]:
        var = local[path] = next(names)
        items.append((key, var))
        # a value kept as it is is read straight into its variable, a record into the variable that
        # holds it as given; one converted into `v`
        sub = next(names) if kind == "record" else None
        v = var if kind in _BAD else sub or "v"
        lines.append(f"{indent}{v} = {raw}.get({key!r})")
        lines.append(f"{indent}if {v} is None:")
        lines.append(f"{indent}    raise CaseError({path!r}, 'missing required field')" if required else
                     f"{indent}    {var} = {_DEFAULTS.get(path, 'None')}")
        if kind in _BAD:
            test = _inline_test(path, kind, allowed, v)
            lines.append(f"{indent}elif {_BAD[kind].format(v=v, test=test)}:")
            lines.append(f"{indent}    _value({path!r}, {kind!r}, {allowed!r}, {v})")
            continue
        if kind == "record":
            lines.append(f"{indent}elif {v}.__class__ is not dict and not isinstance({v}, dict):")
            lines.append(f"{indent}    raise _not_object({path!r}, {v})")
            lines.append(f"{indent}else:")
            _record_source(path, sub, var, lines, indent + "    ", names, ns, local)
        else:
            lines.append(f"{indent}else:")
            check = _CONVERT[kind].format(out=var, v=v, path=path)
            lines += [f"{indent}    {line}" for line in check.split("\n")]
    if prefix:
        lines.append(f"{indent}{out} = {{{', '.join(f'{k!r}: {v}' for k, v in items)}}}")
    else:
        lines += [f"{indent}{line}" for line in re.sub(r"\$([a-z_.]+)", lambda m: local[m.group(1)], _AFTER).split("\n")]
        lines.append(f"{indent}{out} = _new_case(_ParsedCase)")
        lines += [f"{indent}{out}[{k!r}] = {v}" for k, v in items]


def _make_reader():
    """`read(raw, variants, domains) -> ParsedCase`: the case's fields checked and converted, generated once
    from FIELDS (the same checks as a loop over the table, without the loop's dispatch per field), then
    the checks across fields (_AFTER)."""
    import itertools

    lines = ["def read(raw, variants, domains):"]
    ns = {"CaseError": CaseError, "_unknown_field": _unknown_field, "_not_object": _not_object,
          "_value": _value, "_datetime": dt.datetime.fromisoformat, "_date": dt.date.fromisoformat, "_TOKYO": TOKYO,
          "_bad_variant": _bad_variant, "_contact_attempts": _contact_attempts, "_ParsedCase": ParsedCase,
          "_new_case": dict.__new__}
    _record_source("", "raw", "out", lines, "    ", (f"_v{i}" for i in itertools.count()), ns, {})
    lines.append("    return out")
    exec("\n".join(lines) + "\n", ns)
    return ns["read"]


_read = _make_reader()


def parse_case(raw: Any, *, variants: set[str] | None = None, domains: dict[str, Domain] | None = None) -> dict:
    """The case as plain values; CaseError names the first bad field. `variants`: the pack variants a case may
    name; `domains`: the values a field may take (see Domain), both from the policy."""
    if isinstance(raw, ParsedCase):
        return raw
    if not isinstance(raw, dict):
        raise CaseError("case", f"expected a JSON object, got {type(raw).__name__}")
    return _read(raw, variants, domains)
