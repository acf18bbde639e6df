"""keep links: the record of each "See and keep your badge" link used (the links themselves are signed)

Revision ID: i16_keep_links
Revises: i18_oauth
Create Date: 2026-12-07 06:10:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i16_keep_links'
down_revision = 'i18_oauth'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('keep_link_uses',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('used_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_keep_link_uses_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_keep_link_uses_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_keep_link_uses'))
    )
    with op.batch_alter_table('keep_link_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_keep_link_uses_credential_id'), ['credential_id'], unique=False)


def downgrade():
    with op.batch_alter_table('keep_link_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_keep_link_uses_credential_id'))
    op.drop_table('keep_link_uses')
