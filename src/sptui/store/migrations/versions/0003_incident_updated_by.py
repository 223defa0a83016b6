"""Who made an incident's latest change, so that a conflict names the right operator.

Revision ID: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("updated_by", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("updated_by")
