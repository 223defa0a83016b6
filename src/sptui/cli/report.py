"""The lead's commands: `sptui report` (the overview's figures over a period), `sptui handover` (a shift),
`sptui billing` (a month's billable and off-hours dispatches) and `sptui queue` (the queue, or what a filter
shows, as CSV or JSON). They read; they change nothing."""
from __future__ import annotations

import json
from pathlib import Path

import click

from sptui.cli import main
from sptui.cli.common import day_or_instant, db_option, open_store
from sptui.cli.errors import BadInput, say, say_data, say_json

lang_option = click.option("--lang", type=click.Choice(["ja", "en"]), default="en", help="the text's language")
at_option = click.option("--at", "at", default=None,
                         help="as of when (default: now): what is overdue, and --today/--week's day")
output_option = click.option("--output", "-o", "output", default=None, type=click.Path(dir_okay=False),
                             help="write to this file (default: standard output)")


def when(value: str | None, name: str, *, end: bool = False):
    """A user's instant or Japan day (cli.common.day_or_instant); none given: now."""
    from sptui.tz import now

    return now() if value is None else day_or_instant(value, name, end=end)


def json_text(data) -> str:
    """JSON whose strings carry no raw control character (an ESC or a bidi override in a name becomes `\\u001b`,
    `\\u202e`: the same JSON to a program, harmless on a terminal), as say_json writes it."""
    from sptui.terminal import json_escaped

    return json_escaped(json.dumps(data, ensure_ascii=False, indent=1)) + "\n"


def _emit(text: str, output: str | None) -> None:
    """The output to its file (sptui.files.write_file: atomic, never through a link), or to standard output
    (say_data: on a terminal every control character but the line ends shown escaped; piped, the data itself)."""
    from sptui.files import FileProblem, write_file

    if output is None:
        say_data(text)
        return
    try:
        write_file(output, text, private=True)  # (customers and their work: readable by the owner only, as a new file)
    except FileProblem as e:
        raise BadInput(str(e)) from None
    say(f"wrote {Path(output)}", err=True)


def _lines(lines: list[str]) -> None:
    for line in lines:
        say(line)


@main.command("report")
@click.option("--today", "span", flag_value="today", help="today, in Japan time (the default)")
@click.option("--week", "span", flag_value="week", help="this week, Monday to Sunday")
@click.option("--since", default=None, help="from (a day, or a time) …")
@click.option("--until", default=None, help="… to (a day is included; default: now)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@at_option
@lang_option
@db_option
def report(span, since, until, fmt, at, lang, db_url):
    """The desk's figures over a period: onsite deadlines met and missed (with why), alarm receipt to customer
    reached, what is overdue now, open work, consults waiting, off-hours dispatches; per customer and variant."""
    from sptui.desk.report import Period, overview
    from sptui.desk.report_text import overview_lines

    now = when(at, "at")
    if since is not None or until is not None:
        if span is not None:
            raise BadInput("give --today, --week or --since/--until, not both")
        if since is None:
            raise BadInput("--until needs --since")
        period = Period.between(when(since, "since"), when(until, "until", end=True) if until else now)
    else:
        period = Period.week(now) if span == "week" else Period.today(now)
    ov = overview(open_store(db_url), period, at=now)
    if fmt == "json":
        say_json(ov.json(), indent=1)
    else:
        _lines(overview_lines(ov, lang))


@main.command("handover")
@click.option("--since", required=True, help="the shift's start (a time, e.g. 2026-11-27 08:00, or a day)")
@click.option("--until", default=None, help="its end (default: now)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@lang_option
@db_option
def handover_cmd(since, until, fmt, lang, db_url):
    """A shift handed over: what changed (opened, claimed, dispatched, closed, alarms reached or not, retries
    into the next shift), what is left, who owns what. Text for a chat or a mail, or JSON."""
    from sptui.desk.handover import handover
    from sptui.desk.report_text import handover_lines

    start, end = when(since, "since"), when(until, "until", end=True)
    if end <= start:
        raise BadInput(f"--until ({end:%Y-%m-%d %H:%M}) is not after --since ({start:%Y-%m-%d %H:%M})")
    h = handover(open_store(db_url), start, end)
    if fmt == "json":
        say_json(h.json(), indent=1)
    else:
        _lines(handover_lines(h, lang))


@main.command("billing")
@click.option("--month", required=True, help="the month, e.g. 2026-11 (Japan time; by the departure)")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--bom", is_flag=True, help="start the CSV with a UTF-8 BOM (for Excel)")
@output_option
@db_option
def billing_cmd(month, fmt, bom, output, db_url):
    """Every dispatch of the month the customer pays for (off-hours, billable exclusions, uncovered work) with its
    別表-1 lines, technicians, consent, customer and contract; totals per customer. Cells safe for spreadsheets."""
    from sptui.desk.billing import COLUMNS, billing
    from sptui.desk.export import export_text

    b = billing(open_store(db_url), month)
    if fmt == "json":
        if bom:
            raise BadInput("--bom is for CSV (Excel); JSON is UTF-8 without one")
        _emit(json_text(b.json()), output)
    else:
        _emit(export_text(b.csv_rows(), COLUMNS, "csv", bom=bom), output)


@main.command("queue")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--filter", "needle", default="", help="only the rows the desk's filter would show for this text")
@click.option("--bom", is_flag=True, help="start the CSV with a UTF-8 BOM (for Excel)")
@output_option
@db_option
def queue_cmd(fmt, needle, bom, output, db_url):
    """The desk's queue (open incidents and alarms to call, most urgent first) as CSV or JSON; --filter keeps the
    rows the desk's filter shows."""
    from sptui.tui import data
    from sptui.tui.export import filtered, queue_text

    rows = filtered(data.queue(open_store(db_url)), needle)
    if fmt == "json":
        if bom:
            raise BadInput("--bom is for CSV (Excel); JSON is UTF-8 without one")
        from sptui.tui.export import records

        _emit(json_text(records(rows)), output)
    else:
        _emit(queue_text(rows, fmt, bom=bom), output)
