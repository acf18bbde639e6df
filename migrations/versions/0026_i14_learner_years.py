"""observatory: learner sets per organisation and year

Revision ID: i14_learner_years
Revises: i14_earlier_endorsements
Create Date: 2026-12-07 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_learner_years'
down_revision = 'i14_earlier_endorsements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_learner_years',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('learner_ids', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_stats_learner_years_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'year', name=op.f('pk_stats_learner_years'))
    )
    # Backfill: each year is the union of the organisation's month sets of that year (kept exact since 0012).
    from pyroaring import BitMap

    years = {}
    for organisation_id, month, blob in op.get_bind().execute(sa.text(
            "SELECT organisation_id, month, learner_ids FROM stats_learner_sets")).tuples():
        key = (organisation_id, month // 100)
        years[key] = years.get(key, BitMap()) | BitMap.deserialize(blob)
    table = sa.table('stats_learner_years', sa.column('organisation_id', sa.Integer()),
                     sa.column('year', sa.Integer()), sa.column('learner_ids', sa.LargeBinary()))
    rows = [{"organisation_id": organisation_id, "year": year, "learner_ids": learners.serialize()}
            for (organisation_id, year), learners in sorted(years.items())]
    for start in range(0, len(rows), 5_000):
        op.bulk_insert(table, rows[start:start + 5_000])


def downgrade():
    op.drop_table('stats_learner_years')
