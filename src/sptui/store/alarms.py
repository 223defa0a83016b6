"""Alarms: store a parsed alarm mail once, routed by the policy; quarantine what cannot be parsed or matched;
contact attempts, and next-day retries as data (they survive restarts).

Duplicates — the same Message-ID, or the same machine, event and time — are stored once: the unique
constraints decide, so two intake processes racing on one mail still store it once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from sptui.store import schema as S
from sptui.store.db import ConflictError, StoreError
from sptui.store.desk import case_for, stored_decision


@attrs.frozen
class Stored:
    """What became of one mail: `stored` (a new alarm), `duplicate` (already stored) or `quarantined`."""
    outcome: str
    id: int
    reason: str | None = None


def dedupe_key(machine_id: int, event_id: str | None, occurred_at: dt.datetime) -> str:
    return f"{machine_id}|{event_id or ''}|{occurred_at.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


class AlarmOps:
    def machine_by_computer(self, computer: str) -> dict | None:
        rows = self.machine_rows(sa.func.lower(S.machines.c.computer_name) == computer.strip().lower(), 2)
        return rows[0] if len(rows) == 1 else None

    def quarantine_mail(self, raw: bytes, *, reason: str, message: str, via: str, received_at: dt.datetime,
                        message_id: str | None = None, sender: str | None = None) -> Stored:
        """Keep a mail that could not be stored as an alarm, with the reason. The same bytes are kept once."""
        digest = hashlib.sha256(raw).hexdigest()
        with self.write() as conn:
            old = conn.execute(sa.select(S.quarantine.c.id).where(S.quarantine.c.sha256 == digest)).scalar()
            if old is not None:
                return Stored("duplicate", old, reason)
            qid = conn.execute(S.quarantine.insert().values(
                received_at=received_at, reason=reason, message=message, message_id=message_id, sender=sender,
                via=via, raw=raw, sha256=digest)).inserted_primary_key[0]
            self.audit(conn, "intake", "quarantine", qid, "quarantine", {"reason": reason, "message": message,
                                                                          "via": via}, None, received_at)
        return Stored("quarantined", qid, reason)

    def store_alarm(self, policy, mail, *, raw: bytes, via: str, received_at: dt.datetime) -> Stored:
        """Store a parsed alarm mail (sptui.intake.esmpro.AlarmMail), routed by the policy's alarm evaluator.
        A mail whose machine is unknown is quarantined."""
        machine = self.machine_by_computer(mail.computer)
        if machine is None:
            return self.quarantine_mail(raw, reason="unknown-machine", via=via, received_at=received_at,
                                        message=f"no single registered machine has the computer name "
                                                f"{mail.computer!r}", message_id=mail.message_id, sender=mail.sender)
        if machine["express_start_on"] is None:
            return self.quarantine_mail(raw, reason="no-express", via=via, received_at=received_at,
                                        message=f"machine {machine['label_number']} ({mail.computer}) has no Express "
                                                f"alarm service registered (express_start_on)",
                                        message_id=mail.message_id, sender=mail.sender)
        key = dedupe_key(machine["id"], mail.event_id, mail.occurred_at)
        with self.read() as conn:
            q = sa.select(S.alarms.c.id).where(S.alarms.c.dedupe_key == key)
            if mail.message_id:
                q = sa.select(S.alarms.c.id).where(sa.or_(S.alarms.c.dedupe_key == key,
                                                          S.alarms.c.message_id == mail.message_id))
            old = conn.execute(q).scalar()
        if old is not None:
            return Stored("duplicate", old)
        decision = self._route(policy, machine, received_at, [])
        try:
            with self.write() as conn:
                aid = conn.execute(S.alarms.insert().values(
                    machine_id=machine["id"], message_id=mail.message_id, dedupe_key=key, computer=mail.computer,
                    product=mail.product, occurred_at=mail.occurred_at, relayed_at=mail.relayed_at,
                    received_at=received_at, trap=mail.trap, source=mail.source, event_id=mail.event_id,
                    detail=mail.detail, action=mail.action, alert_type=mail.alert_type, via=via,
                    status="new" if (decision.contact or {}).get("next_contact_at") else "closed",
                    decision=stored_decision(decision),
                    next_contact_at=(decision.contact or {}).get("next_contact_at"),
                    arrange_technician=bool((decision.contact or {}).get("arrange_technician")),
                    policy_digest=policy.digest, version=1)).inserted_primary_key[0]
                self.audit(conn, "intake", "alarm", aid, "receive",
                           {"label": machine["label_number"], "event_id": mail.event_id, "via": via,
                            "contact": (decision.contact or {}).get("reason")}, policy.digest, received_at)
        except IntegrityError:  # another intake stored the same mail between our look and our insert
            with self.read() as conn:
                old = conn.execute(sa.select(S.alarms.c.id).where(sa.or_(
                    S.alarms.c.dedupe_key == key, S.alarms.c.message_id == mail.message_id))).scalar()
            if old is None:
                raise
            return Stored("duplicate", old)
        return Stored("stored", aid)

    @staticmethod
    def _route(policy, machine: dict, received_at: dt.datetime, attempts: list[dict], repair_needed: bool = False):
        alarm = {"received_at": received_at.isoformat(),
                 "express_start_on": machine["express_start_on"].isoformat(),
                 "contact_attempts": [{"at": a["at"].isoformat(), "reached": bool(a["reached"])} for a in attempts]}
        return policy.decide(case_for(machine, at=received_at, repair_needed=repair_needed, alarm=alarm))

    def alarm(self, aid: int) -> dict:
        with self.read() as conn:
            row = conn.execute(sa.select(S.alarms).where(S.alarms.c.id == aid)).first()
        if row is None:
            raise StoreError(f"no alarm {aid}")
        return dict(row._mapping)

    def alarms(self, *, limit: int | None = None) -> list[dict]:
        q = sa.select(S.alarms).order_by(S.alarms.c.id)
        if limit:
            q = q.limit(limit)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def quarantined(self) -> list[dict]:
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(S.quarantine).order_by(S.quarantine.c.id))]

    def record_contact(self, policy, aid: int, *, at: dt.datetime, reached: bool, operator: str, note: str = "",
                       repair_needed: bool = False, version: int | None = None) -> dict[str, Any]:
        """A phone call after an alarm. Unreached: the next-day retry is decided and stored on the alarm."""
        a = self.alarm(aid)
        machine = self.machine_rows(S.machines.c.id == a["machine_id"], 1)[0]
        with self.read() as conn:
            attempts = [dict(r._mapping) for r in conn.execute(
                sa.select(S.contact_attempts).where(S.contact_attempts.c.alarm_id == aid)
                .order_by(S.contact_attempts.c.at))]
        attempts.append({"at": at, "reached": reached})
        decision = self._route(policy, machine, a["received_at"], attempts, repair_needed)
        contact = decision.contact or {}
        with self.write() as conn:
            res = conn.execute(S.alarms.update().where(
                S.alarms.c.id == aid, S.alarms.c.version == (a["version"] if version is None else version)).values(
                version=S.alarms.c.version + 1, decision=stored_decision(decision),
                next_contact_at=contact.get("next_contact_at"),
                arrange_technician=bool(contact.get("arrange_technician")),
                status="reached" if reached else "retry", policy_digest=policy.digest))
            if res.rowcount != 1:
                raise ConflictError(f"alarm {aid} was changed by another operator after you read it; "
                                    "nothing was saved: reload it and try again")
            conn.execute(S.contact_attempts.insert().values(alarm_id=aid, at=at, reached=reached, operator=operator,
                                                            note=note))
            self.audit(conn, operator, "alarm", aid, "contact",
                       {"reached": reached, "at": at.isoformat(), "note": note,
                        "next_contact_at": contact.get("next_contact_at") and contact["next_contact_at"].isoformat()},
                       policy.digest)
        return contact

    def retries_due(self, at: dt.datetime) -> list[dict]:
        """Alarms whose next contact time has come (first calls and next-day retries alike)."""
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(
                sa.select(S.alarms).where(S.alarms.c.next_contact_at <= at, S.alarms.c.status.in_(("new", "retry")))
                .order_by(S.alarms.c.next_contact_at))]
