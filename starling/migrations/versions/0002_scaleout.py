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


# --- PostgreSQL full-text search (search/repository.py's PostgreSQL branch) ---------------------------

def _postgres_full_text_up() -> None:
    """PostgreSQL's own text search over status text (SQLite keeps its FTS5 table from 0001): a tsvector
    column that PostgreSQL computes from spoiler and text on every write, in the 'simple' configuration
    (words lower-cased, no stemming, as FTS5's unicode61 does), and a GIN index on it."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE statuses ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
               "(to_tsvector('simple'::regconfig, coalesce(spoiler_text, '') || ' ' || coalesce(text, ''))) STORED")
    op.execute("CREATE INDEX ix_statuses_search_vector ON statuses USING gin (search_vector)")


def _postgres_full_text_down() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_statuses_search_vector")
    op.execute("ALTER TABLE statuses DROP COLUMN IF EXISTS search_vector")


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
    _postgres_full_text_up()
    _upgrade_stream_events()


def downgrade() -> None:
    _downgrade_stream_events()
    _postgres_full_text_down()
