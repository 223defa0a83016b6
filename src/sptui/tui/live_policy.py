"""The desk's live policy: given, or loaded in a thread after the first paint (a cold start shows the queue sooner;
an action that needs the policy waits for it); reloaded from the Policy screen, where a policy with errors never
replaces the last good one."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable

log = logging.getLogger("sptui.desk")


class PolicyUnavailable(ValueError):
    """The desk has no policy to decide with (it failed to load)."""


class LivePolicy:
    """`policy`, or `loader` to load it after the first paint. `say(text, severity, timeout)` puts a message on the
    desk's screen; it is called on the UI's event loop."""

    def __init__(self, policy, loader: Callable | None, path: str, words, say: Callable[[str, str, float], None]):
        self.path, self.words = path, words
        self._policy, self._loader, self._say = policy, loader, say
        self._error: str | None = None
        self._thread: threading.Thread | None = None
        self._ui_loop: asyncio.AbstractEventLoop | None = None

    @property
    def loaded(self):
        """The policy if one is live now, else None (never waits)."""
        return self._policy

    @property
    def current(self):
        """The compiled policy (waiting for it, if it is still loading); PolicyUnavailable if it failed."""
        if self._policy is None:
            self.start()
            if self._thread is not None:
                self._thread.join()
            if self._policy is None:
                raise PolicyUnavailable(self._error or "no policy is loaded")
        return self._policy

    def start(self) -> None:
        """Load the policy in a thread, if it is to be loaded and is not yet (on the UI thread only)."""
        if self._policy is None and self._loader is not None and self._thread is None:
            try:
                self._ui_loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the UI thread (a worker): the UI starts it after the first paint
                return
            self._thread = threading.Thread(target=self._load, name="policy", daemon=True)
            self._thread.start()

    def _tell(self, text: str, severity: str, timeout: float) -> None:
        # not call_from_thread: it waits for the UI, which may itself be waiting for this thread (`current`)
        self._ui_loop.call_soon_threadsafe(lambda: self._say(text, severity, timeout))

    def _load(self) -> None:
        try:
            self._policy = self._loader()
            self._plugin_failures()
        except Exception as e:  # noqa: BLE001 - shown on screen; the queue still works
            log.error("the policy could not be loaded: %s", e)
            self._error = str(e)
            self._tell(self._error, "error", 30)

    def _plugin_failures(self) -> None:
        """Plugins that failed to load were skipped (the desk works without them): say which, once."""
        from sptui.plugins.manager import default_manager

        failures = default_manager().failures
        failed = sorted({f.plugin for f in failures})
        if not failed:
            return
        for f in failures:
            log.warning("plugin %s failed [%s]: %s", f.plugin, f.stage, f.error)
        self._tell(self.words("plugins_failed", n=len(failed), names=", ".join(failed)), "warning", 20)

    def candidate(self, edit: tuple | None = None) -> tuple:
        """The policy's files checked and compiled again, not yet live: (the policy or None if its own files have
        errors, diagnostics, sources). A plugin whose policy files have errors is left out, as at start (its
        errors are still shown). `edit`: (file, text), that file's text as edited (not yet saved)."""
        from sptui.plugins.manager import default_manager
        from sptui.policy.compile import check_live

        extra = {str(edit[0]): edit[1]} if edit is not None else None
        new, diags, sources, skipped = check_live([self.path], plugins=default_manager(), extra_text=extra)
        if new is None:
            log.warning("policy reload failed; the last good policy stays live")
        elif skipped:
            log.info("policy %s compiled without plugins %s", new.digest, ", ".join(sorted(skipped)))
        return new, diags, sources

    def go_live(self, new) -> None:
        """`new` (a policy `candidate` gave) decides from now on."""
        self._policy, self._error = new, None
        log.info("policy reloaded: %s", new.digest)

    def reload(self, edit: tuple | None = None) -> tuple[bool, list, dict]:
        """Check and compile the policy's files again: the new policy goes live only if its own files have no
        errors; else the last good one stays. Returns (went live, diagnostics, sources)."""
        new, diags, sources = self.candidate(edit)
        if new is not None:
            self.go_live(new)
        return new is not None, diags, sources

    def variant_title(self, name: str) -> str:
        """` (月～金 9時間対応)`: the variant's title in the desk's language, or nothing while no policy is live."""
        try:
            v = self.current.rt.variants.get(name)
        except PolicyUnavailable:
            return ""
        if v is None:
            return ""
        return f" ({v.title_ja if self.words.lang == 'ja' else v.title_en})"
