"""profile: image descriptions, private notes on accounts, muted conversations

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{table}.id'], ondelete='CASCADE')


def upgrade() -> None:
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('avatar_description', sa.String(1500), server_default='', nullable=False))
        batch.add_column(sa.Column('header_description', sa.String(1500), server_default='', nullable=False))

    op.create_table(
        'account_notes',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('target_account_id', ID, nullable=False), sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts'), _fk('target_account_id', 'accounts'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_notes')))
    op.create_index('uq_account_notes_pair', 'account_notes', ['account_id', 'target_account_id'], unique=True)

    op.create_table(
        'conversation_mutes',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('conversation_id', ID, nullable=False), sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_mutes')))
    op.create_index('uq_conversation_mutes_pair', 'conversation_mutes', ['conversation_id', 'account_id'],
                    unique=True)
    op.create_index('ix_statuses_conversation_id', 'statuses', ['conversation_id'])


def downgrade() -> None:
    op.drop_index('ix_statuses_conversation_id', table_name='statuses')
    op.drop_index('uq_conversation_mutes_pair', table_name='conversation_mutes')
    op.drop_table('conversation_mutes')
    op.drop_index('uq_account_notes_pair', table_name='account_notes')
    op.drop_table('account_notes')
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('header_description')
        batch.drop_column('avatar_description')
