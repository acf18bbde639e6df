"""observatory: record keys of the cell-key method

Revision ID: i14_cell_key
Revises: i15_outbox
Create Date: 2026-12-07 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_cell_key'
down_revision = 'i15_outbox'
branch_labels = None
depends_on = None

KEY_RANGE = 1 << 16  # badgehub.stats.ptable.KEY_RANGE, written out: a migration never imports later code


def upgrade():
    op.create_table('stats_record_keys',
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_stats_record_keys_credential_id_issued_credentials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('credential_id', name=op.f('pk_stats_record_keys'))
    )
    with op.batch_alter_table('stats_cells', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_sum', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('stats_area_cells', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_sum', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('stats_learners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_key', sa.Integer(), nullable=False, server_default='0'))

    # Backfill: every live credential and every learner counted so far gets its random record key now (from the
    # system's secure source, as the application draws them), then every cell its key sum.
    import secrets

    bind = op.get_bind()
    credentials = bind.execute(sa.text("SELECT id FROM issued_credentials WHERE revoked_at IS NULL")).scalars().all()
    keys = sa.table('stats_record_keys', sa.column('credential_id', sa.Integer()), sa.column('record_key', sa.Integer()))
    for start in range(0, len(credentials), 10_000):
        op.bulk_insert(keys, [{"credential_id": i, "record_key": secrets.randbelow(KEY_RANGE)}
                              for i in credentials[start:start + 10_000]])
    learners = bind.execute(sa.text("SELECT id FROM stats_learners")).scalars().all()
    for start in range(0, len(learners), 10_000):
        bind.execute(sa.text("UPDATE stats_learners SET record_key = :key WHERE id = :id"),
                     [{"id": i, "key": secrets.randbelow(KEY_RANGE)} for i in learners[start:start + 10_000]])
    month = ("CAST(strftime('%Y%m', c.issued_at) AS INTEGER)" if bind.dialect.name == "sqlite"
             else "CAST(EXTRACT(YEAR FROM c.issued_at) * 100 + EXTRACT(MONTH FROM c.issued_at) AS INTEGER)")
    for table, area in (("stats_cells", ""), ("stats_area_cells", " AND COALESCE(c.area_id, 0) = t.area_id")):
        op.execute(
            f"UPDATE {table} SET key_sum = (SELECT COALESCE(SUM(k.record_key), 0) % {KEY_RANGE} "
            "FROM issued_credentials c JOIN stats_record_keys k ON k.credential_id = c.id "
            f"WHERE c.revoked_at IS NULL AND c.organisation_id = {table}.organisation_id "
            f"AND c.achievement_version_id = {table}.achievement_version_id AND {month} = {table}.month"
            f"{area.replace('t.', table + '.')})")
    for table in ('stats_cells', 'stats_area_cells', 'stats_learners'):
        column = 'record_key' if table == 'stats_learners' else 'key_sum'
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table('stats_learners', schema=None) as batch_op:
        batch_op.drop_column('record_key')
    with op.batch_alter_table('stats_area_cells', schema=None) as batch_op:
        batch_op.drop_column('key_sum')
    with op.batch_alter_table('stats_cells', schema=None) as batch_op:
        batch_op.drop_column('key_sum')
    op.drop_table('stats_record_keys')
