"""Pre-aggregates of issued credentials for the territory observatory, and the observatory's settings.

The cells are exact counts, kept in the same transaction as issuing and revoking (see
:mod:`badgehub.stats.service`); :func:`badgehub.stats.service.rebuild` recounts them from
``issued_credentials``. They hold no personal data: counts per organisation, achievement version, month (and
area), never an e-mail address. ``month`` is ``year * 100 + month`` of ``issued_at`` in UTC (``202403``).

Only live (not revoked) credentials are counted: a revocation takes its credential out of every figure.

Every cell also keeps ``key_sum``, the sum modulo :data:`~badgehub.stats.ptable.KEY_RANGE` of the record keys
(:class:`StatsRecordKey`) of the credentials it counts: the cell-key method's noise of any group of cells is
read from the sum of their ``key_sum`` (see :mod:`badgehub.stats.ptable`), so the public figures cost no more
per request than the exact ones.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.territory.models import Territory

DEFAULT_LICENCE = "Licence Ouverte 2.0"
DEFAULT_LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"


class StatsCell(db.Model):  # type: ignore[name-defined,misc]
    """Live credentials of one achievement version issued in one month, and how many distinct learners hold
    them (distinct ``recipient_email_key`` within the cell)."""

    __tablename__ = "stats_cells"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    achievement_version_id: Mapped[int] = mapped_column(
        ForeignKey("achievement_versions.id", ondelete="CASCADE"), primary_key=True, index=True)
    credentials: Mapped[int] = mapped_column(Integer, default=0)
    learners: Mapped[int] = mapped_column(Integer, default=0)
    key_sum: Mapped[int] = mapped_column(Integer, default=0)


class StatsAreaCell(db.Model):  # type: ignore[name-defined,misc]
    """The same counts split by the area recorded on the credential (``area_id`` 0: none recorded).

    No foreign key on ``area_id``: 0 stands for "none" and an area is only deleted with its territory, whose
    figures then go too (the effective area is resolved against the territory's areas when reading).
    """

    __tablename__ = "stats_area_cells"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    achievement_version_id: Mapped[int] = mapped_column(
        ForeignKey("achievement_versions.id", ondelete="CASCADE"), primary_key=True, index=True)
    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credentials: Mapped[int] = mapped_column(Integer, default=0)
    learners: Mapped[int] = mapped_column(Integer, default=0)
    key_sum: Mapped[int] = mapped_column(Integer, default=0)


class StatsOrganisation(db.Model):  # type: ignore[name-defined,misc]
    """A counter per organisation that grows with every issue and revocation: the version of its figures.

    Cached results of live counts are keyed by it, so a cache can never serve figures that are out of date;
    ``updated_at`` is the ``generated_at`` of open data (the time the counted data last changed). Every
    organisation that issued has this row (created with its first counted credential, or by the rebuild).
    """

    __tablename__ = "stats_organisations"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The organisation's record key for the cell-key method (the published count of organisations that issued
    # is perturbed with the sum of their keys), drawn at random when the row is created.
    record_key: Mapped[int] = mapped_column(Integer, default=0)


class ObservatorySettings(db.Model):  # type: ignore[name-defined,misc]
    """A territory's open-data settings: the licence its figures are published under."""

    __tablename__ = "observatory_settings"

    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True)
    licence: Mapped[str] = mapped_column(String(200), default=DEFAULT_LICENCE)
    licence_url: Mapped[str] = mapped_column(String(500), default=DEFAULT_LICENCE_URL)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    territory: Mapped[Territory] = relationship()


class StatsLearner(db.Model):  # type: ignore[name-defined,misc]
    """A learner of the statistics: a small integer for the SHA-256 of a ``recipient_email_key``.

    Only the hash is kept (the statistics need to tell people apart, never to know who they are); every erased
    recipient shares one row (see :data:`badgehub.issuing.models.ERASED_RECIPIENT_PREFIX`)."""

    __tablename__ = "stats_learners"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The learner's record key for the cell-key method, drawn at random when the learner is first counted.
    record_key: Mapped[int] = mapped_column(Integer, default=0)


class StatsRecordKey(db.Model):  # type: ignore[name-defined,misc]
    """The record key of one issued credential for the cell-key method (:mod:`badgehub.stats.ptable`): drawn
    at random when the credential is first counted and never changed, so a figure made of the same credentials
    always gets the same noise. Kept beside ``issued_credentials`` rather than in it: only the statistics use it."""

    __tablename__ = "stats_record_keys"

    credential_id: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id", ondelete="CASCADE"),
                                               primary_key=True)
    record_key: Mapped[int] = mapped_column(Integer)


class StatsLearnerSet(db.Model):  # type: ignore[name-defined,misc]
    """The learners (ids of :class:`StatsLearner`) holding a live credential of an organisation issued in a
    month, as a serialised Roaring bitmap: distinct learners of any selection of organisations and months are
    the size of a union, exact, without reading ``issued_credentials``."""

    __tablename__ = "stats_learner_sets"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_ids: Mapped[bytes] = mapped_column(LargeBinary)


class StatsLearnerYear(db.Model):  # type: ignore[name-defined,misc]
    """The learners of an organisation in a year: the union of its :class:`StatsLearnerSet` of that year's
    months, as a serialised Roaring bitmap. The headline counts of a page of whole years (all time, a year)
    unite one set per organisation and year instead of one per month (a twelfth of the rows)."""

    __tablename__ = "stats_learner_years"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_ids: Mapped[bytes] = mapped_column(LargeBinary)


class StatsLearnerKeys(db.Model):  # type: ignore[name-defined,misc]
    """The learners' record keys (:attr:`StatsLearner.record_key`) packed in a few rows, so that the cell key of
    a count of distinct learners (the sum of their record keys) is computed from a few hundred kilobytes read in
    one query, not from a row per learner.

    Block ``b`` holds the keys of the learners whose id is ``b`` modulo
    :data:`~badgehub.stats.learner_keys.LEARNER_KEY_BLOCKS`, in the order of their ids (learner ``i`` at position
    ``i // LEARNER_KEY_BLOCKS``), two bytes each, little-endian; a learner not there yet reads as 0. Kept in the
    transaction that counts a new learner; consecutive learners fall in different blocks, so two organisations
    counting newcomers at the same time rarely wait for each other."""

    __tablename__ = "stats_learner_keys"

    block: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_keys: Mapped[bytes] = mapped_column(LargeBinary)


class StatsVersionLearnerSet(db.Model):  # type: ignore[name-defined,misc]
    """The learners (ids of :class:`StatsLearner`) holding a live credential of one achievement version of an
    organisation issued in a month, as a serialised Roaring bitmap: the distinct learners of a selection narrowed
    to some badges (a theme, a competency) are the size of a union too, without reading ``issued_credentials``."""

    __tablename__ = "stats_version_learner_sets"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    achievement_version_id: Mapped[int] = mapped_column(
        ForeignKey("achievement_versions.id", ondelete="CASCADE"), primary_key=True, index=True)
    learner_ids: Mapped[bytes] = mapped_column(LargeBinary)


class StatsAreaMonth(db.Model):  # type: ignore[name-defined,misc]
    """The cells of :class:`StatsAreaCell` summed over badge versions: live credentials of an organisation issued
    in a month and recorded in an area (``area_id`` 0: none), their distinct learners (also as a Roaring bitmap
    of :class:`StatsLearner` ids) and key sum. A page without a theme filter reads these few rows instead of the
    area cells (a tenth of them at a million credentials), and decides the privacy threshold of an area line by
    a union of bitmaps instead of a count on ``issued_credentials``."""

    __tablename__ = "stats_area_months"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credentials: Mapped[int] = mapped_column(Integer, default=0)
    learners: Mapped[int] = mapped_column(Integer, default=0)
    key_sum: Mapped[int] = mapped_column(Integer, default=0)
    learner_ids: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class StatsRecognitionUnit(db.Model):  # type: ignore[name-defined,misc]
    """One counted unit of recognition (issue 17), as the signals of :mod:`badgehub.events` told it: an
    endorsement made, a recognition request in its current state, a pathway completed by a learner. Kept so that
    a signal sent twice counts once, a request moving on leaves its old state, and the cells can be checked
    against a recount; each has its random record key for the cell-key method. No personal data: a learner is
    the id of :class:`StatsLearner`.

    ``kind``: ``endorsement`` (``unit``: its id; ``organisation_id`` the endorsed, ``other_id`` the endorser,
    ``detail`` what was endorsed), ``request`` (``unit``: its id; ``organisation_id`` the organisation asked,
    ``detail`` its status, ``flag`` self-declared) or ``completion`` (``unit``: pathway id and learner id;
    ``organisation_id`` the pathway's owner, ``learner_id`` the learner). 0 stands for none (a person or the
    territory), so no foreign keys."""

    __tablename__ = "stats_recognition_units"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(Integer, default=0)
    other_id: Mapped[int] = mapped_column(Integer, default=0)
    # Indexed: the key of cached figures counts the units of the territory itself (see Dimensions).
    territory_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    detail: Mapped[str] = mapped_column(String(16), default="")
    flag: Mapped[bool] = mapped_column(default=False)
    learner_id: Mapped[int] = mapped_column(Integer, default=0)
    record_key: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StatsRecognitionCell(db.Model):  # type: ignore[name-defined,misc]
    """The units of :class:`StatsRecognitionUnit` counted per kind, month and the same columns: how many, the sum
    of their record keys (the cell key) and, for completions, their distinct learners as a Roaring bitmap of
    :class:`StatsLearner` ids. A page reads these few rows, never the units."""

    __tablename__ = "stats_recognition_cells"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    other_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detail: Mapped[str] = mapped_column(String(16), primary_key=True)
    flag: Mapped[bool] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)
    key_sum: Mapped[int] = mapped_column(Integer, default=0)
    learner_ids: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
