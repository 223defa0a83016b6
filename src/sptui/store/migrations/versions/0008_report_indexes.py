"""Indexes for the lead's views over a period (sptui report, :overview, :handover, sptui billing): an incident's and
an alarm's receipt, a dispatch's departure, the audit log's time. A period's figures then cost what the period
holds, not what the database holds; what is overdue now (open incidents past their deadline, alarm calls past
their time) is looked up by status and time together, and an alarm's first call that reached the customer from
the index alone.

Revision ID: 0008
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = (("ix_incidents_received_at", "incidents", ["received_at"]), ("ix_alarms_received_at", "alarms", ["received_at"]),
           ("ix_dispatches_departed_at", "dispatches", ["departed_at"]), ("ix_audit_at", "audit", ["at"]),
           ("ix_incidents_status_deadline", "incidents", ["status", "deadline"]),
           ("ix_alarms_status_next_contact_at", "alarms", ["status", "next_contact_at"]),
           ("ix_contact_attempts_alarm_reached", "contact_attempts", ["alarm_id", "reached", "at"]))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table)
