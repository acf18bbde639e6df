"""wallet (e-mail addresses, shares, imported credentials, holder DID)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wallet_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_key', sa.String(length=254), nullable=False),
    sa.Column('verified_key', sa.String(length=254), nullable=True),
    sa.Column('verified_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallet_emails_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_emails')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_wallet_emails_token_hash')),
    sa.UniqueConstraint('user_id', 'email_key', name=op.f('uq_wallet_emails_user_id_email_key')),
    sa.UniqueConstraint('verified_key', name=op.f('uq_wallet_emails_verified_key'))
    )
    with op.batch_alter_table('wallet_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_emails_email_key'), ['email_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_emails_user_id'), ['user_id'], unique=False)

    op.create_table('wallet_imported_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('ob_version', sa.String(length=8), nullable=True),
    sa.Column('source_url', sa.String(length=2048), nullable=True),
    sa.Column('achievement_name', sa.String(length=300), nullable=False),
    sa.Column('issuer_name', sa.String(length=300), nullable=False),
    sa.Column('imported_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('last_report', sa.JSON(), nullable=False),
    sa.Column('last_verdict', sa.String(length=32), nullable=False),
    sa.Column('last_checked_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallet_imported_credentials_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_imported_credentials'))
    )
    with op.batch_alter_table('wallet_imported_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_imported_credentials_user_id'), ['user_id'], unique=False)

    op.create_table('wallet_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('holder_did', sa.String(length=500), nullable=True),
    sa.Column('did_added_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallet_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_wallet_profiles'))
    )
    op.create_table('wallet_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wallet_shares_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_shares')),
    sa.UniqueConstraint('token', name=op.f('uq_wallet_shares_token'))
    )
    with op.batch_alter_table('wallet_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_shares_user_id'), ['user_id'], unique=False)

    op.create_table('wallet_share_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('imported_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('(credential_id IS NULL) <> (imported_id IS NULL)', name=op.f('ck_wallet_share_items_one_credential')),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_wallet_share_items_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['imported_id'], ['wallet_imported_credentials.id'], name=op.f('fk_wallet_share_items_imported_id_wallet_imported_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['share_id'], ['wallet_shares.id'], name=op.f('fk_wallet_share_items_share_id_wallet_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_share_items'))
    )
    with op.batch_alter_table('wallet_share_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wallet_share_items_credential_id'), ['credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_share_items_imported_id'), ['imported_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wallet_share_items_share_id'), ['share_id'], unique=False)


def downgrade():
    with op.batch_alter_table('wallet_share_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_share_items_share_id'))
        batch_op.drop_index(batch_op.f('ix_wallet_share_items_imported_id'))
        batch_op.drop_index(batch_op.f('ix_wallet_share_items_credential_id'))

    op.drop_table('wallet_share_items')
    with op.batch_alter_table('wallet_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_shares_user_id'))

    op.drop_table('wallet_shares')
    op.drop_table('wallet_profiles')
    with op.batch_alter_table('wallet_imported_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_imported_credentials_user_id'))

    op.drop_table('wallet_imported_credentials')
    with op.batch_alter_table('wallet_emails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wallet_emails_user_id'))
        batch_op.drop_index(batch_op.f('ix_wallet_emails_email_key'))

    op.drop_table('wallet_emails')
