"""The registry: customers, machines (label numbers, support IDs), packs and options.

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(400), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.Column("purged_at", T),
    )
    op.create_index("ix_customers_phone", "customers", ["phone"])
    op.create_index("ix_customers_organisation", "customers", ["organisation"])
    op.create_table(
        "machines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", name="fk_machines_customer_id_customers"),
                  nullable=False),
        sa.Column("label_number", sa.String(20), nullable=False),
        sa.Column("support_id", sa.String(40), nullable=False),
        sa.Column("computer_name", sa.String(200)),
        sa.Column("model_code", sa.String(40), nullable=False),
        sa.Column("serial_number", sa.String(40), nullable=False),
        sa.Column("purchased_on", sa.Date, nullable=False),
        sa.Column("manufacture_ended_on", sa.Date),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("config_info", sa.Boolean, nullable=False),
        sa.Column("site_organisation", sa.String(200), nullable=False),
        sa.Column("site_address", sa.String(400), nullable=False),
        sa.Column("site_name", sa.String(200), nullable=False),
        sa.Column("site_phone", sa.String(40), nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.UniqueConstraint("label_number", name="uq_machines_label_number"),
        sa.UniqueConstraint("support_id", name="uq_machines_support_id"),
    )
    op.create_index("ix_machines_serial_number", "machines", ["serial_number"])
    op.create_index("ix_machines_computer_name", "machines", ["computer_name"])
    op.create_index("ix_machines_customer_id", "machines", ["customer_id"])
    op.create_table(
        "packs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine_id", sa.Integer, sa.ForeignKey("machines.id", name="fk_packs_machine_id_machines"),
                  nullable=False),
        sa.Column("pack_serial", sa.String(40), nullable=False),
        sa.Column("variant", sa.String(40), nullable=False),
        sa.Column("years", sa.Integer, nullable=False),
        sa.Column("purchased_on", sa.Date, nullable=False),
        sa.Column("registration_status", sa.String(20), nullable=False),
        sa.Column("submitted_on", sa.Date),
        sa.Column("completed_on", sa.Date),
        sa.Column("agreed_end_on", sa.Date),
        sa.Column("express_start_on", sa.Date),
        sa.Column("os_name", sa.String(100)),
        sa.Column("report_method", sa.String(40)),
        sa.Column("seller", sa.String(200)),
        sa.UniqueConstraint("machine_id", name="uq_packs_machine_id"),
    )
    op.create_table(
        "options",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("machine_id", sa.Integer, sa.ForeignKey("machines.id", name="fk_options_machine_id_machines"),
                  nullable=False),
        sa.Column("model_code", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("category", sa.String(40)),
        sa.Column("connection", sa.String(40)),
    )
    op.create_index("ix_options_machine_id", "options", ["machine_id"])


def downgrade() -> None:
    for table in ("options", "packs", "machines", "customers"):
        op.drop_table(table)
