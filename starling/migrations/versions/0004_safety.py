"""safety: invites, IP and email-domain blocks, sign-up records

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'invites',
        sa.Column('id', ID, nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', ID, nullable=True),
        sa.Column('max_uses', sa.Integer(), nullable=True),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_invites_created_by_id_accounts'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
        sa.UniqueConstraint('code', name=op.f('uq_invites_code')),
    )
    op.create_table(
        'ip_blocks',
        sa.Column('id', ID, nullable=False),
        sa.Column('network', sa.String(length=64), nullable=False),
        sa.Column('severity', sa.String(length=30), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_blocks')),
        sa.UniqueConstraint('network', name=op.f('uq_ip_blocks_network')),
    )
    op.create_table(
        'email_domain_blocks',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('domain', name=op.f('pk_email_domain_blocks')),
    )
    op.create_table(
        'sign_ups',
        sa.Column('account_id', ID, nullable=False),
        sa.Column('ip', sa.String(length=64), nullable=True),
        sa.Column('invite_id', ID, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_sign_ups_account_id_accounts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invite_id'], ['invites.id'], name=op.f('fk_sign_ups_invite_id_invites'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_sign_ups')),
    )
    op.create_index('ix_sign_ups_created_at', 'sign_ups', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_sign_ups_created_at', table_name='sign_ups')
    op.drop_table('sign_ups')
    op.drop_table('email_domain_blocks')
    op.drop_table('ip_blocks')
    op.drop_table('invites')
