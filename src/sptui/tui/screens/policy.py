"""`:policy`: the policy's files, highlighted, edited in place or in $EDITOR, with live diagnostics."""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from sptui.tui.actions import bindings
from sptui.tui.i18n import LocalBindings
from sptui.tui.textual_compat import Guarded
from sptui.tui.live_policy import PolicyUnavailable
from sptui.tui.screens.unsaved import UnsavedModal
from sptui.tui.text import plain, safe
from sptui.tui.widgets.keybar import KeyBar
from sptui.tui.widgets.policy_editor import PolicyEditor


class PolicyScreen(Guarded, LocalBindings, Screen):
    """`:policy`: the policy's files, edited in place (ctrl+s saves) or in $EDITOR (ctrl+e), with live diagnostics.
    Reloading keeps the last good policy live when the new one has errors, and shows what failed. A file on disk is
    only ever replaced by a policy that checks (an edit with errors is kept aside, `NAME.sptp.draft`); leaving an
    edit that is not saved asks first (save, discard, stay)."""

    BINDINGS = bindings("policy")

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with Horizontal():
            yield OptionList(id="files")
            yield PolicyEditor(id="source", show_line_numbers=True)
        yield Static(id="diagnostics")
        yield KeyBar()

    def on_mount(self) -> None:
        from sptui.policy.compile import policy_files

        self.files = policy_files([self.app.policy_path])
        files = self.query_one("#files", OptionList)
        for f in self.files:
            files.add_option(Option(plain(f.name), id=str(f)))
        self.current = None
        if self.files:
            self.open_file(self.files[0])
        self.show_live()
        files.focus()

    def show_live(self) -> None:
        w = self.app.words
        try:
            p = self.app.policy
            text = w("policy_live", name=p.name, version=p.version, digest=p.digest[:19])
        except PolicyUnavailable as e:
            text = str(e)
        self.query_one("#title", Static).update(plain(text))

    def open_file(self, path) -> None:
        """Show the file to edit it: read as every policy file is (a regular UTF-8 file inside the policy's folder,
        of bounded size); a file that cannot be read opens nothing and says why (nothing of it is shown)."""
        from sptui.files import FileProblem, read_text

        try:
            text = read_text(path, within=path.parent, name=path.name)
        except FileProblem as e:
            self.current, self.saved = None, ""
            self.query_one("#source", TextArea).load_text("")
            self.query_one("#diagnostics", Static).update(Text(safe(str(e), lines=True), style="bold red"))
            return
        self.current = path
        self.saved = text  # the file's text on disk, as last read or saved
        self.query_one("#source", TextArea).load_text(self.saved)

    @property
    def dirty(self) -> bool:
        return self.current is not None and self.query_one("#source", TextArea).text != self.saved

    def leave(self, then) -> None:
        """Do `then` (leave the screen, open another file…) once the edit is saved or discarded; with an edit not
        saved, ask first: save (and go on only if it checks), discard, or stay."""
        if not self.dirty:
            then()
            return

        def answered(answer: str | None) -> None:
            if answer == "discard":
                then()
            elif answer == "save":
                self.save(on_saved=then)

        self.app.push_screen(UnsavedModal(self.current.name), answered)

    @on(OptionList.OptionSelected, "#files")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        from pathlib import Path

        path = Path(event.option.id)
        if path == self.current:
            self.query_one("#source", TextArea).focus()
            return

        def go() -> None:
            self.open_file(path)
            self.query_one("#source", TextArea).focus()

        self.leave(go)

    _check_timer = None

    @on(TextArea.Changed, "#source")
    def _edited(self, event: TextArea.Changed) -> None:
        if self._check_timer is not None:  # live diagnostics once typing pauses: one check, not one per key
            self._check_timer.stop()
        self._check_timer = self.set_timer(0.4, self.check_edit)

    def check_edit(self) -> None:
        from sptui.plugins.manager import default_manager
        from sptui.policy.compile import check

        if self.current is None:
            return
        text = self.query_one("#source", TextArea).text
        _, diags, sources = check(self.files, plugins=default_manager(), extra_text={str(self.current): text})
        self.show_diagnostics(diags, sources)

    def show_diagnostics(self, diags, sources) -> None:
        from sptui.policy.diagnostics import render

        w = self.app.words
        errors = [d for d in diags if d.severity == "error"]
        out = Text(w("policy_ok") if not errors else w("policy_errors", n=len(errors)),
                   style="green" if not errors else "bold red")
        for d in diags[:8]:
            out.append("\n" + safe(render(d, sources), lines=True))
        self.query_one("#diagnostics", Static).update(out)

    def action_back(self) -> None:
        self.leave(lambda: self.dismiss(None))

    def action_save(self) -> None:
        self.save()

    def save(self, on_saved=None) -> bool:
        """Save the edit if the policy checks with it; else the file stays as it was, the last good policy stays
        live, and the edit is kept aside (NAME.sptp.draft). Before it goes live, the decisions the desk recorded are
        replayed under it: when some change, the list is shown first (save, or keep editing). True if saved now;
        `on_saved` runs once it is saved (now, or after the list)."""
        w = self.app.words
        if self.app.read_only:
            self.app.notify(w("read_only"), severity="warning")
            return False
        if self.current is None:
            return False
        text = self.query_one("#source", TextArea).text
        new, diags, sources = self.app.live.candidate(edit=(self.current, text))
        self.show_diagnostics(diags, sources)
        if new is None:
            self._keep_aside(text)
            return False
        report = self._replay(new)
        if report is not None and report.changed:
            def answered(answer: str | None) -> None:
                if answer == "save" and self._commit(text, new, report) and on_saved is not None:
                    on_saved()

            from sptui.tui.screens.replay import ReplayModal

            self.app.push_screen(ReplayModal(report), answered)
            return False
        saved = self._commit(text, new, report)
        if saved and on_saved is not None:
            on_saved()
        return saved

    def _replay(self, new):
        """The store's recorded decisions replayed under `new` against the live policy (None without a store)."""
        from sptui.desk.replay import replay, store_cases

        store = getattr(self.app, "store", None)
        old = self.app.live.loaded
        if store is None or old is None:
            return None
        try:
            return replay(old, new, store_cases(store))
        except Exception as e:  # noqa: BLE001 - the replay is advice: a store that fails does not stop a save
            self.app.notify(f"{type(e).__name__}: {e}", severity="warning", markup=False)
            return None

    def _keep_aside(self, text: str) -> None:
        from sptui.files import FileProblem
        from sptui.tui.widgets.policy_editor import aside_path, write_atomic

        w = self.app.words
        aside = aside_path(self.current)
        try:
            write_atomic(aside, text)
        except (OSError, FileProblem) as e:
            self.app.notify(w("policy_refused_kept", aside=aside, error=e), severity="error", timeout=20)
        else:
            self.app.notify(w("policy_refused", aside=aside), severity="error", timeout=20)

    def _commit(self, text: str, new, report) -> bool:
        """The file written (atomically), then `new` live; the message says how many recorded decisions it alters."""
        from sptui.desk.replay import summary_line
        from sptui.files import FileProblem
        from sptui.tui.widgets.policy_editor import write_atomic

        w = self.app.words
        try:
            write_atomic(self.current, text)
        except (OSError, FileProblem) as e:  # the policy checked but is not on disk: the last good one stays live
            self.app.notify(f"{type(e).__name__}: {e}", severity="error")
            return False
        self.app.live.go_live(new)
        self.saved = text
        self.show_live()
        said = w("policy_saved") + (f" — {summary_line(report, w.lang)}" if report is not None else "")
        self.app.notify(said, markup=False)
        return True

    def action_reload(self) -> None:
        ok, diags, sources = self.app.live.reload()
        self.show_diagnostics(diags, sources)
        self.show_live()
        w = self.app.words
        self.app.notify(w("policy_reloaded") if ok else w("policy_kept"), severity="information" if ok else "error")

    def action_editor(self) -> None:
        import os
        import shlex
        import subprocess

        if self.current is None:
            return

        def edit() -> None:
            editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(self.current)], check=False)
            self.open_file(self.current)
            self.action_reload()

        self.leave(edit)

    def show_clause(self, cid: str) -> None:
        p = self.app.live.loaded
        if p is None or cid not in p.clauses:
            return
        cl = p.clauses[cid]
        out = Text(f"{cid}  {cl.title}\n", style="bold")
        for k, n in sorted({(k, n) for k, n in p.citations.get(cid, [])}):
            out.append(f"    ← {k} {n}\n")
        if cl.not_computable:
            out.append(f"    {self.app.words('not_computable')}: {cl.not_computable}\n")
        self.query_one("#diagnostics", Static).update(Text(safe(out.plain, lines=True)))

    def action_clauses(self) -> None:
        try:
            p = self.app.policy
        except PolicyUnavailable as e:
            self.app.notify(str(e), severity="error", markup=False)
            return
        out = Text()
        for cid, cl in p.clauses.items():
            cited = sorted({f"{k} {n}" for k, n in p.citations.get(cid, [])})
            out.append(f"{cid}  {cl.title}\n", style="bold")
            for c in cited:
                out.append(f"    ← {c}\n")
            if cl.not_computable:
                out.append(f"    {self.app.words('not_computable')}: {cl.not_computable}\n")
        self.query_one("#diagnostics", Static).update(Text(safe(out.plain, lines=True)))
