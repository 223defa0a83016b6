"""A case (one incoming call or alarm): the one Case type, read from JSON and checked field by field.

`parse_case` turns the JSON object of ../shared/contract/eval.md into a `Case` of plain Python values (dates,
aware datetimes in Asia/Tokyo, strings for symbols) or raises CaseError naming the field. Everything that
decides takes a Case; a raw dict becomes one at the boundary (`policy.decide`, `sptui.explain`), once.
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
from typing import Any

from sptui.errors import CaseError, shown
from sptui.tz import TOKYO, YEARS, parse_day, parse_instant

VERDICTS = ("not-started", "not-covered", "consult", "billable", "covered")
# each verdict in Japanese: the word the desk (tui/i18n.py's catalogue) and `explain --lang ja` show for it
VERDICT_JA = {"covered": "対象", "not-covered": "対象外", "not-started": "開始前", "billable": "有償", "consult": "要相談"}
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
# Instants and dates: tz.YEARS, 1900-2999.
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


class Case(dict):
    """A case that parse_case has read and checked: a dict of plain values by field (records are dicts). Deciding
    never reads it again; `changed` gives a case with some fields replaced (what `sptui explain` tries)."""

    def changed(self, **paths: Any) -> "Case":
        """A copy with the fields named by path (`registration__status`: `registration.status`) replaced by values
        already in their parsed form (a date, an aware datetime in Japan time, …)."""
        out = Case(copy.deepcopy(dict(self)))
        for path, value in paths.items():
            *records, key = path.split("__")
            node = out
            for r in records:
                node = node[r]
            node[key] = value
        return out


def _datetime(path: str, allowed, raw: Any) -> dt.datetime:
    if raw.__class__ is str:  # the usual case read inline; anything else goes to parse_instant, which names it
        try:
            t = _fromisoformat(raw)
        except ValueError:
            t = None
        if t is not None and t.tzinfo is not None and _FIRST_YEAR <= t.year <= _LAST_YEAR:
            return t.astimezone(TOKYO)
    return parse_instant(raw, path)


def _date(path: str, allowed, raw: Any) -> dt.date:
    if raw.__class__ is str:
        try:
            d = _date_fromisoformat(raw)
        except ValueError:
            d = None
        if d is not None and _FIRST_YEAR <= d.year <= _LAST_YEAR:
            return d
    return parse_day(raw, path)


def _bool(path: str, allowed, raw: Any) -> bool:
    if raw is True or raw is False:
        return raw
    raise CaseError(path, f"expected true or false, got {shown(raw)}")


def _int(path: str, allowed, raw: Any) -> int:
    lo, hi = INT_RANGES[path]
    if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
        raise CaseError(path, f"expected a whole number from {lo} to {hi}, got {shown(raw)}")
    return raw


def _symbol(path: str, allowed, raw: Any) -> str:
    if allowed is not None:
        if not isinstance(raw, str) or raw not in allowed:
            raise CaseError(path, f"unknown value {shown(raw)}; expected one of {', '.join(allowed)}")
        return raw
    if not isinstance(raw, str) or not 0 < len(raw) <= TEXT_LENGTH or not raw.isprintable():
        raise CaseError(path, f"expected printable text of 1 to {TEXT_LENGTH} characters (no control "
                              f"characters or lone surrogates), got {shown(raw)}")
    return raw


def _list(path: str, allowed, raw: Any) -> list:
    if not isinstance(raw, list):
        raise CaseError(path, f"expected a list, got {shown(raw)}")
    return raw


# the reader of each kind of field: reader(path, allowed values or None, raw value) -> value, or CaseError
_READERS = {"datetime": _datetime, "date": _date, "bool": _bool, "int": _int, "symbol": _symbol, "string": _symbol,
            "list": _list}
_fromisoformat, _date_fromisoformat = dt.datetime.fromisoformat, dt.date.fromisoformat
_FIRST_YEAR, _LAST_YEAR = YEARS


def _unknown_field(prefix: str, raw: dict) -> None:
    """CaseError naming the first field `raw` has that the record `prefix` (the root: "") has not, with the known
    field it most likely meant (`recieved_at`: did you mean `at`?). `x-…` fields are the caller's own and pass."""
    known = _KNOWN[prefix]
    for key in raw:
        if key not in known and not (isinstance(key, str) and key.startswith("x-")):
            name = key if key.isprintable() and len(key) <= TEXT_LENGTH else shown(key)  # (a key is data too)
            where = f"{prefix}.{name}" if prefix else name
            raise CaseError(where, f"unknown field{_did_you_mean(key, known, prefix)}")


def _did_you_mean(key: str, known: set[str], prefix: str) -> str:
    """`; did you mean `pack.years`?`: the closest known field of the record (difflib), else the closest of any
    record (`recieved_at`: `alarm.received_at`), else the fields the record has."""
    def full(k: str) -> str:
        return f"{prefix}.{k}" if prefix else k

    word = key[:TEXT_LENGTH].lower()
    here = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.75)
    if here:
        return f"; did you mean `{full(here[0])}`?"
    leaves = {}
    for path in FIELDS:
        leaves.setdefault(path.rpartition(".")[2], path)
    anywhere = difflib.get_close_matches(word, sorted(leaves), n=1, cutoff=0.75)
    if anywhere:
        return f"; did you mean `{leaves[anywhere[0]]}`?"
    here = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.5)
    if here:
        return f"; did you mean `{full(here[0])}`?"
    return f"; {'the case' if not prefix else f'`{prefix}`'} has {', '.join(full(k) for k in sorted(known))}"


def _not_object(prefix: str, raw: Any) -> CaseError:
    return CaseError(prefix or "case", f"expected an object, got {type(raw).__name__}")


# what parse_case fills in for a missing optional field
_DEFAULTS = {"repair_needed": lambda: False, "component": lambda: {"kind": "body", "category": None, "connection": None},
             "component.kind": lambda: "body", "device.config_info": lambda: False,
             "failure.mirror_lost": lambda: False, "work.technicians": lambda: 1}
assert set(_DEFAULTS) == DEFAULTED


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


_ATTEMPT = ("at", "reached")  # the fields of one contact attempt


def _contact_attempts(raw: list | None) -> list:
    attempts = []
    for i, a in enumerate(raw or []):
        f = f"alarm.contact_attempts[{i}]"
        if not isinstance(a, dict):
            raise CaseError(f, f"expected an object {{\"at\": …, \"reached\": …}}, got {shown(a)}")
        for key in a:
            if key not in _ATTEMPT and not (isinstance(key, str) and key.startswith("x-")):
                name = key if key.isprintable() and len(key) <= TEXT_LENGTH else shown(key)
                near = difflib.get_close_matches(key[:TEXT_LENGTH].lower(), sorted(_ATTEMPT), n=1, cutoff=0.5)
                raise CaseError(f"{f}.{name}", "unknown field" + (f"; did you mean `{f}.{near[0]}`?" if near else
                                                                   f"; an attempt has {', '.join(sorted(_ATTEMPT))}"))
        if not isinstance(a.get("reached"), bool):
            raise CaseError(f + ".reached", f"expected true or false, got {shown(a.get('reached'))}")
        attempts.append({"at": parse_instant(a.get("at"), f + ".at"), "reached": a["reached"]})
    return sorted(attempts, key=lambda a: a["at"])


def _record(prefix: str, raw: dict, out: dict) -> dict:
    """The fields of the record `prefix` (the root: "") read from `raw` into `out`, in FIELDS order; CaseError
    names the first bad one. Unknown fields are refused at every level, the root's too (`x-…` pass)."""
    _unknown_field(prefix, raw)
    for key, path, kind, allowed, required in _CHILDREN[prefix]:
        value = raw.get(key)
        if value is None:
            if required:
                raise CaseError(path, "missing required field")
            default = _DEFAULTS.get(path)
            out[key] = None if default is None else default()
        elif kind == "record":
            if not isinstance(value, dict):
                raise _not_object(path, value)
            out[key] = _record(path, value, {})
        else:
            out[key] = _READERS[kind](path, allowed, value)
    return out


def _across(case: Case, variants, domains) -> None:
    """The checks across fields and against the policy, once every field is read."""
    variant = case["pack"]["variant"]
    if variants is not None and variant not in variants:
        raise CaseError("pack.variant", f"unknown variant {shown(variant)}; this policy has {', '.join(sorted(variants))}")
    if domains:
        for field in DOMAIN_FIELDS:
            record, _, key = field.rpartition(".")
            v = case[field] if not record else (case[record] or {}).get(key)
            d = domains.get(field)
            if v is not None and d is not None and v not in d.values:
                d.refuse(field, v)
    work = case["work"]
    if work is not None and work["completed_at"] <= work["departed_at"]:
        raise CaseError("work.completed_at", "the work must complete after the departure")
    if case["alarm"] is not None:
        case["alarm"]["contact_attempts"] = _contact_attempts(case["alarm"]["contact_attempts"])


def parse_case(raw: Any, *, variants: set[str] | None = None, domains: dict[str, Domain] | None = None) -> Case:
    """The case as a Case of plain values; CaseError names the first bad field. `variants`: the pack variants a
    case may name; `domains`: the values a field may take (see Domain), both from the policy. A Case is
    returned as it is (it was read once)."""
    if isinstance(raw, Case):
        return raw
    if not isinstance(raw, dict):
        raise CaseError("case", f"expected a JSON object, got {type(raw).__name__}")
    case = _record("", raw, Case())
    _across(case, variants, domains)
    return case
