"""`:registry`: a machine by label number, serial, support ID, customer or phone, and what the policy warns about
it today (registration due, period ending…)."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tui.text import plain, safe, verdict_text
from sptui.tui.widgets.keybar import KeyBar


class RegistryScreen(Guarded, LocalBindings, Screen):
    """`:registry`: look a machine up by label number, serial, customer or phone; its registration warnings."""

    BINDINGS = bindings("registry")

    def compose(self) -> ComposeResult:
        w = self.app.words
        yield Static(Text(w("registry_title")), id="title")
        yield Input(placeholder=w("registry_prompt"), id="lookup")
        yield DataTable(id="machines", cursor_type="row")
        yield Static("", id="warnings")
        yield KeyBar()

    def on_mount(self) -> None:
        w = self.app.words
        t = self.query_one("#machines", DataTable)
        for key in ("label", "serial", "customer", "phone", "variant", "registration", "express"):
            t.add_column(w(key), key=key)
        self.found: list[dict] = []
        self.query_one("#lookup", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#lookup")
    def _lookup(self, event: Input.Submitted) -> None:
        q = event.value.strip()
        if not q:
            return
        store, found, w = self.app.store, {}, self.app.words
        digits = sum(ch.isdigit() for ch in q)
        looks = [{"label": q}, {"serial": q}, {"support_id": q}, {"customer": q}]
        if digits >= 6 and not any(ch.isalpha() for ch in q):
            looks.append({"phone": q})
        try:
            for how in looks:
                for m in store.registry.find(**how, limit=200):
                    found.setdefault(m["id"], m)
        except Exception as e:  # noqa: BLE001
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
            return
        self.found = sorted(found.values(), key=lambda m: m["label_number"])
        t = self.query_one("#machines", DataTable)
        t.clear()
        for m in self.found:
            t.add_row(plain(m["label_number"]), plain(m["serial_number"]), plain(m["customer_organisation"]),
                      plain(m["customer_phone"]), plain(f"{m['variant']} {m['years']}"),
                      plain(f"{w.value('registration', m['registration_status'])} {m['completed_on'] or ''}".strip()),
                      plain(m["express_start_on"] or "—"), key=str(m["id"]))
        self.query_one("#warnings", Static).update(Text(self.app.words("registry_found", n=len(self.found))))
        if self.found:
            t.focus()

    @on(DataTable.RowHighlighted, "#machines")
    def _show(self, event: DataTable.RowHighlighted) -> None:
        """The policy's reading of this machine today: what it warns about (registration due, period ending…)."""
        from sptui.desk.cases import case_for

        w = self.app.words
        m = next((m for m in self.found if str(m["id"]) == event.row_key.value), None)
        if m is None:
            return
        try:
            decision = self.app.policy.decide(case_for(m, at=data.now(), repair_needed=False))
        except Exception as e:  # noqa: BLE001 - a policy that cannot decide: said
            self.query_one("#warnings", Static).update(plain(f"{type(e).__name__}: {e}", style="red"))
            return
        lines = Text(f"{m['label_number']}  {w('verdict')}: ")
        lines.append_text(verdict_text(decision.verdict, w))
        for r in decision.reasons:
            if r.outcome in ("warn", "fail"):
                lines.append(f"\n  {w.value('outcome', r.outcome):<5} {', '.join(r.cite)}  {safe(r.message(w.lang))}",
                             style="yellow" if r.outcome == "warn" else "red")
        self.query_one("#warnings", Static).update(lines)
