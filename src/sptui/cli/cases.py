"""Cases read for a batch (`sptui eval --jsonl`, `sptui diff --cases`): one JSON case per line, each line on its
own — a line that is not JSON, or not a case this policy can decide, is an error row naming its line, and the
other lines go on."""
from __future__ import annotations

import json
import sys
from typing import Any

import attrs

from sptui.cli.errors import BadInput, Failure, Reported


@attrs.frozen
class CaseLine:
    """One non-blank line of a JSON-lines file: its number (from 1) and its value, or why it cannot be used
    (`error`, and the case's `field` it names, if one)."""
    line: int
    data: Any = None
    error: str | None = None
    field: str | None = None
    failed: bool = False  # the case was read, but deciding or writing its decision failed (not bad input)

    def error_row(self) -> dict:
        """The line's error as `eval --jsonl` writes it in place of a decision."""
        row: dict[str, Any] = {"line": self.line, "error": self.error}
        if self.field:
            row["field"] = self.field
        return row


def read_source(source: str) -> str:
    """A file (read as files.read_text reads, at most CASE_INPUT_LIMIT) or standard input (`-`), without a
    byte-order mark an editor left; BadInput naming the source when it cannot be read."""
    from sptui.files import CASE_INPUT_LIMIT, FileProblem, read_stream, read_text

    try:
        text = (read_stream(sys.stdin.buffer, "standard input", limit=CASE_INPUT_LIMIT) if source == "-" else
                read_text(source, limit=CASE_INPUT_LIMIT))
    except FileProblem as e:
        raise BadInput(str(e)) from None
    return text.removeprefix("\ufeff")


def json_value(text: str, where: str):
    """The JSON value of `text`, or BadInput naming `where`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{where}: not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise BadInput(f"{where}: not read: the JSON is nested too deeply") from None
    except ValueError:  # a number of more digits than Python converts (sys.get_int_max_str_digits)
        raise BadInput(f"{where}: not read: a number has more than {sys.get_int_max_str_digits():,} digits") from None


def json_lines(text: str) -> list[CaseLine]:
    """Each non-blank line's JSON value, or its error. Lines end at \\n only: JSON text may hold U+2028 and the
    other line breaks str.splitlines knows."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            out.append(CaseLine(n, json_value(line, f"line {n}")))
        except BadInput as e:
            out.append(CaseLine(n, error=str(e).removeprefix(f"line {n}: ")))
    return out


def checked(policy, lines: list[CaseLine]) -> list[CaseLine]:
    """Each line's case read and checked against `policy` (its data a Case), or its error naming the field."""
    from sptui.errors import CaseError
    from sptui.policy.decide import case_values

    out = []
    for c in lines:
        if c.error is not None:
            out.append(c)
            continue
        try:
            out.append(attrs.evolve(c, data=case_values(policy, c.data)))
        except CaseError as e:
            out.append(CaseLine(c.line, error=f"{e.field}: {e.message}", field=e.field))
    return out


def errors_summary(bad: list[CaseLine], total: int) -> Reported:
    """The error a batch with bad lines ends with: how many, and each line's error (the details); bad input
    (exit 2) when a line was, else a failure (exit 1)."""
    kind = Failure if all(c.failed for c in bad) else BadInput
    return kind(f"{len(bad)} of {total} case(s) could not be decided", [f"line {c.line}: {c.error}" for c in bad])
