"""observatory: count the endorsements made before the observatory counted recognition

Endorsements existed before migration i14_recognition; the observatory counts them from the signal each new one
sends, so those made earlier were in no table and `badgehub observatory rebuild` (which rebuilds the cells from
the units) could not bring them back. This gives each of them its unit, as the signal would have (endorser 0
for a territory's or a person's issuer, the territory's id for the former), then rewrites the endorsement cells.

Revision ID: i14_earlier_endorsements
Revises: i14_recognition_territory
Create Date: 2026-12-07 15:20:00

"""
import datetime as dt
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_earlier_endorsements'
down_revision = 'i14_recognition_territory'
branch_labels = None
depends_on = None

KEY_RANGE = 1 << 16  # badgehub.stats.ptable.KEY_RANGE, written out: a migration never imports later code
KINDS = ("achievement", "profile", "credential")  # badgehub.stats.recognition.ENDORSED_KINDS
COLUMNS = ("kind", "month", "organisation_id", "other_id", "territory_id", "detail", "flag")

units = sa.table('stats_recognition_units', *(sa.column(name) for name in (
    *COLUMNS, "unit", "learner_id", "record_key", "changed_at")))
cells = sa.table('stats_recognition_cells', *(sa.column(name) for name in COLUMNS),
                 sa.column('units'), sa.column('key_sum'), sa.column('learner_ids', sa.LargeBinary()))


def upgrade():
    bind = op.get_bind()
    month = ("CAST(strftime('%Y%m', e.issued_at) AS INTEGER)" if bind.dialect.name == "sqlite"
             else "CAST(EXTRACT(YEAR FROM e.issued_at) * 100 + EXTRACT(MONTH FROM e.issued_at) AS INTEGER)")
    counted = set(bind.execute(sa.text("SELECT unit FROM stats_recognition_units WHERE kind = 'endorsement'"))
                  .scalars())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for identifier, number, endorsed, endorser, kind, territory, personal in bind.execute(sa.text(
            f"SELECT e.id, {month}, e.endorsed_organisation_id, e.endorser_id, e.kind, t.territory_id, p.id "
            "FROM endorsements e LEFT JOIN territory_issuers t ON t.organisation_id = e.endorser_id "
            "LEFT JOIN personal_issuers p ON p.organisation_id = e.endorser_id ORDER BY e.id")).tuples():
        if str(identifier) in counted:
            continue
        rows.append({"kind": "endorsement", "unit": str(identifier), "month": number,
                     "organisation_id": endorsed or 0,
                     "other_id": endorser if territory is None and personal is None else 0,
                     "territory_id": territory or 0, "detail": kind if kind in KINDS else "", "flag": False,
                     "learner_id": 0, "record_key": secrets.randbelow(KEY_RANGE), "changed_at": now})
    if not rows:
        return
    for start in range(0, len(rows), 5_000):
        op.bulk_insert(units, rows[start:start + 5_000])
    sums = {}
    for row in bind.execute(sa.select(*(units.c[name] for name in COLUMNS), units.c.record_key)
                            .where(units.c.kind == "endorsement")).tuples():
        before = sums.get(tuple(row[:-1]), (0, 0))
        sums[tuple(row[:-1])] = (before[0] + 1, (before[1] + row[-1]) % KEY_RANGE)
    bind.execute(sa.delete(cells).where(cells.c.kind == "endorsement"))
    op.bulk_insert(cells, [{**dict(zip(COLUMNS, key, strict=True)), "units": count, "key_sum": key_sum, "learner_ids": b""}
                           for key, (count, key_sum) in sums.items()])


def downgrade():
    pass  # the units stay: they are what the signals would have counted
