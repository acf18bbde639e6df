"""the mail outbox

Revision ID: i15_outbox
Revises: i15_job_lease
Create Date: 2026-12-07 06:20:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i15_outbox'
down_revision = 'i15_job_lease'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('recipient_key', sa.String(length=254), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('message', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', badgehub.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_until', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('failed_at', badgehub.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbox_message_id'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_recipient_key'), ['recipient_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_ref'), ['ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_sent_at'), ['sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_sent_at'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_ref'))
        batch_op.drop_index(batch_op.f('ix_mail_outbox_recipient_key'))

    op.drop_table('mail_outbox')
