"""OpenID4VCI credential offers and nonces

Revision ID: i18_oid4vci
Revises: i14_cell_key
Create Date: 2026-12-07 06:00:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i18_oid4vci'
down_revision = 'i14_cell_key'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oid4vci_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tx_code_hash', sa.String(length=64), nullable=True),
    sa.Column('tx_attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('redeemed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_oid4vci_offers_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oid4vci_offers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oid4vci_offers')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oid4vci_offers_code_hash')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oid4vci_offers_token_hash'))
    )
    with op.batch_alter_table('oid4vci_offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oid4vci_offers_credential_id'), ['credential_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oid4vci_offers_user_id'), ['user_id'], unique=False)

    op.create_table('oid4vci_nonces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oid4vci_nonces')),
    sa.UniqueConstraint('value_hash', name=op.f('uq_oid4vci_nonces_value_hash'))
    )
    with op.batch_alter_table('oid4vci_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oid4vci_nonces_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('oid4vci_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oid4vci_nonces_expires_at'))

    op.drop_table('oid4vci_nonces')
    with op.batch_alter_table('oid4vci_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oid4vci_offers_user_id'))
        batch_op.drop_index(batch_op.f('ix_oid4vci_offers_credential_id'))

    op.drop_table('oid4vci_offers')
