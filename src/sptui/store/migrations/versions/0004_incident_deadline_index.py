"""An index on the onsite deadline: the desk's queue shows the most urgent incidents first, at once.

Revision ID: 0004
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_deadline", "incidents", ["deadline"])


def downgrade() -> None:
    op.drop_index("ix_incidents_deadline", "incidents")
