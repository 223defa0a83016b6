"""A shift handed over: what changed in it, what is left, who owns what — read from the audit log, the record of
every change as it was made (store.reports reads it; this sorts it into the handover).

    h = handover(store, since, until)        # h.json(), handover_lines(h, lang) (report_text.py)

What changed is every audit row of the shift, oldest first, each as an event: an incident opened, claimed, taken
over, assigned, marked for consultation (or cleared), noted, dispatched, closed; an alarm's call, the customer
reached or not; and anything else the log holds (a registry import, a purge) as it is logged. A retry scheduled
into the next shift is an unreached call of the shift whose next call is at or after the shift's end. What is left
is what is open as the handover is made: the incidents not closed and the alarms still to call.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import attrs

from sptui.tz import iso

# audit action → the event's kind (an incident's); an alarm's `contact` is `reached` or `unreachable`
INCIDENT_KINDS = {"open": "opened", "claim": "claimed", "take-over": "taken-over", "assign": "assigned",
                  "consult": "consult", "unconsult": "unconsult", "note": "note", "dispatch": "dispatched",
                  "close": "closed"}
COUNTED = ("opened", "claimed", "taken-over", "assigned", "dispatched", "closed", "consult", "note", "reached",
           "unreachable", "alarm-received")


@attrs.frozen
class Event:
    at: dt.datetime
    operator: str
    kind: str
    entity: str
    id: int | None
    text: str

    def json(self) -> dict:
        return {"at": iso(self.at), "operator": self.operator, "kind": self.kind, "entity": self.entity, "id": self.id,
                "text": self.text}


def _incident_text(kind: str, d: dict) -> str:
    if kind == "opened":
        return f"{d.get('label', '')} {d.get('verdict', '')}: {d.get('summary', '')}".strip()
    if kind == "dispatched":
        fee = d.get("fee_total_jpy")
        return (f"{d.get('technician')} departs {d.get('departed_at', '')[:16].replace('T', ' ')}"
                + (f"; {d.get('billing')}" if d.get("billing") and d.get("billing") != "free" else "")
                + (f" {fee:,}円" if isinstance(fee, int) else ""))
    if kind in ("taken-over", "assigned"):
        return f"{d.get('from') or 'nobody'} → {d.get('to')}"
    if kind == "claimed":
        return f"by {d.get('owner')}" + (f" (with the {d['with']})" if d.get("with") else "")
    return str(d.get("text") or "")


def event_of(row: dict) -> Event:
    """One audit row as a handover's event."""
    d = row["detail"] or {}
    if row["entity"] == "incident" and row["action"] in INCIDENT_KINDS:
        kind = INCIDENT_KINDS[row["action"]]
        return Event(row["at"], row["operator"], kind, "incident", row["entity_id"], _incident_text(kind, d))
    if row["entity"] == "alarm" and row["action"] == "contact":
        kind = "reached" if d.get("reached") else "unreachable"
        then = (f"incident {d['incident_id']}" if d.get("incident_id") else
                d.get("closed_reason") or (f"next call {d['next_contact_at'][:16].replace('T', ' ')}"
                                           if d.get("next_contact_at") else ""))
        return Event(row["at"], row["operator"], kind, "alarm", row["entity_id"], f"{d.get('status', '')}: {then}")
    return Event(row["at"], row["operator"], f"{row['entity']} {row['action']}", row["entity"], row["entity_id"],
                 ", ".join(f"{k}={v}" for k, v in sorted(d.items()) if not isinstance(v, (dict, list)))[:200])


@attrs.frozen
class Handover:
    since: dt.datetime
    until: dt.datetime
    events: list[Event]
    retries: list[dict]  # alarm, next call: unreached in the shift, to call in the next
    left: dict[str, list[dict]]  # incidents, alarms
    owners: dict[str, list[int]]  # operator → the open incidents they own ("" for nobody's)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(e.kind for e in self.events)
        return {k: c.get(k, 0) for k in COUNTED} | {"retries": len(self.retries)}

    def json(self) -> dict:
        return {"schema": 1, "since": iso(self.since), "until": iso(self.until), "counts": self.counts,
                "events": [e.json() for e in self.events],
                "retries": [{"alarm": r["alarm"], "next_contact_at": iso(r["next_contact_at"])} for r in self.retries],
                "left": {"incidents": [_left_incident(r) for r in self.left["incidents"]],
                         "alarms": [{"id": a["id"], "computer": a["computer"], "status": a["status"],
                                     "next_contact_at": iso(a["next_contact_at"])} for a in self.left["alarms"]]},
                "owners": self.owners}


def _left_incident(r: dict) -> dict[str, Any]:
    return {"id": r["id"], "label": r["label_number"], "customer": r["customer"], "status": r["status"],
            "verdict": r["verdict"], "owner": r["owner"], "deadline": iso(r["deadline"]),
            "consult": r["consult"], "summary": r["summary"]}


def handover(store, since: dt.datetime, until: dt.datetime) -> Handover:
    """The shift `since <= t < until` (see the module docstring)."""
    rows = store.reports.activity(since, until)
    events = [event_of(r) for r in rows]
    for a in store.reports.alarms_received(since, until):
        events.append(Event(a["received_at"], "intake", "alarm-received", "alarm", a["id"], a["computer"]))
    events.sort(key=lambda e: e.at)
    retries: dict[int, dict] = {}  # alarm → its latest unreached call's next call
    for r in rows:
        if r["entity"] != "alarm" or r["action"] != "contact":
            continue
        d = r["detail"] or {}
        retries.pop(r["entity_id"], None)  # a later call of the alarm replaces an earlier one's retry
        nxt = d.get("next_contact_at")
        if not d.get("reached") and nxt and dt.datetime.fromisoformat(nxt) >= until:
            retries[r["entity_id"]] = {"alarm": r["entity_id"], "next_contact_at": dt.datetime.fromisoformat(nxt)}
    left = store.reports.open_work()
    owners: dict[str, list[int]] = {}
    for r in left["incidents"]:
        owners.setdefault(r["owner"] or "", []).append(r["id"])
    return Handover(since, until, events, list(retries.values()), left, owners)
