"""Competency frameworks (one per territory) and their competencies, the targets of OB 3.0 alignments."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badgehub.db import db, utcnow

if TYPE_CHECKING:
    from badgehub.territory.models import Territory


class CompetencyFramework(db.Model):  # type: ignore[name-defined,misc]
    """A territory's own framework. Exactly one per territory, created on first use."""

    __tablename__ = "competency_frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    territory: Mapped[Territory] = relationship()
    competencies: Mapped[list[Competency]] = relationship(back_populates="framework",
                                                          cascade="all, delete-orphan",
                                                          order_by="Competency.code")


class Competency(db.Model):  # type: ignore[name-defined,misc]
    """One competency. Without a parent it is a *domain*, the top level of the framework's tree.

    ``code`` is part of the public URL ``/competencies/<territory>/<code>`` written into signed credentials,
    so it never changes once created, and a competency is archived rather than deleted.
    """

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("competency_frameworks.id", ondelete="CASCADE"),
                                              index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id", ondelete="SET NULL"),
                                                  index=True)
    esco_uri: Mapped[str | None] = mapped_column(String(500))
    # An RNCP or RS certification code of France Compétences, e.g. "RNCP34567" or "RS5678".
    rncp_code: Mapped[str | None] = mapped_column(String(32))
    case_item_uri: Mapped[str | None] = mapped_column(String(500))
    other_url: Mapped[str | None] = mapped_column(String(500))
    archived_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    framework: Mapped[CompetencyFramework] = relationship(back_populates="competencies")
    parent: Mapped[Competency | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Competency]] = relationship(back_populates="parent", order_by="Competency.code")

    @property
    def is_domain(self) -> bool:
        return self.parent_id is None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
