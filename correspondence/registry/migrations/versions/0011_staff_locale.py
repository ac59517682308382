"""The staff UI's language per member of staff ("en" or "es")

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as table:
        table.add_column(
            sa.Column("locale", sa.String(length=5), nullable=False, server_default="en")
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as table:
        table.drop_column("locale")
