"""`sptui eval --jsonl`: a line that cannot be read or checked is an error row for that line; the rest go on."""
from __future__ import annotations

import json


def test_a_bad_line_is_an_error_row_and_the_rest_are_decided(run, base_case):
    other = dict(base_case, device=dict(base_case["device"], country="SG"))
    lines = [json.dumps(base_case), "{not json", "", json.dumps(dict(base_case, at="yesterday")), json.dumps(other)]
    p = run("eval", "--jsonl", "-", input="\n".join(lines) + "\n")
    assert p.returncode == 2  # some lines failed: bad input
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r.get("verdict") for r in rows] == ["covered", None, None, "not-covered"]
    assert rows[1]["line"] == 2 and "not JSON" in rows[1]["error"]
    assert rows[2]["line"] == 4 and rows[2]["field"] == "at" and "at" in rows[2]["error"]
    assert "2 of 4 case(s)" in p.stderr and "line 2" in p.stderr and "line 4" in p.stderr


def test_all_good_lines_exit_0(run, base_case):
    p = run("eval", "--jsonl", "-", input=json.dumps(base_case) + "\n" + json.dumps(base_case) + "\n")
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["verdict"] for x in p.stdout.splitlines()] == ["covered", "covered"]


def test_a_line_that_is_not_an_object_is_an_error_row(run, base_case):
    p = run("eval", "--jsonl", "-", input="[1, 2]\n" + json.dumps(base_case) + "\n")
    assert p.returncode == 2
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert rows[0]["line"] == 1 and "error" in rows[0] and rows[1]["verdict"] == "covered"
