"""moderator index: an index on accounts.role, to find the moderators a new report notifies

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_accounts_role', 'accounts', ['role'])


def downgrade() -> None:
    op.drop_index('ix_accounts_role', table_name='accounts')
