"""An alarm keeps the case it was decided with (as incidents do), so its decision can be replayed under another
policy (`sptui diff --db`).

Revision ID: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alarms") as batch:
        batch.add_column(sa.Column("case", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("alarms") as batch:
        batch.drop_column("case")
