"""per-recipient delivery state, revocable staff sessions, sign-in throttling

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("accepted", sa.JSON(), nullable=True))
        table.add_column(sa.Column("refused", sa.JSON(), nullable=True))
    with op.batch_alter_table("staff_users") as table:
        table.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        table.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttles")
    with op.batch_alter_table("staff_users") as table:
        table.drop_column("disabled_at")
        table.drop_column("session_epoch")
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("refused")
        table.drop_column("accepted")
