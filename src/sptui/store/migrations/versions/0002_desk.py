"""The desk: incidents and their timeline, alarms, quarantine, contact attempts, dispatches, audit log.

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

T = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine_id", sa.Integer, _fk("alarms", "machine_id", "machines"), nullable=False),
        sa.Column("message_id", sa.String(400)),
        sa.Column("dedupe_key", sa.String(400), nullable=False),
        sa.Column("computer", sa.String(200), nullable=False),
        sa.Column("product", sa.String(200)),
        sa.Column("occurred_at", T, nullable=False),
        sa.Column("relayed_at", T),
        sa.Column("received_at", T, nullable=False),
        sa.Column("trap", sa.Text),
        sa.Column("source", sa.String(200)),
        sa.Column("event_id", sa.String(100)),
        sa.Column("detail", sa.Text),
        sa.Column("action", sa.Text),
        sa.Column("alert_type", sa.String(100)),
        sa.Column("via", sa.String(400), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("next_contact_at", T),
        sa.Column("arrange_technician", sa.Boolean, nullable=False),
        sa.Column("policy_digest", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("message_id", name="uq_alarms_message_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_alarms_dedupe_key"),
    )
    op.create_index("ix_alarms_next_contact_at", "alarms", ["next_contact_at"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine_id", sa.Integer, _fk("incidents", "machine_id", "machines"), nullable=False),
        sa.Column("alarm_id", sa.Integer, _fk("incidents", "alarm_id", "alarms")),
        sa.Column("received_at", T, nullable=False),
        sa.Column("support", sa.String(2), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("case", sa.JSON, nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("deadline", T),
        sa.Column("policy_digest", sa.String(80), nullable=False),
        sa.Column("updated_at", T, nullable=False),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_machine_id", "incidents", ["machine_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, _fk("incident_events", "incident_id", "incidents"), nullable=False),
        sa.Column("at", T, nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_incident_events_incident_id", "incident_events", ["incident_id"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_at", T, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(400)),
        sa.Column("sender", sa.String(400)),
        sa.Column("via", sa.String(400), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("sha256", name="uq_quarantine_sha256"),
    )
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alarm_id", sa.Integer, _fk("contact_attempts", "alarm_id", "alarms")),
        sa.Column("incident_id", sa.Integer, _fk("contact_attempts", "incident_id", "incidents")),
        sa.Column("at", T, nullable=False),
        sa.Column("reached", sa.Boolean, nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_contact_attempts_alarm_id", "contact_attempts", ["alarm_id"])
    op.create_table(
        "dispatches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, _fk("dispatches", "incident_id", "incidents"), nullable=False),
        sa.Column("technician", sa.String(100), nullable=False),
        sa.Column("technicians", sa.Integer, nullable=False),
        sa.Column("departed_at", T, nullable=False),
        sa.Column("completed_at", T),
        sa.Column("late_reason", sa.String(40)),
        sa.Column("fee", sa.JSON),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("created_at", T, nullable=False),
    )
    op.create_index("ix_dispatches_incident_id", "dispatches", ["incident_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", T, nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Integer),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("policy_digest", sa.String(80)),
    )
    op.create_index("ix_audit_entity", "audit", ["entity", "entity_id"])


def downgrade() -> None:
    for table in ("audit", "dispatches", "contact_attempts", "quarantine", "incident_events", "incidents", "alarms"):
        op.drop_table(table)
