"""PAdES signatures: who signed an issued PDF, when, and the sha256 of the PDF before it
was signed (what a re-render is compared with)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("signed_by", sa.String(length=400), nullable=True))
        table.add_column(sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("unsigned_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.drop_column("unsigned_sha256")
        table.drop_column("signed_at")
        table.drop_column("signed_by")
