"""bench/tui_baseline: the least a desk does, as a Textual app — the baseline of bench/tui.py's figures.

One table of 500 rows (9 columns) and a footer; enter on a row pushes a small screen (a few lines of text),
escape pops it. bench/tui.py runs it in process (Pilot) and end to end in tmux (`python bench/tui_baseline.py`),
and measures cursor moves (down) and opening the small screen (enter) the same way as the desk's.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

COLUMNS = "abcdefghi"
ROWS = 500


class Small(Screen):
    """A row opened: its cells, a few lines."""

    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def __init__(self, cells: list) -> None:
        super().__init__()
        self.cells = cells

    def compose(self) -> ComposeResult:
        yield Static(Text("\n".join(f"{c}: {v}" for c, v in zip(COLUMNS, self.cells))))


class Baseline(App):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for c in COLUMNS:
            table.add_column(c)
        for n in range(ROWS):
            table.add_row(*(Text(f"{c}{n}") for c in COLUMNS))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.push_screen(Small(event.data_table.get_row(event.row_key)))


if __name__ == "__main__":
    Baseline().run()
