"""相談: an incident an operator marked as needing consultation (with the customer or NEC), and why.

Revision ID: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("consult", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("consult")
