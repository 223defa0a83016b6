"""A table that draws only the rows on screen (Textual's line API), so 100,000 rows cost what 40 do.

Columns have fixed widths in terminal cells (Japanese wide characters count two); a cell wider than its
column is cut with an ellipsis. The cursor row is drawn reversed (underlined while another widget has the
focus), readable without colour. Keys: up/down,
page up/down, g/G (first/last: home and end are lost by some SSH terminals), enter.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded

CURSOR = Style(reverse=True, bold=True)  # the cursor row while the table has focus
CURSOR_BLURRED = Style(underline=True, bold=True)  # … and while another widget (the filter) has it
PLAIN = Style()


def text_segments(text: Text, console, base: Style) -> list[Segment]:
    """A Text's segments (each with a style: Textual's NO_COLOR filter, Monochrome, fails on one without) with its own style (`Text("covered", style="green")`) and the widget's (`base`: its colours)
    under its spans'. `Text.render` leaves the Text's own style to `Console.print`, which the line API never calls:
    without this a cell styled as a whole is drawn plain, unless a span (the cursor's) happens to be on it."""
    own = console.get_style(text.style, default=PLAIN) if text.style else PLAIN
    return list(Segment.apply_style(text.render(console), base + own))


class HeaderLine(Guarded, Widget):
    """The column titles of a RowTable, on one line, scrolled sideways with it."""

    DEFAULT_CSS = "HeaderLine { height: 1; }"

    def __init__(self, table: "RowTable", **kw) -> None:
        super().__init__(**kw)
        self.table = table

    def on_mount(self) -> None:
        # the table's sideways scroll is the titles' too, and so is its sort (a watch: the header is not its child)
        self.watch(self.table, "scroll_x", lambda _old, _new: self.refresh(), init=False)
        self.watch(self.table, "sort_mark", lambda _old, _new: self.refresh(), init=False)

    def render_line(self, y: int) -> Strip:
        width, style = self.size.width, self.rich_style
        if y:
            return Strip.blank(width, style)
        strip = Strip(text_segments(self.table.header(), self.app.console, style))
        x = int(self.table.scroll_x)
        return strip.crop(x, x + width).extend_cell_length(width, style)


class RowTable(Guarded, LocalBindings, ScrollView, can_focus=True):
    BINDINGS = bindings("table")
    DEFAULT_CSS = "RowTable { height: 1fr; }"

    cursor = reactive(0, always_update=True, repaint=False)  # watch_cursor repaints what changed
    sort_mark: reactive[tuple[int, bool] | None] = reactive(None)  # (column, descending): ▲/▼ after its title

    class Selected(Message):
        def __init__(self, row: Any) -> None:
            super().__init__()
            self.row = row

    def __init__(self, columns: Sequence[tuple[str, int]], cells: Callable[[Any], Sequence[Text]], **kw) -> None:
        """columns: (title, width in cells); cells(row) → one Text per column."""
        super().__init__(**kw)
        self.columns = list(columns)
        self.cells = cells
        self.rows: Sequence[Any] = []

    @property
    def width_needed(self) -> int:
        return sum(w for _, w in self.columns) + len(self.columns) - 1

    def set_rows(self, rows: Sequence[Any], keep: Callable[[Any], bool] | None = None) -> None:
        """Show these rows; the cursor stays on the row `keep` accepts, if it is still there."""
        self.rows = rows
        self.virtual_size = Size(self.width_needed, len(rows))
        at = 0
        if keep is not None:
            at = next((n for n, r in enumerate(rows) if keep(r)), 0)
        self.cursor = min(at, max(0, len(rows) - 1))
        self.call_after_refresh(self._reveal)  # once the new size is laid out (scrolling is clamped to it)
        self.refresh()

    @property
    def current(self) -> Any | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- drawing ---------------------------------------------------------------------------------------------
    def _row_segments(self, row: Any, selected: bool) -> list[Segment]:
        segs: list[Segment] = []
        base, console = self.rich_style, self.app.console
        cursor = CURSOR if self.has_focus else CURSOR_BLURRED
        gap = Segment(" ", base + cursor if selected else base)
        for n, ((_, width), cell) in enumerate(zip(self.columns, self.cells(row))):
            text = cell.copy()
            text.truncate(width, overflow="ellipsis", pad=True)
            if selected:
                text.stylize(cursor)
            if n:
                segs.append(gap)
            segs.extend(text_segments(text, console, base))
        return segs

    def render_line(self, y: int) -> Strip:
        n = int(self.scroll_y) + y
        width = self.size.width
        if n >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        strip = Strip(self._row_segments(self.rows[n], n == self.cursor))
        return strip.crop(int(self.scroll_x), int(self.scroll_x) + width).extend_cell_length(width, self.rich_style)

    def header(self) -> Text:
        """The column titles on one line (cut at the screen's edge, never wrapped under themselves)."""
        out = Text(style="bold", no_wrap=True, overflow="crop")
        mark = self.sort_mark
        for n, (title, width) in enumerate(self.columns):
            sorted_here = mark is not None and mark[0] == n
            cell = Text(f"{title} {'▼' if mark[1] else '▲'}" if sorted_here else title)
            cell.truncate(width, overflow="ellipsis", pad=True)
            out.append_text(cell if not n else Text(" ") + cell)
        return out

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- cursor ----------------------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        self._reveal()
        if int(self.scroll_y) == top:  # no scroll: only the two rows change (not the ~50 on screen)
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()

    @property
    def rows_shown(self) -> int:
        """How many rows are on screen: the height without the horizontal scrollbar (a row under it is hidden)."""
        return max(1, self.scrollable_content_region.height)

    def _reveal(self) -> None:
        """Scroll so that the cursor row is on screen."""
        top, height, new = int(self.scroll_y), self.rows_shown, self.cursor
        if new < top:
            self.scroll_to(y=new, animate=False, force=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, force=True)

    def action_cursor(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))

    def action_sideways(self, cells: int) -> None:
        self.scroll_to(x=max(0, int(self.scroll_x) + cells), animate=False, force=True)

    def action_page(self, step: int) -> None:
        self.action_cursor(step * max(1, self.rows_shown - 1))

    def action_first(self) -> None:
        self.action_cursor(-len(self.rows))

    def action_last(self) -> None:
        self.action_cursor(len(self.rows))

    def on_click(self, event) -> None:
        n = int(self.scroll_y) + event.y
        if 0 <= n < len(self.rows):
            self.cursor = n
            if event.chain >= 2:  # a double click opens
                self.action_select()

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self.current))
