"""conversations: each person's direct-message threads

Revision ID: 0008
Revises: 0007
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{table}.id'], ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'account_conversations',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('conversation_id', ID, nullable=False), sa.Column('participant_ids', sa.Text(), nullable=False),
        sa.Column('last_status_id', ID, nullable=False), sa.Column('unread', sa.Boolean(), nullable=False),
        _fk('account_id', 'accounts'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_conversations')))
    op.create_index('ix_account_conversations_account_last', 'account_conversations',
                    ['account_id', 'last_status_id'])
    op.create_index('uq_account_conversations_key', 'account_conversations',
                    ['account_id', 'conversation_id', 'participant_ids'], unique=True)
    op.create_index('ix_account_conversations_last', 'account_conversations', ['last_status_id'])
    op.create_table(
        'account_conversation_statuses',
        sa.Column('account_conversation_id', ID, nullable=False), sa.Column('status_id', ID, nullable=False),
        _fk('account_conversation_id', 'account_conversations'), _fk('status_id', 'statuses'),
        sa.PrimaryKeyConstraint('account_conversation_id', 'status_id', name=op.f('pk_account_conversation_statuses')))
    op.create_index(op.f('ix_account_conversation_statuses_status_id'), 'account_conversation_statuses',
                    ['status_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_account_conversation_statuses_status_id'), table_name='account_conversation_statuses')
    op.drop_table('account_conversation_statuses')
    op.drop_index('ix_account_conversations_last', table_name='account_conversations')
    op.drop_index('uq_account_conversations_key', table_name='account_conversations')
    op.drop_index('ix_account_conversations_account_last', table_name='account_conversations')
    op.drop_table('account_conversations')
