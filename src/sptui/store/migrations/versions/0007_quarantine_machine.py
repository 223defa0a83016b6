"""A quarantined mail keeps the machine the intake found for it (a mail of a machine without the Express service, or
one the policy could not decide for), so that purge erases it by that link (第3章 1.8), not only by searching it.

Revision ID: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("machine_id", sa.Integer()))
    op.create_index("ix_quarantine_machine_id", "quarantine", ["machine_id"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_machine_id", "quarantine")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("machine_id")
