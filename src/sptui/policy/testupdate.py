"""`sptui test --update`: the values a failing test got become what it expects, written into its test file in
place (each `expect` line that failed is rewritten; a `null` that became a value becomes a block, a block that
became null becomes `null`). Only what failed changes; comments, other tests and the rest of the file stay."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sptui.policy.testrun import EXPECT_FIELDS, TestResult


def literal(v: Any) -> str:
    """A value as a test file writes it: null, true/false, 15000, 2026-11-30T10:00:00+09:00, a bare symbol."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    return str(v)


def _indent(lines: list[str], line: int) -> str:
    text = lines[line - 1]
    return text[: len(text) - len(text.lstrip())]


def _edits_for(result: TestResult, lines: list[str]) -> tuple[list[tuple[int, int, list[str]]], list[str]]:
    """The line replacements (first line, last line, new lines) that make the test expect what it got, and what
    could not be updated (a rule that did not run, a case that could not be decided)."""
    edits, left = [], []
    places = result.test.places
    for f in result.failures:
        if f.field.startswith("outcome of "):
            rule = f.field.removeprefix("outcome of ")
            span = places.get(f"outcome.{rule}")
            if span is None or f.got == "(not run)":
                left.append(f"{f.field}: the rule did not run")
                continue
            edits.append((span.line, span.end_line, [f"{_indent(lines, span.line)}outcome {rule}, {f.got}"]))
            continue
        span = places.get(f.field)
        if span is None:
            left.append(f"{f.field}: not found in the file")
            continue
        pad = _indent(lines, span.line)
        spec = EXPECT_FIELDS.get(f.field)
        if isinstance(f.expected, dict) and isinstance(f.got, dict):  # each sub-field that differs, on its line
            for key, value in f.got.items():
                sub = places.get(f"{f.field}.{key}")
                if sub is not None and f.expected.get(key) != value:
                    edits.append((sub.line, sub.end_line, [f"{_indent(lines, sub.line)}{key} {literal(value)}"]))
        elif isinstance(f.got, dict) and isinstance(spec, dict):  # null became a value: a block of its fields
            inner = [f"{pad}  {k} {literal(f.got.get(k))}" for k in spec if k in f.got]
            edits.append((span.line, span.end_line, [f"{pad}{f.field} {{", *inner, f"{pad}}}"]))
        else:
            edits.append((span.line, span.end_line, [f"{pad}{f.field} {literal(f.got)}"]))
    return edits, left


def update(results: list[TestResult], sources: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The new text of each test file a failing test is in, and what could not be updated ("test: why")."""
    by_file: dict[str, list[tuple[int, int, list[str]]]] = {}
    left: list[str] = []
    for r in results:
        if r.ok:
            continue
        if r.error:
            left.append(f"{r.test.name}: {r.error}")
            continue
        lines = sources[r.test.file].split("\n")
        edits, why = _edits_for(r, lines)
        by_file.setdefault(r.test.file, []).extend(edits)
        left += [f"{r.test.name}: {w}" for w in why]
    out = {}
    for file, edits in by_file.items():
        lines = sources[file].split("\n")
        for first, last, new in sorted(edits, key=lambda e: e[0], reverse=True):
            lines[first - 1:last] = new
        out[file] = "\n".join(lines)
    return out, left
