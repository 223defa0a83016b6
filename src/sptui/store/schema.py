"""The desk's tables: one schema for SQLite and PostgreSQL (SQLAlchemy Core).

Instants are stored in UTC and read back as aware datetimes in Asia/Tokyo (`Instant`); a naive datetime
is refused on the way in. The migrations under `migrations/versions/` create exactly these tables (a test
compares them).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text)
from sqlalchemy.types import TypeDecorator

from sptui.tz import TOKYO


class NaiveDatetimeError(ValueError):
    """A datetime without a zone reached the store."""


class Instant(TypeDecorator):
    """An aware instant: UTC in the database, Asia/Tokyo in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()}: give a zone (+09:00)")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(TOKYO)


NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}
metadata = MetaData(naming_convention=NAMING)

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", String(400), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("email", String(200), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("purged_at", Instant),  # 第3章 1.8: personal fields erased after the contract ended
)
Index("ix_customers_phone", customers.c.phone)
Index("ix_customers_organisation", customers.c.organisation)

machines = Table(
    "machines", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("label_number", String(20), nullable=False, unique=True),  # 機器管理番号, e.g. 1234-567-890
    Column("support_id", String(40), nullable=False, unique=True),
    Column("computer_name", String(200)),  # the name ESMPRO alarms carry (コンピュータ名)
    Column("model_code", String(40), nullable=False),  # 型名, e.g. N8100-2541Y
    Column("serial_number", String(40), nullable=False),  # 製造番号
    Column("purchased_on", Date, nullable=False),
    Column("manufacture_ended_on", Date),
    Column("country", String(2), nullable=False),
    Column("config_info", Boolean, nullable=False),
    Column("site_organisation", String(200), nullable=False),
    Column("site_address", String(400), nullable=False),
    Column("site_name", String(200), nullable=False),
    Column("site_phone", String(40), nullable=False),
    Column("created_at", Instant, nullable=False),
)
Index("ix_machines_serial_number", machines.c.serial_number)
Index("ix_machines_computer_name", machines.c.computer_name)
Index("ix_machines_customer_id", machines.c.customer_id)

packs = Table(
    "packs", metadata,
    Column("id", Integer, primary_key=True),
    Column("machine_id", Integer, ForeignKey("machines.id"), nullable=False, unique=True),  # one pack, one machine
    Column("pack_serial", String(40), nullable=False),
    Column("variant", String(40), nullable=False),
    Column("years", Integer, nullable=False),
    Column("purchased_on", Date, nullable=False),
    Column("registration_status", String(20), nullable=False),
    Column("submitted_on", Date),
    Column("completed_on", Date),
    Column("agreed_end_on", Date),
    Column("express_start_on", Date),
    Column("os_name", String(100)),
    Column("report_method", String(40)),
    Column("seller", String(200)),
)

options = Table(
    "options", metadata,
    Column("id", Integer, primary_key=True),
    Column("machine_id", Integer, ForeignKey("machines.id"), nullable=False),
    Column("model_code", String(40), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("category", String(40)),
    Column("connection", String(40)),
)
Index("ix_options_machine_id", options.c.machine_id)

incidents = Table(
    "incidents", metadata,
    Column("id", Integer, primary_key=True),
    Column("machine_id", Integer, ForeignKey("machines.id"), nullable=False),
    Column("alarm_id", Integer, ForeignKey("alarms.id")),
    Column("received_at", Instant, nullable=False),  # the case's `at`
    Column("support", String(2), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open, claimed, dispatched, closed
    Column("owner", String(100)),
    Column("version", Integer, nullable=False),  # optimistic concurrency: every update checks and bumps it
    Column("case", JSON, nullable=False),
    Column("decision", JSON, nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("deadline", Instant),
    Column("policy_digest", String(80), nullable=False),
    Column("updated_at", Instant, nullable=False),
    Column("updated_by", String(100)),  # who made the latest change (a conflict names them)
    Column("consult", Text),  # 相談: why an operator marked it for consultation; NULL when not marked
    Column("billing", String(20)),  # the latest dispatch's: free, fee (別表-1) or quote-needed; NULL before one
)
Index("ix_incidents_status", incidents.c.status)
Index("ix_incidents_machine_id", incidents.c.machine_id)
Index("ix_incidents_deadline", incidents.c.deadline)  # the queue: most urgent first
Index("ix_incidents_received_at", incidents.c.received_at)  # a period's figures (store/reports.py)
Index("ix_incidents_status_deadline", incidents.c.status, incidents.c.deadline)  # overdue now

incident_events = Table(
    "incident_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", Instant, nullable=False),
    Column("operator", String(100), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("text", Text, nullable=False),
)
Index("ix_incident_events_incident_id", incident_events.c.incident_id)

alarms = Table(
    "alarms", metadata,
    Column("id", Integer, primary_key=True),
    Column("machine_id", Integer, ForeignKey("machines.id"), nullable=False),
    Column("message_id", String(400), unique=True),
    Column("dedupe_key", String(400), nullable=False, unique=True),  # machine, event and time
    Column("computer", String(200), nullable=False),
    Column("product", String(200)),
    Column("occurred_at", Instant, nullable=False),
    Column("relayed_at", Instant),  # a manager-relayed mail: the manager's receipt time
    Column("received_at", Instant, nullable=False),  # the SMTP (or file) receipt, apart
    Column("trap", Text),
    Column("source", String(200)),
    Column("event_id", String(100)),
    Column("detail", Text),
    Column("action", Text),
    Column("alert_type", String(100)),
    Column("via", String(400), nullable=False),  # smtp:PEER or file:PATH
    Column("status", String(20), nullable=False),  # new, retry (due); linked, closed (ended); reached (before 0006)
    Column("decision", JSON, nullable=False),
    Column("case", JSON),  # the case the decision was made with (NULL: filed before schema 0007)
    Column("next_contact_at", Instant),
    Column("arrange_technician", Boolean, nullable=False),
    Column("policy_digest", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("incident_id", Integer),  # status linked: the incident the alarm became (or joined)
    Column("closed_reason", Text),  # status closed: why no call or repair follows
)
Index("ix_alarms_next_contact_at", alarms.c.next_contact_at)
Index("ix_alarms_incident_id", alarms.c.incident_id)
Index("ix_alarms_received_at", alarms.c.received_at)
Index("ix_alarms_status_next_contact_at", alarms.c.status, alarms.c.next_contact_at)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", Instant, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("message_id", String(400)),
    Column("sender", String(400)),
    Column("via", String(400), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),  # the same bytes are quarantined once
    Column("machine_id", Integer),  # the machine the intake found for it, if any (purge erases by it)
)
Index("ix_quarantine_machine_id", quarantine.c.machine_id)

contact_attempts = Table(
    "contact_attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id")),
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("at", Instant, nullable=False),
    Column("reached", Boolean, nullable=False),
    Column("operator", String(100), nullable=False),
    Column("note", Text, nullable=False),
)
Index("ix_contact_attempts_alarm_id", contact_attempts.c.alarm_id)
Index("ix_contact_attempts_alarm_reached", contact_attempts.c.alarm_id, contact_attempts.c.reached,
      contact_attempts.c.at)  # the first call that reached the customer (store/reports.py)

dispatches = Table(
    "dispatches", metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("technician", String(100), nullable=False),
    Column("technicians", Integer, nullable=False),
    Column("departed_at", Instant, nullable=False),
    Column("completed_at", Instant),
    Column("late_reason", String(40)),  # traffic, weather, site, parts
    Column("fee", JSON),
    Column("operator", String(100), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("billing", String(20)),  # free, fee (別表-1, the customer pays) or quote-needed (uncovered work)
    Column("confirmed_by", String(100)),  # the operator who confirmed work on an uncovered machine
    Column("consent_by", String(200)),  # the customer's consent to billable work: who gave it,
    Column("consent_via", String(10)),  # phone or mail,
    Column("consent_at", Instant),  # and when
)
Index("ix_dispatches_incident_id", dispatches.c.incident_id)
Index("ix_dispatches_departed_at", dispatches.c.departed_at)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Instant, nullable=False),
    Column("operator", String(100), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", Integer),
    Column("action", String(40), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("policy_digest", String(80)),
)
Index("ix_audit_entity", audit.c.entity, audit.c.entity_id)
Index("ix_audit_at", audit.c.at)
