"""observatory: the learners' record keys packed in blocks

Revision ID: i14_learner_keys
Revises: i16_revocation
Create Date: 2026-12-07 09:40:00

"""
import sys
from array import array

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_learner_keys'
down_revision = 'i16_revocation'
branch_labels = None
depends_on = None

BLOCKS = 64  # badgehub.stats.service.LEARNER_KEY_BLOCKS, written out: a migration never imports later code


def upgrade():
    op.create_table('stats_learner_keys',
    sa.Column('block', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('record_keys', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('block', name=op.f('pk_stats_learner_keys'))
    )
    # Backfill: learner i's key at position i // BLOCKS of block i % BLOCKS, two bytes little-endian.
    rows = op.get_bind().execute(sa.text("SELECT id, record_key FROM stats_learners")).tuples().all()
    if not rows:
        return
    length = max(identifier for identifier, _ in rows) // BLOCKS + 1
    blocks = [array("H", bytes(2 * length)) for _ in range(BLOCKS)]
    for identifier, record_key in rows:
        blocks[identifier % BLOCKS][identifier // BLOCKS] = record_key
    if sys.byteorder == "big":
        for keys in blocks:
            keys.byteswap()
    table = sa.table('stats_learner_keys', sa.column('block', sa.Integer()), sa.column('record_keys', sa.LargeBinary()))
    op.bulk_insert(table, [{"block": block, "record_keys": keys.tobytes()} for block, keys in enumerate(blocks)])


def downgrade():
    op.drop_table('stats_learner_keys')
