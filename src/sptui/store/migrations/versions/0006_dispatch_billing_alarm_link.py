"""The desk's work flow: who pays for a dispatch (and the customer's consent, the operator's confirmation of
uncovered work), and where an alarm ended (linked to an incident, or closed with its reason).

Revision ID: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("billing", sa.String(20)))
    with op.batch_alter_table("dispatches") as batch:
        batch.add_column(sa.Column("billing", sa.String(20)))
        batch.add_column(sa.Column("confirmed_by", sa.String(100)))
        batch.add_column(sa.Column("consent_by", sa.String(200)))
        batch.add_column(sa.Column("consent_via", sa.String(10)))
        batch.add_column(sa.Column("consent_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("incident_id", sa.Integer()))
        batch.add_column(sa.Column("closed_reason", sa.Text()))
    op.create_index("ix_alarms_incident_id", "alarms", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_alarms_incident_id", "alarms")
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("closed_reason")
        batch.drop_column("incident_id")
    with op.batch_alter_table("dispatches") as batch:
        for name in ("consent_at", "consent_via", "consent_by", "confirmed_by", "billing"):
            batch.drop_column(name)
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("billing")
