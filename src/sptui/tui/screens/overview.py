"""`:overview`: how the desk is doing over today or this week — the figures `sptui report` prints (deadlines met and
missed with why, alarm receipt to customer reached, what is overdue now, open work, consults, off-hours
dispatches), incidents and alarms per hour as sparklines, the deadline slack as a bar chart, per customer and
variant. Words and block characters carry every figure, so it reads without colour; at 80×24 the body scrolls."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Sparkline, Static

from sptui.desk.report import Period, overview
from sptui.desk.report_text import at_min, figure_lines, group_lines, slack_lines, word
from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.text import safe
from sptui.tui.textual_compat import Guarded
from sptui.tui.widgets.keybar import KeyBar


def lines_text(lines: list[str]) -> Text:
    """Lines of figures (names from the data among them) as a widget's plain text."""
    return Text("\n".join(safe(line) for line in lines))


class OverviewScreen(Guarded, LocalBindings, Screen):
    """`:overview` (see the module docstring): `t` today, `w` this week, `r` again."""

    BINDINGS = bindings("overview")

    def __init__(self, span: str = "today") -> None:
        super().__init__()
        self.span = span
        self.figures = None  # the Overview shown

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        with VerticalScroll(id="overview-body"):
            yield Static("", id="figures")
            yield Static("", id="incidents-caption", classes="caption")
            yield Sparkline([], id="incidents-chart", classes="chart")
            yield Static("", id="alarms-caption", classes="caption")
            yield Sparkline([], id="alarms-chart", classes="chart")
            yield Static("", id="slack")
            yield Static("", id="groups")
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#overview-body").focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_period(self, span: str) -> None:
        self.span = span
        self.reload()

    def reload(self) -> None:
        at = data.now()
        period = Period.week(at) if self.span == "week" else Period.today(at)
        try:
            self.figures = overview(self.app.store, period, at=at)
        except Exception as e:  # noqa: BLE001 - the desk stays up; the operator is told
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        self.show(self.figures)
        self.query_one("#overview-body", VerticalScroll).scroll_home(animate=False)

    def show(self, ov) -> None:
        w, lang = self.app.words, self.app.words.lang
        span = f"{at_min(ov.period.since)} – {at_min(ov.period.until)}"
        name = word(lang, f"period_{ov.period.name}")
        self.query_one("#title", Static).update(Text(w("overview_title", period=f"{name} {span}")))
        self.query_one("#figures", Static).update(lines_text(figure_lines(ov, lang)))
        for key, series in (("incidents", ov.incidents_per_hour), ("alarms", ov.alarms_per_hour)):
            caption = word(lang, f"{key}_hour")
            self.query_one(f"#{key}-caption", Static).update(Text(
                f"{caption}: {sum(series)} (max {max(series, default=0)}/h) "
                f"{at_min(ov.period.since)[5:]} → {at_min(ov.period.until)[5:]}"))
            self.query_one(f"#{key}-chart", Sparkline).data = series
        self.query_one("#slack", Static).update(lines_text(slack_lines(ov, lang, width=40)))
        self.query_one("#groups", Static).update(lines_text(group_lines(ov, lang)))
