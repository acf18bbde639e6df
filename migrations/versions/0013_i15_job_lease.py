"""a lease on running batches (owner and expiry)

Revision ID: i15_job_lease
Revises: i15_sessions
Create Date: 2026-12-07 06:10:00

"""
from alembic import op
import sqlalchemy as sa

import badgehub.db


# revision identifiers, used by Alembic.
revision = 'i15_job_lease'
down_revision = 'i15_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('issue_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', badgehub.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('issue_batches', schema=None) as batch_op:
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('lease_owner')
