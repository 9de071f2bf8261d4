"""scale-out: PostgreSQL full-text search, streaming events

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# --- streaming: the events table the SQL bus tails (starling/infra/pubsub.py) -------------------------

def _upgrade_stream_events() -> None:
    op.create_table(
        'stream_events',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stream_events')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_stream_events_created_at', 'stream_events', ['created_at'], unique=False)


def _downgrade_stream_events() -> None:
    op.drop_index('ix_stream_events_created_at', table_name='stream_events')
    op.drop_table('stream_events')


def upgrade() -> None:
    _upgrade_stream_events()


def downgrade() -> None:
    _downgrade_stream_events()
