"""The triage of one incident or alarm: the machine, its pack and registration, the decision with every reason, its
clause and interpretation note, what would change it, and the timeline (its newest line kept in view). The
incident's actions (claim, assign, note, dispatch, consult, close) and the alarm's (reached, unreachable) are
asked for in dialogs; a refusal (a conflict with another desk, a closed incident, read-only) is a message."""
from __future__ import annotations

import logging
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from sptui.store.db import StoreError
from sptui.tui import data
from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.screens.alarm_call import ReachedModal
from sptui.tui.screens.complete import CompleteModal
from sptui.tui.screens.confirm import ConfirmModal
from sptui.tui.screens.dispatch import DispatchModal
from sptui.tui.screens.note import NoteModal
from sptui.tui.text import plain, safe, verdict_text, when
from sptui.tui.textual_compat import Guarded
from sptui.tui.widgets.keybar import KeyBar

log = logging.getLogger("sptui.desk")


class TriageScreen(Guarded, LocalBindings, Screen):
    BINDINGS = bindings("triage")

    def __init__(self, kind: str, rid: int) -> None:
        super().__init__()
        self.kind, self.rid = kind, rid
        self.record: dict = {}
        self._seen: tuple = ()  # the record's fingerprint as shown (data.record_fingerprint)
        self._data_version: int | None = None  # the store's, when last looked (SQLite)
        self._last_actor: str | None = None  # who wrote the newest line of the timeline shown

    def compose(self) -> ComposeResult:
        yield Static(id="head")
        yield Static(id="decision")
        with VerticalScroll(id="body"):
            yield Static(id="machine")
            yield DataTable(id="reasons", cursor_type="row")
            yield Static(id="whatif")
        with VerticalScroll(id="timeline-box"):
            yield Static(id="timeline")
        yield KeyBar()

    def on_mount(self) -> None:
        w = self.app.words
        table = self.query_one("#reasons", DataTable)
        for key in ("rule", "outcome", "clause", "message", "interpretation"):
            table.add_column(w(key), key=key)
        self.load()
        table.focus()
        # other desks' changes: on SQLite a look at data_version each second; on PostgreSQL the queue's listener
        # calls look() at once (QueueScreen.heard), and this is the fallback
        self.set_interval(1.0 if self.app.store.db.data_version() is not None else data.POLL_SECONDS, self.look)

    def check_action(self, action: str, parameters: tuple) -> bool:
        """An incident's keys on an incident, an alarm's on an alarm: the key bar shows only what applies."""
        if action == "claim":  # (nothing to claim on one this operator owns: its room in the key bar goes to the rest)
            return self.kind == "incident" and self.record.get("owner") != self.app.operator
        if action in ("assign", "note", "dispatch", "close", "consult"):
            return self.kind == "incident"
        if action == "complete":  # the real end of a dispatched incident's work
            return self.kind == "incident" and self.record.get("status") == "dispatched"
        return self.kind == "alarm" if action == "contact" else True

    def show(self, kind: str, rid: int) -> None:
        """Show another record on this (mounted) screen, from the top."""
        self.kind, self.rid = kind, rid
        self.query_one("#whatif", Static).update("")
        self.load()
        self.query_one("#body", VerticalScroll).scroll_home(animate=False)
        self.query_one("#reasons", DataTable).focus()  # (load's clear put its cursor on the first row)

    def look(self) -> None:
        """Another desk's change to the record on screen shows here (as in the queue): reloaded, and said."""
        if self not in self.app.screen_stack or not self.record:
            return
        store = self.app.store
        version = store.db.data_version()
        if version is not None and version == self._data_version:  # nothing committed since: no query
            return
        self._data_version = version
        if data.record_fingerprint(store, self.kind, self.rid) != self._seen:
            self.load()
            if self._last_actor != self.app.operator:  # (this desk's own change, seen before its reload)
                self.app.notify(self.app.words("changed_elsewhere", what=f"{self.app.words(self.kind)} #{self.rid}",
                                               who=safe(self._last_actor or "?")), markup=False)

    def load(self) -> None:
        store, w = self.app.store, self.app.words
        self.record = store.incidents.get(self.rid) if self.kind == "incident" else store.alarms.get(self.rid)
        self._seen = data.record_fingerprint(store, self.kind, self.rid)
        r = self.record
        m = self.machine = data.machine_of(store, r["machine_id"])
        d = r["decision"] or {}
        self.query_one("#head", Static).update(Text(safe(self._head(r), lines=True), style="bold"))
        self.query_one("#machine", Static).update(Text(safe(
            f"{w('machine')}: {m['label_number']}  {w('model')} {m['model_code']}  {w('serial')} {m['serial_number']}\n"
            f"{w('customer')}: {m['customer_organisation']}  {m['customer_name']}  {w('phone')} {m['customer_phone']}\n"
            f"{w('site')}: {m['site_organisation']}  {m['site_address']}\n"
            f"{w('pack')}: {m['variant']}{self.app.variant_title(m['variant'])} {m['years']}{w('years')}  "
            f"{w('registration')}: {w.value('registration', m['registration_status'])}"
            f" {m['completed_on'] or ''}  {w('express')}: {m['express_start_on'] or '—'}", lines=True)))
        deadline = r.get("deadline") if self.kind == "incident" else None
        deadline = when(deadline) if deadline is not None else d.get("dispatch_deadline")
        verdict = Text(f"{w('decision')}: ")
        verdict.append_text(verdict_text(d.get("verdict", "?"), w))
        verdict.append(f"  {w('in_hours')}: {w.yes_no(d.get('in_service_hours'))}  {w('deadline')}: {deadline or '—'}")
        if d.get("fee"):
            verdict.append(f"  {w('fee')}: {d['fee']['total_jpy']:,}円")
        if d.get("setting_recovery"):
            rec = d["setting_recovery"]
            verdict.append(safe(f"\n{w('recovery')}: {rec.get('action')} ({rec.get('cite', '')})"))
        self.query_one("#decision", Static).update(verdict)
        if self.kind == "incident":  # after the screen is painted: the worker's decisions would hold the GIL first
            self.call_after_refresh(self.run_worker, partial(self._whatif, self.rid, r["case"]), thread=True,
                                    exclusive=True, group="whatif")
        table = self.query_one("#reasons", DataTable)
        table.clear()
        ja = d.get("messages_ja") or []
        for n, reason in enumerate(d.get("reasons", [])):
            msg = ja[n] if w.lang == "ja" and n < len(ja) else reason.get("message", "")
            table.add_row(plain(reason["rule"]), plain(w.value("outcome", reason["outcome"])), plain(reason.get("cite", "")), plain(msg),
                          plain(reason.get("note", "")))
        self._show_timeline()
        self.refresh_bindings()  # (the record's kind decides the keys)

    def _head(self, r: dict) -> str:
        w = self.app.words
        if self.kind == "incident":
            fee = (r["decision"] or {}).get("fee")
            billing = w.billing(r["billing"], fee and fee["total_jpy"]) if r["status"] == "dispatched" else ""
            pays = f" · {billing}" if billing else ""
            head = (f"{w('incident')} #{r['id']}  {w('status')}: {w.value('status', r['status'])}{pays}  {w('owner')}: "
                    f"{r['owner'] or '—'}  {w('received')}: {when(r['received_at'])}\n{r['summary']}")
            return head + (f"\n{w('consult')}: {r['consult']}" if r["consult"] is not None else "")
        status = w.value("status", r["status"])
        if r["incident_id"] is not None:
            status += f" → {w('incident')} #{r['incident_id']}"
        elif r["closed_reason"]:
            status += f" ({r['closed_reason']})"
        return (f"{w('alarm')} #{r['id']}  {w('status')}: {status}  {w('received')}: {when(r['received_at'])}  "
                f"{w('next_contact')}: {when(r['next_contact_at'])}\n{r['computer']}  {r['trap'] or ''}  "
                f"{w('event')} {r['event_id'] or '—'}\n{w('detail')}: {r['detail'] or ''}")

    def _show_timeline(self) -> None:
        """The timeline, its newest line in view."""
        store, w = self.app.store, self.app.words
        if self.kind == "incident":
            entries = store.incidents.timeline(self.rid)
            lines = [f"{when(e['at'])}  {e['operator']}  {w.value('event', e['kind'])}: {e['text']}" for e in entries]
        else:
            entries = data.attempts(store, self.rid)
            lines = [f"{when(a['at'])}  {a['operator']}  {w('reached') if a['reached'] else w('unreached')}  {a['note']}"
                     for a in entries]
        self._last_actor = entries[-1]["operator"] if entries else self.record.get("updated_by")
        self.query_one("#timeline", Static).update(Text("\n".join(safe(x) for x in lines)))
        box = self.query_one("#timeline-box", VerticalScroll)
        box.border_title = w("timeline")
        self.call_after_refresh(box.scroll_end, animate=False)

    def _whatif(self, rid: int, case: dict) -> None:
        """What would change the outcome (`sptui explain`'s counterfactuals: each a real decision on a changed
        case), worked out off the UI thread."""
        from sptui.policy.decide import case_values
        from sptui.explanation import counterfactuals

        w = self.app.words
        try:
            policy = self.app.policy
            parsed = case_values(policy, case)
            lines = counterfactuals(policy, parsed, policy.decide(parsed), w.lang)
        except Exception as e:  # noqa: BLE001 - shown in place of the list
            text = Text(safe(f"{w('whatif')}: {type(e).__name__}: {e}"), style="red")
        else:
            text = Text(f"{w('whatif')}\n", style="bold")
            text.append(safe("\n".join(f"  {x}" for x in lines) or f"  {w('none')}", lines=True), style="")
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_whatif, rid, text)

    def show_whatif(self, rid: int, text: Text) -> None:
        """A record's counterfactuals, worked out: shown if that record is still the one on screen."""
        if self.kind == "incident" and self.rid == rid:  # (the screen may show another record by now)
            self.query_one("#whatif", Static).update(text)

    # -- actions ---------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)  # (not pop_screen: dismiss runs the opener's callback, which reloads its list)

    def _guard(self, what: str, fn, done: str) -> None:
        """Run a store action; a refusal (conflict, closed, read-only) becomes a message, not a traceback."""
        w = self.app.words
        if self.app.read_only:
            self.app.notify(w("read_only"), severity="warning")
            return
        try:
            fn()
        except (StoreError, ValueError) as e:  # refused: a conflict, a closed incident, a missing policy
            log.warning("%s %s %s: %s", what, self.kind, self.rid, e)
            self.app.notify(self._refusal(e), severity="error", markup=False)
        except Exception as e:  # noqa: BLE001 - the database failed (locked, gone): said, logged, desk stays up
            log.exception("%s %s %s failed", what, self.kind, self.rid)
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)
        else:
            if done:
                self.app.notify(w(done))
        self.reload()

    def _refusal(self, error: Exception) -> str:
        """A refusal in the desk's words: another operator owns it, it changed since it was read, it is closed
        (read again to say who and what); anything else, and everything in English, as the desk layer says it."""
        from sptui.store.db import ConflictError

        if self.app.words.lang == "en" or self.kind != "incident" or not isinstance(error, StoreError):
            return str(error)
        w, what = self.app.words, f"{self.app.words('incident')} #{self.rid}"
        try:
            now = self.app.store.incidents.get(self.rid)
        except Exception:  # noqa: BLE001 - cannot read it again: the refusal as it came
            return str(error)
        if now["status"] == "closed" and self.record.get("status") != "closed" or "is closed" in str(error):
            return w("refused_closed", what=what)
        if not isinstance(error, ConflictError):
            return str(error)
        if now["owner"] not in (None, self.app.operator) and f"owned by {now['owner']}" in str(error):
            return w("refused_owned", what=what, owner=now["owner"])
        return w("refused_changed", what=what, who=now.get("updated_by") or "?")

    def reload(self) -> None:
        try:
            self.load()
        except Exception as e:  # noqa: BLE001
            log.exception("reloading %s %s failed", self.kind, self.rid)
            self.app.notify(f"{type(e).__name__}: {e}", severity="error", markup=False)

    def _ask(self, modal, what: str, call, done: str) -> None:
        """Ask with a modal; an answer (not a cancel) runs `call(answer)` as a guarded store action. A read-only
        desk asks nothing."""
        if self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
            return

        def answered(value) -> None:
            if value:
                self._guard(what, lambda: call(value), done)

        self.app.push_screen(modal, answered)

    def _need(self, kind: str) -> bool:
        if self.kind != kind:
            self.app.notify(self.app.words("not_incident" if kind == "incident" else "not_alarm"), severity="warning")
            return False
        return True

    def action_copy_clause(self) -> None:
        """The highlighted reason's clause citation to the clipboard (OSC 52: works over SSH)."""
        table = self.query_one("#reasons", DataTable)
        if not table.row_count:
            return
        cite = str(table.get_row_at(table.cursor_row)[2])
        rule = str(table.get_row_at(table.cursor_row)[0])
        self.app.copy_to_clipboard(cite)
        self.app.notify(self.app.words("copied", what=f"{cite} ({rule})"), markup=False)

    def action_claim(self) -> None:
        """Claim it; one another operator owns is taken over, after asking (audited)."""
        if not self._need("incident"):
            return
        store, operator, v, owner = self.app.store, self.app.operator, self.record["version"], self.record["owner"]
        if owner is None or owner == operator:
            self._guard("claim", lambda: store.incidents.claim(self.rid, operator=operator, version=v), "claimed")
        else:
            self._ask(ConfirmModal(self.app.words("confirm_take_over", owner=safe(owner))), "take-over",
                      lambda _: store.incidents.take_over(self.rid, operator=operator, version=v), "taken_over")

    def action_assign(self) -> None:
        if self._need("incident"):
            store, operator, v = self.app.store, self.app.operator, self.record["version"]
            self._ask(NoteModal(self.app.words("assign_prompt")), "assign",
                      lambda to: store.incidents.assign(self.rid, to, operator=operator, version=v), "assigned")

    def action_note(self) -> None:
        if self._need("incident"):
            store, operator, v = self.app.store, self.app.operator, self.record["version"]
            self._ask(NoteModal(self.app.words("note_prompt")), "note",
                      lambda text: store.incidents.add_note(self.rid, text, operator=operator, version=v), "noted")

    def action_dispatch(self) -> None:
        """The dispatch dialog: the fee shown is the decision kept; it closes only once the dispatch is stored."""
        from sptui.desk import dispatch, quote_dispatch

        if not self._need("incident"):
            return
        if self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
            return
        app, rid = self.app, self.rid

        def submit(inc: dict, form: dict):
            return dispatch(app.store, app.policy, rid, operator=app.operator, version=inc["version"], **form)

        def take_over(inc: dict):
            return app.store.incidents.take_over(rid, operator=app.operator, version=inc["version"])

        def dispatched(result) -> None:
            if result is not None:
                app.notify(app.words("dispatched"))
            self.reload()

        modal = DispatchModal(self.record, lambda inc, work: quote_dispatch(app.policy, inc, work), submit,
                              reload=lambda: app.store.incidents.get(rid), take_over=take_over)
        app.push_screen(modal, dispatched)

    def action_complete(self) -> None:
        """When the dispatched work really ended: the fee decided again and kept (sptui.desk.complete)."""
        from sptui.desk import complete, quote_dispatch

        if not self._need("incident"):
            return
        app, rid, inc = self.app, self.rid, self.record
        if app.read_only:
            app.notify(app.words("read_only"), severity="warning")
            return
        dispatches = app.store.incidents.dispatches(rid)
        if inc["status"] != "dispatched" or not dispatches:
            app.notify(app.words("not_dispatched"), severity="warning")
            return

        def submit(current: dict, at):
            return complete(app.store, app.policy, rid, operator=app.operator, completed_at=at,
                            version=current["version"])

        def recorded(result) -> None:
            if result is not None:
                app.notify(app.words("completion_recorded"))
            self.reload()

        modal = CompleteModal(inc, dispatches[-1], lambda current, work: quote_dispatch(app.policy, current, work),
                              submit, reload=lambda: app.store.incidents.get(rid))
        app.push_screen(modal, recorded)

    def action_close(self) -> None:
        if not self._need("incident"):
            return
        v = self.record["version"]
        self._ask(ConfirmModal(self.app.words("confirm_close")), "close",
                  lambda _: self.app.store.incidents.close(self.rid, operator=self.app.operator, version=v), "closed")

    def action_consult(self) -> None:
        """相談: mark the incident as needing consultation with the customer or NEC (asks why), or, when it is
        marked, clear the mark (asks first)."""
        if not self._need("incident"):
            return
        w, store, operator, v = self.app.words, self.app.store, self.app.operator, self.record["version"]
        if self.record["consult"] is None:
            self._ask(NoteModal(w("consult_prompt")), "consult",
                      lambda text: store.incidents.mark_consult(self.rid, text, operator=operator, version=v), "consult_marked")
        else:
            self._ask(ConfirmModal(w("confirm_unconsult")), "unconsult",
                      lambda _: store.incidents.clear_consult(self.rid, operator=operator, version=v), "consult_cleared")

    def action_contact(self, reached: bool) -> None:
        """`u`: not reached (the next call is decided). `y`: reached — a repair needed opens (or joins) the
        machine's incident, shown here next; no repair closes the alarm with the reason asked for."""
        if not self._need("alarm"):
            return
        if not reached:
            self._guard("contact", lambda: self._contact(reached=False), "contact_saved")
        elif self.app.read_only:
            self.app.notify(self.app.words("read_only"), severity="warning")
        else:
            self.app.push_screen(ReachedModal(self.rid), self._reached)

    def _reached(self, answer: str | None) -> None:
        if answer == "repair":
            self._guard("contact", lambda: self._contact(reached=True, repair_needed=True), "")
        elif answer == "no-repair":
            self._ask(NoteModal(self.app.words("no_repair_prompt")), "contact",
                      lambda reason: self._contact(reached=True, repair_needed=False, reason=reason), "alarm_closed")

    def _contact(self, **how) -> None:
        from sptui.desk import contact

        out = contact(self.app.store, self.app.policy, self.rid, at=data.now(), operator=self.app.operator,
                      version=self.record["version"], **how)
        if out["status"] == "linked":  # the work goes on in the incident: shown here (reload shows it)
            self.app.notify(self.app.words("alarm_linked" if not out["opened"] else "alarm_opened",
                                           alarm=self.rid, incident=out["incident_id"]))
            self.kind, self.rid = "incident", out["incident_id"]
