"""observatory: credentials, learners and key sums per organisation, month and area

Revision ID: i14_area_months
Revises: i17_requests
Create Date: 2026-12-07 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_area_months'
down_revision = 'i17_requests'
branch_labels = None
depends_on = None

KEY_RANGE = 1 << 16  # badgehub.stats.ptable.KEY_RANGE, written out: a migration never imports later code


def upgrade():
    op.create_table('stats_area_months',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('credentials', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.Column('key_sum', sa.Integer(), nullable=False),
    sa.Column('learner_ids', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_area_months_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'month', 'area_id', name=op.f('pk_stats_area_months'))
    )
    # Backfill: the counts and key sums are those of the area cells summed over versions; the learners those of
    # the live credentials (each already has a row in stats_learners: the learner sets were built from them).
    import hashlib

    from pyroaring import BitMap

    bind = op.get_bind()
    sums = {}
    for organisation_id, month, area_id, credentials, key_sum in bind.execute(sa.text(
            "SELECT organisation_id, month, area_id, SUM(credentials), SUM(key_sum) FROM stats_area_cells "
            "WHERE credentials > 0 GROUP BY organisation_id, month, area_id")).tuples():
        sums[(organisation_id, month, area_id)] = (int(credentials), int(key_sum) % KEY_RANGE)
    month = ("CAST(strftime('%Y%m', c.issued_at) AS INTEGER)" if bind.dialect.name == "sqlite"
             else "CAST(EXTRACT(YEAR FROM c.issued_at) * 100 + EXTRACT(MONTH FROM c.issued_at) AS INTEGER)")
    erased = "erased:"  # badgehub.issuing.models.ERASED_RECIPIENT_PREFIX, written out
    ids = dict(bind.execute(sa.text("SELECT key_hash, id FROM stats_learners")).tuples().all())
    sets = {}
    for organisation_id, number, area_id, key in bind.execute(sa.text(
            f"SELECT DISTINCT c.organisation_id, {month}, COALESCE(c.area_id, 0), c.recipient_email_key "
            "FROM issued_credentials c WHERE c.revoked_at IS NULL")).tuples():
        learner = erased if key.startswith(erased) else key
        identifier = ids.get(hashlib.sha256(learner.encode("utf-8")).hexdigest())
        if identifier is not None:
            sets.setdefault((organisation_id, number, area_id), BitMap()).add(identifier)
    table = sa.table('stats_area_months', sa.column('organisation_id', sa.Integer()),
                     sa.column('month', sa.Integer()), sa.column('area_id', sa.Integer()),
                     sa.column('credentials', sa.Integer()), sa.column('learners', sa.Integer()),
                     sa.column('key_sum', sa.Integer()), sa.column('learner_ids', sa.LargeBinary()))
    rows = []
    for group, (credentials, key_sum) in sums.items():
        learners = sets.get(group, BitMap())
        rows.append({"organisation_id": group[0], "month": group[1], "area_id": group[2],
                     "credentials": credentials, "learners": len(learners), "key_sum": key_sum,
                     "learner_ids": learners.serialize()})
    for start in range(0, len(rows), 5_000):
        op.bulk_insert(table, rows[start:start + 5_000])


def downgrade():
    op.drop_table('stats_area_months')
