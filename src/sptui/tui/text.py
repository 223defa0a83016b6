"""How the desk turns data into what a widget shows: one path for every value from the store, the policy or a mail.

A value from the data is plain text, never markup: a customer named `[bold]` shows as typed, a trap name with `[/]`
is matched as typed, `[@click=…]` is text, not a link. Control characters (ESC, from a hostile mail) become
visible `\\x1b`, never sent raw. Widgets get rich `Text` (which Textual never reads as markup) or `Content` made
from plain text; notifications go out with markup off (DeskApp.notify).
"""
from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.content import Content
from textual.markup import escape

from sptui.terminal import escape_controls
from sptui.tz import TOKYO
from sptui.tui.i18n import Words

VERDICT_STYLE = {"covered": "green", "not-covered": "red", "not-started": "red", "billable": "yellow",
                 "consult": "magenta"}


def safe(value, *, lines: bool = False) -> str:
    """Text from the data as a terminal may show it, by sptui.terminal's one rule: control characters (C0, C1,
    bidi controls, line and paragraph separators…) become visible `\\x1b`, `\\u202e`, never sent raw; a tab is a
    space; line breaks (\\n, \\r\\n) are kept only where `lines`, else each is a space."""
    text = str(value).replace("\t", " ").replace("\r\n", "\n")
    if not lines:
        text = text.replace("\n", " ")
    return escape_controls(text, keep="\n")


def plain(value, **kw) -> Text:
    """A value from the data as a widget's text (rich Text: never read as markup)."""
    return Text(safe(value), **kw)


def content(value, *, lines: bool = False) -> Content:
    """A value from the data as Textual Content (what the command palette's hits and option lists take), plain."""
    return Content(safe(value, lines=lines))


def markup(value) -> str:
    """A value for the few Textual APIs that read only markup (a palette command's title and help): escaped."""
    return escape(safe(value))


def highlight(matcher, value) -> Content:
    """A command palette hit for a value from the data, its matched letters highlighted. (Textual's
    `Matcher.highlight` reads the candidate as markup: `[bold]株式会社[/]` lost its brackets, a `[/]` raised and the
    palette said "No matches found", `[@click=…]` became a live action.)"""
    text = safe(value)
    out = Content(text)
    score, offsets = matcher.fuzzy_search.match(matcher.query, text)
    if score:
        for at in offsets:
            if not text[at].isspace():
                out = out.stylize(matcher.match_style, at, at + 1)
    return out


def when(t: dt.datetime | None) -> str:
    return "—" if t is None else t.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def time_left(t: dt.datetime | None, at: dt.datetime, w: Words) -> Text:
    """The time to a deadline, counting down: `1:23:45`; past it, `overdue 0:05:00` (readable without colour)."""
    if t is None:
        return Text("—")
    secs = int((t - at).total_seconds())
    h, rest = divmod(abs(secs), 3600)
    text = f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    if secs < 0:
        return Text(f"{w('overdue')} {text}", style="bold red")
    return Text(text, style="yellow" if secs < 1800 else "")


def departed_text(departed: dt.datetime | None, at: dt.datetime, w: Words) -> Text:
    """A dispatched incident's state in place of its countdown: `dispatched 14:05` (the technician's departure; its
    date, `dispatched 11-26`, when not today)."""
    if departed is None:
        return Text(w.value("status", "dispatched"), style="cyan")
    departed = departed.astimezone(TOKYO)
    shown = departed.strftime("%H:%M" if departed.date() == at.astimezone(TOKYO).date() else "%m-%d")
    return Text(f"{w.value('status', 'dispatched')} {shown}", style="cyan")


def verdict_text(verdict, w: Words) -> Text:
    """A verdict as a word in the desk's language (readable without colour), in its colour."""
    return Text(safe(w.value("verdict", verdict)), style=VERDICT_STYLE.get(verdict, ""))


def status_text(status, consult: bool, w: Words) -> Text:
    """The status in the desk's language, after the 相談 mark when an operator marked it for consultation (words:
    readable without colour)."""
    out = Text()
    if consult:
        out.append(w("consult"), style="bold magenta")
        out.append(" ")
    out.append(safe(w.value("status", status)))
    return out
