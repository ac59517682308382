"""the API key that issued each document and submitted each batch

Revision ID: 0005
Revises: 0004

Rows from before have no owner: only a key with ``documents:read:all`` sees them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("issued_by", sa.Integer(), nullable=True))
        table.create_index("ix_documents_issued_by", ["issued_by"])
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("api_key_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.drop_column("api_key_id")
    with op.batch_alter_table("documents") as table:
        table.drop_index("ix_documents_issued_by")
        table.drop_column("issued_by")
