"""The command palette's jump: to an incident or alarm of the queue, or to a clause of the policy, by a few letters.
(The palette's commands — `:alarms`, the triage's actions — are the app's system commands, from the action
registry.)"""
from __future__ import annotations

from functools import partial

from textual.command import Hit, Provider

from sptui.tui.screens.queue import QueueScreen
from sptui.tui.text import highlight, markup, safe


class JumpProvider(Provider):
    """The command palette's jump: to an incident or alarm of the queue, or to a clause of the policy."""

    async def search(self, query: str):
        app = self.app
        matcher = self.matcher(query)
        queue = next((s for s in app.screen_stack if isinstance(s, QueueScreen)), None)
        hits = 0
        w = app.words
        for r in (queue.rows if queue is not None else []):
            text = safe(f"#{r.id} {w(r.kind)} {r.label} {r.customer} {r.summary}")
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlight(matcher, text), partial(app.open_record, r.kind, r.id),
                          text=text, help=markup(w("jump_help")))
                hits += 1
                if hits >= 30:
                    break
        policy = app.live.loaded
        for cid, cl in (policy.clauses.items() if policy is not None else ()):
            text = safe(f"{cid} {cl.title}")
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, highlight(matcher, text), partial(app.open_clause, cid), text=text,
                          help=markup(w("clause_help")))
