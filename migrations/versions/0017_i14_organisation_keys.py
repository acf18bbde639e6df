"""observatory: record keys of organisations (the count of organisations that issued is perturbed)

Revision ID: i14_org_keys
Revises: i14_version_sets
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_org_keys'
down_revision = 'i14_version_sets'
branch_labels = None
depends_on = None

KEY_RANGE = 1 << 16  # badgehub.stats.ptable.KEY_RANGE, written out: a migration never imports later code


def upgrade():
    with op.batch_alter_table('stats_organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.Integer(), nullable=False, server_default='0'))
    # Every organisation counted so far gets its random record key now, from the system's secure source.
    import secrets

    bind = op.get_bind()
    organisations = bind.execute(sa.text("SELECT organisation_id FROM stats_organisations")).scalars().all()
    if organisations:
        bind.execute(sa.text("UPDATE stats_organisations SET record_key = :key WHERE organisation_id = :id"),
                     [{"id": i, "key": secrets.randbelow(KEY_RANGE)} for i in organisations])
    with op.batch_alter_table('stats_organisations', schema=None) as batch_op:
        batch_op.alter_column('record_key', server_default=None)


def downgrade():
    with op.batch_alter_table('stats_organisations', schema=None) as batch_op:
        batch_op.drop_column('record_key')
