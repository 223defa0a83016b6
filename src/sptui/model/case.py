"""A case (one incoming call or alarm) as `sptui eval` reads it, validated field by field.

`parse_case` turns the JSON object of ../shared/contract/eval.md into plain Python values (dates,
aware datetimes in Asia/Tokyo, strings for symbols) or raises CaseError naming the field.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sptui.policy.literals import TOKYO

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


def parse_instant(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise CaseError(field, f"expected an ISO 8601 date-time with an offset, got {value!r}")
    try:
        t = dt.datetime.fromisoformat(value)  # Python 3.11 reads every ISO 8601 form, Z included
    except ValueError:
        raise CaseError(field, f"expected an ISO 8601 date-time with an offset, got {value!r}") from None
    if t.tzinfo is None:
        raise CaseError(field, f"{value!r} is a naive date-time; give its offset (+09:00 for Japan time)")
    return t.astimezone(TOKYO)


def parse_day(value: Any, field: str) -> dt.date:
    if not isinstance(value, str):
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CaseError(field, f"expected a date YYYY-MM-DD, got {value!r}") from None


def _value(path: str, kind: str, allowed, raw: Any) -> Any:
    if kind == "datetime":
        return parse_instant(raw, path)
    if kind == "date":
        return parse_day(raw, path)
    if kind == "bool":
        if not isinstance(raw, bool):
            raise CaseError(path, f"expected true or false, got {raw!r}")
        return raw
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise CaseError(path, f"expected a whole number, got {raw!r}")
        return raw
    if kind in ("symbol", "string"):
        if not isinstance(raw, str) or not raw:
            raise CaseError(path, f"expected a string, got {raw!r}")
        if allowed is not None and raw not in allowed:
            raise CaseError(path, f"unknown value {raw!r}; expected one of {', '.join(allowed)}")
        return raw
    if kind == "list":
        if not isinstance(raw, list):
            raise CaseError(path, f"expected a list, got {raw!r}")
        return raw
    raise AssertionError(kind)  # pragma: no cover


def _unknown_field(prefix: str, raw: dict) -> None:
    known = _KNOWN[prefix]
    for key in raw:
        if key not in known and not key.startswith("x-"):
            raise CaseError(f"{prefix}.{key}", "unknown field")


def _not_object(prefix: str, raw: Any) -> CaseError:
    return CaseError(prefix or "case", f"expected an object, got {type(raw).__name__}")


# the checks each kind makes inline; a value that fails one goes to _value, which names the problem.
# A kind that keeps the value as it is has a test for a bad value {v}; a date or a date-time is converted
# from {v} into {out} (date.fromisoformat and datetime.fromisoformat refuse anything but a string with a
# TypeError)
_BAD = {
    "bool": "{v} is not True and {v} is not False",
    "int": "{v}.__class__ is not int",
    # with a set of allowed values (never the empty string) membership also refuses the empty string
    "symbol": "{v}.__class__ is not str or {test}",
    "list": "not isinstance({v}, list)",
}
_BAD["string"] = _BAD["symbol"]
_CONVERT = {
    "datetime": ("try:\n    t = _datetime({v})\nexcept (TypeError, ValueError):\n    _value({path!r}, 'datetime', None, {v})\n"
                 "if t.tzinfo is None:\n    _value({path!r}, 'datetime', None, {v})\n"
                 "{out} = t.astimezone(_TOKYO)"),
    "date": "try:\n    {out} = _date({v})\nexcept (TypeError, ValueError):\n    _value({path!r}, 'date', None, {v})",
}
# what parse_case fills in for a missing optional field (source text)
_DEFAULTS = {"repair_needed": "False", "component": "{'kind': 'body', 'category': None, 'connection': None}",
             "component.kind": "'body'", "device.config_info": "False", "failure.mirror_lost": "False",
             "work.technicians": "1"}
assert set(_DEFAULTS) == DEFAULTED


def _bad_variant(variant: str, variants) -> None:
    raise CaseError("pack.variant", f"unknown variant {variant!r}; this policy has {', '.join(sorted(variants))}")


def _contact_attempts(raw: list | None) -> list:
    attempts = []
    for i, a in enumerate(raw or []):
        f = f"alarm.contact_attempts[{i}]"
        if not isinstance(a, dict):
            raise CaseError(f, "expected an object {\"at\": …, \"reached\": …}")
        if not isinstance(a.get("reached"), bool):
            raise CaseError(f + ".reached", "expected true or false")
        attempts.append({"at": parse_instant(a.get("at"), f + ".at"), "reached": a["reached"]})
    return sorted(attempts, key=lambda a: a["at"])


# the checks across fields and against the policy (`variants`, `causes`: None when not given), in this
# order once every field is read; `$path` is the field's value
_AFTER = """\
if variants is not None and $pack.variant not in variants:
    _bad_variant($pack.variant, variants)
if $pack.years < 1:
    raise CaseError('pack.years', f'expected a term of 1 or more years, got {$pack.years}')
if causes is not None and $cause is not None and $cause not in causes:
    raise CaseError('cause', f'unknown exclusion {$cause!r}; expected one of ex-01 … ex-19')
if $work is not None:
    if $work.technicians < 1:
        raise CaseError('work.technicians', f'expected 1 or more, got {$work.technicians}')
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
            test = f"{v} not in {{{', '.join(map(repr, allowed))}}}" if allowed else f"not {v}"
            assert not allowed or "" not in allowed
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
    """`read(raw, variants, causes) -> ParsedCase`: the case's fields checked and converted, generated once
    from FIELDS (the same checks as a loop over the table, without the loop's dispatch per field), then
    the checks across fields (_AFTER)."""
    import itertools

    lines = ["def read(raw, variants, causes):"]
    ns = {"CaseError": CaseError, "_unknown_field": _unknown_field, "_not_object": _not_object,
          "_value": _value, "_datetime": dt.datetime.fromisoformat, "_date": dt.date.fromisoformat, "_TOKYO": TOKYO,
          "_bad_variant": _bad_variant, "_contact_attempts": _contact_attempts, "_ParsedCase": ParsedCase,
          "_new_case": dict.__new__}
    _record_source("", "raw", "out", lines, "    ", (f"_v{i}" for i in itertools.count()), ns, {})
    lines.append("    return out")
    exec("\n".join(lines) + "\n", ns)
    return ns["read"]


_read = _make_reader()


def parse_case(raw: Any, *, variants: set[str] | None = None, causes: set[str] | None = None) -> dict:
    """The case as plain values; CaseError names the first bad field."""
    if isinstance(raw, ParsedCase):
        return raw
    if not isinstance(raw, dict):
        raise CaseError("case", f"expected a JSON object, got {type(raw).__name__}")
    return _read(raw, variants, causes)
