"""endorsements: a follow can feature the followed account on the follower's profile

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('follows') as batch:
        batch.add_column(sa.Column('endorsed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('follows') as batch:
        batch.drop_column('endorsed_at')
