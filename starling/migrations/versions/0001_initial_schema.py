"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:36:57.967250

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=30), nullable=False),
    sa.Column('username_lower', sa.String(length=30), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('note_html', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('avatar_key', sa.String(length=200), nullable=True),
    sa.Column('header_key', sa.String(length=200), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('bot', sa.Boolean(), nullable=False),
    sa.Column('discoverable', sa.Boolean(), nullable=False),
    sa.Column('indexable', sa.Boolean(), nullable=False),
    sa.Column('hide_collections', sa.Boolean(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('suspended_at', sa.DateTime(), nullable=True),
    sa.Column('last_status_at', sa.DateTime(), nullable=True),
    sa.Column('followers_count', sa.Integer(), nullable=False),
    sa.Column('following_count', sa.Integer(), nullable=False),
    sa.Column('statuses_count', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('registration_reason', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('current_sign_in_at', sa.DateTime(), nullable=True),
    sa.Column('default_privacy', sa.String(length=10), nullable=False),
    sa.Column('default_sensitive', sa.Boolean(), nullable=False),
    sa.Column('default_language', sa.String(length=10), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email')),
    sa.UniqueConstraint('username_lower', name=op.f('uq_accounts_username_lower'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index('ix_accounts_created', ['created_at'], unique=False)
        batch_op.create_index('ix_accounts_followers_count', ['followers_count'], unique=False)

    op.create_table('home_feed',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'status_id', name=op.f('pk_home_feed'))
    )
    with op.batch_alter_table('home_feed', schema=None) as batch_op:
        batch_op.create_index('ix_home_feed_status_id', ['status_id'], unique=False)

    op.create_table('instance_settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_instance_settings'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ip_key', sa.String(length=64), nullable=False),
    sa.Column('login_key', sa.String(length=320), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_ip', ['ip_key', 'created_at'], unique=False)
        batch_op.create_index('ix_login_attempts_login', ['login_key', 'created_at'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_state_run_at', ['state', 'run_at'], unique=False)

    op.create_table('tags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_tags_name'))
    )
    op.create_table('blocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_blocks_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['accounts.id'], name=op.f('fk_blocks_target_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocks'))
    )
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.create_index('ix_blocks_target', ['target_account_id', 'account_id'], unique=False)
        batch_op.create_index('uq_blocks_pair', ['account_id', 'target_account_id'], unique=True)

    op.create_table('follow_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('show_reblogs', sa.Boolean(), nullable=False),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_follow_requests_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['accounts.id'], name=op.f('fk_follow_requests_target_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_requests'))
    )
    with op.batch_alter_table('follow_requests', schema=None) as batch_op:
        batch_op.create_index('ix_follow_requests_target', ['target_account_id', 'id'], unique=False)
        batch_op.create_index('uq_follow_requests_pair', ['account_id', 'target_account_id'], unique=True)

    op.create_table('follows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('show_reblogs', sa.Boolean(), nullable=False),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_follows_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['accounts.id'], name=op.f('fk_follows_target_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follows'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index('ix_follows_target', ['target_account_id', 'account_id'], unique=False)
        batch_op.create_index('uq_follows_pair', ['account_id', 'target_account_id'], unique=True)

    op.create_table('idempotency_keys',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_idempotency_keys_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('lists',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('replies_policy', sa.String(length=20), nullable=False),
    sa.Column('exclusive', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lists_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lists'))
    )
    with op.batch_alter_table('lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lists_account_id'), ['account_id'], unique=False)

    op.create_table('markers',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('timeline', sa.String(length=20), nullable=False),
    sa.Column('last_read_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_markers_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'timeline', name=op.f('pk_markers'))
    )
    op.create_table('mutes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hide_notifications', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_mutes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['accounts.id'], name=op.f('fk_mutes_target_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutes'))
    )
    with op.batch_alter_table('mutes', schema=None) as batch_op:
        batch_op.create_index('uq_mutes_pair', ['account_id', 'target_account_id'], unique=True)

    op.create_table('oauth_applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=True),
    sa.Column('redirect_uris', sa.Text(), nullable=False),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=100), nullable=False),
    sa.Column('owner_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_account_id'], ['accounts.id'], name=op.f('fk_oauth_applications_owner_account_id_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_applications')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_applications_client_id'))
    )
    op.create_table('statuses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('spoiler_text', sa.Text(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('visibility', sa.SmallInteger(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('in_reply_to_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('in_reply_to_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reblog_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('poll', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('replies_count', sa.Integer(), nullable=False),
    sa.Column('reblogs_count', sa.Integer(), nullable=False),
    sa.Column('favourites_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_statuses_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reblog_of_id'], ['statuses.id'], name=op.f('fk_statuses_reblog_of_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statuses'))
    )
    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.create_index('ix_statuses_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_statuses_in_reply_to_id', ['in_reply_to_id'], unique=False)
        batch_op.create_index('ix_statuses_reblog_of_id', ['reblog_of_id'], unique=False)
        batch_op.create_index('ix_statuses_visibility_id', ['visibility', 'id'], unique=False)
        batch_op.create_index('uq_statuses_reblog', ['account_id', 'reblog_of_id'], unique=True, sqlite_where=sa.text('reblog_of_id IS NOT NULL'), postgresql_where=sa.text('reblog_of_id IS NOT NULL'))

    op.create_table('bookmarks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_bookmarks_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_bookmarks_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookmarks'))
    )
    with op.batch_alter_table('bookmarks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookmarks_status_id'), ['status_id'], unique=False)
        batch_op.create_index('uq_bookmarks_account_status', ['account_id', 'status_id'], unique=True)

    op.create_table('favourites',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_favourites_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_favourites_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_favourites'))
    )
    with op.batch_alter_table('favourites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_favourites_status_id'), ['status_id'], unique=False)
        batch_op.create_index('uq_favourites_account_status', ['account_id', 'status_id'], unique=True)

    op.create_table('list_accounts',
    sa.Column('list_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_list_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['lists.id'], name=op.f('fk_list_accounts_list_id_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'account_id', name=op.f('pk_list_accounts'))
    )
    with op.batch_alter_table('list_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_accounts_account_id'), ['account_id'], unique=False)

    op.create_table('media_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('file_key', sa.String(length=200), nullable=False),
    sa.Column('preview_key', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('preview_width', sa.Integer(), nullable=False),
    sa.Column('preview_height', sa.Integer(), nullable=False),
    sa.Column('blurhash', sa.String(length=100), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('focus_x', sa.Float(), nullable=False),
    sa.Column('focus_y', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_media_attachments_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_media_attachments_status_id_statuses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_attachments'))
    )
    with op.batch_alter_table('media_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_attachments_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_attachments_status_id'), ['status_id'], unique=False)

    op.create_table('mentions',
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_mentions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_mentions_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('status_id', 'account_id', name=op.f('pk_mentions'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index('ix_mentions_account_id', ['account_id', 'status_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('dedupe_key', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notifications_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], name=op.f('fk_notifications_from_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_notifications_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status_id'), ['status_id'], unique=False)
        batch_op.create_index('uq_notifications_dedupe', ['account_id', 'dedupe_key'], unique=True)

    op.create_table('oauth_access_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=100), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oauth_access_tokens_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_applications.id'], name=op.f('fk_oauth_access_tokens_application_id_oauth_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oauth_access_tokens_token_hash'))
    )
    with op.batch_alter_table('oauth_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_access_tokens_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_access_tokens_application_id'), ['application_id'], unique=False)

    op.create_table('oauth_authorization_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=100), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('code_challenge', sa.String(length=200), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_oauth_authorization_codes_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_applications.id'], name=op.f('fk_oauth_authorization_codes_application_id_oauth_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_authorization_codes_code_hash'))
    )
    op.create_table('pins',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_pins_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_pins_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pins'))
    )
    with op.batch_alter_table('pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pins_status_id'), ['status_id'], unique=False)
        batch_op.create_index('uq_pins_account_status', ['account_id', 'status_id'], unique=True)

    op.create_table('status_edits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('spoiler_text', sa.Text(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('media_ids', sa.JSON(), nullable=False),
    sa.Column('poll', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_status_edits_status_id_statuses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_edits'))
    )
    with op.batch_alter_table('status_edits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_edits_status_id'), ['status_id'], unique=False)

    op.create_table('status_tags',
    sa.Column('status_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], name=op.f('fk_status_tags_status_id_statuses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_status_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('status_id', 'tag_id', name=op.f('pk_status_tags'))
    )
    with op.batch_alter_table('status_tags', schema=None) as batch_op:
        batch_op.create_index('ix_status_tags_tag_id_status_id', ['tag_id', 'status_id'], unique=False)

    _create_search_index()


def _create_search_index() -> None:
    """Full-text search over status text: FTS5 on SQLite (rowid = status id); PostgreSQL's own
    text search arrives with the scale-out work."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE status_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS status_search")
    with op.batch_alter_table('status_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_status_tags_tag_id_status_id')

    op.drop_table('status_tags')
    with op.batch_alter_table('status_edits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_edits_status_id'))

    op.drop_table('status_edits')
    with op.batch_alter_table('pins', schema=None) as batch_op:
        batch_op.drop_index('uq_pins_account_status')
        batch_op.drop_index(batch_op.f('ix_pins_status_id'))

    op.drop_table('pins')
    op.drop_table('oauth_authorization_codes')
    with op.batch_alter_table('oauth_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_access_tokens_application_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_access_tokens_account_id'))

    op.drop_table('oauth_access_tokens')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_notifications_dedupe')
        batch_op.drop_index(batch_op.f('ix_notifications_status_id'))
        batch_op.drop_index('ix_notifications_account_id_id')

    op.drop_table('notifications')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_account_id')

    op.drop_table('mentions')
    with op.batch_alter_table('media_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_attachments_status_id'))
        batch_op.drop_index(batch_op.f('ix_media_attachments_account_id'))

    op.drop_table('media_attachments')
    with op.batch_alter_table('list_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_accounts_account_id'))

    op.drop_table('list_accounts')
    with op.batch_alter_table('favourites', schema=None) as batch_op:
        batch_op.drop_index('uq_favourites_account_status')
        batch_op.drop_index(batch_op.f('ix_favourites_status_id'))

    op.drop_table('favourites')
    with op.batch_alter_table('bookmarks', schema=None) as batch_op:
        batch_op.drop_index('uq_bookmarks_account_status')
        batch_op.drop_index(batch_op.f('ix_bookmarks_status_id'))

    op.drop_table('bookmarks')
    with op.batch_alter_table('statuses', schema=None) as batch_op:
        batch_op.drop_index('uq_statuses_reblog', sqlite_where=sa.text('reblog_of_id IS NOT NULL'), postgresql_where=sa.text('reblog_of_id IS NOT NULL'))
        batch_op.drop_index('ix_statuses_visibility_id')
        batch_op.drop_index('ix_statuses_reblog_of_id')
        batch_op.drop_index('ix_statuses_in_reply_to_id')
        batch_op.drop_index('ix_statuses_account_id_id')

    op.drop_table('statuses')
    op.drop_table('oauth_applications')
    with op.batch_alter_table('mutes', schema=None) as batch_op:
        batch_op.drop_index('uq_mutes_pair')

    op.drop_table('mutes')
    op.drop_table('markers')
    with op.batch_alter_table('lists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lists_account_id'))

    op.drop_table('lists')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index('uq_follows_pair')
        batch_op.drop_index('ix_follows_target')

    op.drop_table('follows')
    with op.batch_alter_table('follow_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_follow_requests_pair')
        batch_op.drop_index('ix_follow_requests_target')

    op.drop_table('follow_requests')
    with op.batch_alter_table('blocks', schema=None) as batch_op:
        batch_op.drop_index('uq_blocks_pair')
        batch_op.drop_index('ix_blocks_target')

    op.drop_table('blocks')
    op.drop_table('tags')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_run_at')

    op.drop_table('jobs')
    op.drop_table('instance_settings')
    op.drop_table('login_attempts')
    with op.batch_alter_table('home_feed', schema=None) as batch_op:
        batch_op.drop_index('ix_home_feed_status_id')

    op.drop_table('home_feed')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_followers_count')
        batch_op.drop_index('ix_accounts_created')

    op.drop_table('accounts')
