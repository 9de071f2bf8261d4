"""account source: attribution domains and the default quote policy; the directory's index

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('attribution_domains', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('quote_policy', sa.String(10), server_default='public', nullable=False))
    op.create_index('ix_accounts_last_status_at', 'accounts', ['last_status_at'])


def downgrade() -> None:
    op.drop_index('ix_accounts_last_status_at', table_name='accounts')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('quote_policy')
        batch.drop_column('attribution_domains')
