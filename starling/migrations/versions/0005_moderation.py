"""moderation: scores, reports, actions, audit log, filters

Revision ID: 0005
Revises: 0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# The audit log refuses UPDATE and DELETE on both databases: a moderator's action cannot be rewritten.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log "
    "BEGIN SELECT RAISE(ABORT, 'moderation_log is append-only'); END",
    "CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log "
    "BEGIN SELECT RAISE(ABORT, 'moderation_log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION moderation_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'moderation_log is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER moderation_log_append_only BEFORE UPDATE OR DELETE ON moderation_log "
    "FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only()",
]


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{table}.id'], ondelete=ondelete)


def upgrade() -> None:
    with op.batch_alter_table('statuses') as batch:
        batch.add_column(sa.Column('quarantined', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('accounts') as batch:
        batch.add_column(sa.Column('silenced_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('sensitized_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('disabled_at', sa.DateTime(), nullable=True))

    op.create_table(
        'status_scores',
        sa.Column('status_id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('score', sa.Integer(), nullable=False), sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('quarantined', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False), sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('status_id', 'statuses', 'CASCADE'), _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('status_id', name=op.f('pk_status_scores')))
    op.create_index('ix_status_scores_account_id', 'status_scores', ['account_id', 'status_id'])

    op.create_table(
        'account_scores',
        sa.Column('account_id', ID, nullable=False), sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False), sa.Column('flagged_at', sa.DateTime(), nullable=True),
        sa.Column('cleared_at', sa.DateTime(), nullable=True), sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_scores')))

    op.create_table(
        'text_fingerprints',
        sa.Column('status_id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('signature', sa.LargeBinary(), nullable=False), sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('status_id', 'statuses', 'CASCADE'), _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('status_id', name=op.f('pk_text_fingerprints')))
    op.create_index('ix_text_fingerprints_created_at', 'text_fingerprints', ['created_at'])

    op.create_table(
        'minhash_bands',
        sa.Column('band_key', ID, nullable=False), sa.Column('status_id', ID, nullable=False),
        sa.Column('account_id', ID, nullable=False), sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('status_id', 'statuses', 'CASCADE'),
        sa.PrimaryKeyConstraint('band_key', 'status_id', name=op.f('pk_minhash_bands')))
    op.create_index('ix_minhash_bands_status_id', 'minhash_bands', ['status_id'])
    op.create_index('ix_minhash_bands_created_at', 'minhash_bands', ['created_at'])

    op.create_table(
        'link_domains',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(), nullable=False),
        sa.Column('blocked_at', sa.DateTime(), nullable=True), sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('domain', name=op.f('pk_link_domains')))

    op.create_table(
        'activity_counts',
        sa.Column('account_id', ID, nullable=False), sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False), sa.Column('count', sa.Integer(), nullable=False),
        _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'day', 'kind', name=op.f('pk_activity_counts')))

    op.create_table(
        'reports',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=True),
        sa.Column('target_account_id', ID, nullable=False), sa.Column('status_ids', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False), sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('rule_ids', sa.JSON(), nullable=False), sa.Column('forward', sa.Boolean(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False), sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('assigned_account_id', ID, nullable=True), sa.Column('action_taken_at', sa.DateTime(), nullable=True),
        sa.Column('action_taken_by_id', ID, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False), sa.Column('updated_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts', 'SET NULL'), _fk('target_account_id', 'accounts', 'CASCADE'),
        _fk('assigned_account_id', 'accounts', 'SET NULL'), _fk('action_taken_by_id', 'accounts', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')))
    op.create_index('ix_reports_open', 'reports', ['action_taken_at', 'id'])
    op.create_index('ix_reports_target_account_id', 'reports', ['target_account_id', 'id'])

    op.create_table(
        'moderation_log',
        sa.Column('id', ID, nullable=False), sa.Column('moderator_id', ID, nullable=True),
        sa.Column('action', sa.String(length=40), nullable=False), sa.Column('target_account_id', ID, nullable=True),
        sa.Column('target_status_id', ID, nullable=True), sa.Column('report_id', ID, nullable=True),
        sa.Column('reason', sa.Text(), nullable=False), sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_log')))
    op.create_index('ix_moderation_log_target', 'moderation_log', ['target_account_id', 'id'])

    op.create_table(
        'account_warnings',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False), sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status_ids', sa.JSON(), nullable=False), sa.Column('report_id', ID, nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_warnings')))
    op.create_index('ix_account_warnings_account_id', 'account_warnings', ['account_id'])

    op.create_table(
        'appeals',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('warning_id', ID, nullable=False), sa.Column('text', sa.Text(), nullable=False),
        sa.Column('decision', sa.String(length=10), nullable=True), sa.Column('decided_by_id', ID, nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True), sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts', 'CASCADE'), _fk('warning_id', 'account_warnings', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
        sa.UniqueConstraint('warning_id', name=op.f('uq_appeals_warning_id')))
    op.create_index('ix_appeals_account_id', 'appeals', ['account_id'])

    op.create_table(
        'filters',
        sa.Column('id', ID, nullable=False), sa.Column('account_id', ID, nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False), sa.Column('contexts', sa.JSON(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False), sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        _fk('account_id', 'accounts', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_filters')))
    op.create_index('ix_filters_account_id', 'filters', ['account_id'])

    op.create_table(
        'filter_keywords',
        sa.Column('id', ID, nullable=False), sa.Column('filter_id', ID, nullable=False),
        sa.Column('keyword', sa.String(length=200), nullable=False), sa.Column('whole_word', sa.Boolean(), nullable=False),
        _fk('filter_id', 'filters', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_filter_keywords')))
    op.create_index('ix_filter_keywords_filter_id', 'filter_keywords', ['filter_id'])

    op.create_table(
        'filter_statuses',
        sa.Column('id', ID, nullable=False), sa.Column('filter_id', ID, nullable=False),
        sa.Column('status_id', ID, nullable=False),
        _fk('filter_id', 'filters', 'CASCADE'), _fk('status_id', 'statuses', 'CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_filter_statuses')))
    op.create_index('uq_filter_statuses_filter_status', 'filter_statuses', ['filter_id', 'status_id'], unique=True)

    for statement in (SQLITE_TRIGGERS if op.get_bind().dialect.name == 'sqlite' else POSTGRES_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.execute("DROP TRIGGER IF EXISTS moderation_log_append_only ON moderation_log")
        op.execute("DROP FUNCTION IF EXISTS moderation_log_append_only()")
    for table in ('filter_statuses', 'filter_keywords', 'filters', 'appeals', 'account_warnings', 'moderation_log',
                  'reports', 'activity_counts', 'link_domains', 'minhash_bands', 'text_fingerprints',
                  'account_scores', 'status_scores'):
        op.drop_table(table)
    with op.batch_alter_table('accounts') as batch:
        batch.drop_column('disabled_at')
        batch.drop_column('sensitized_at')
        batch.drop_column('silenced_at')
    with op.batch_alter_table('statuses') as batch:
        batch.drop_column('quarantined')
