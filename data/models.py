"""The brief store's tables, as typed SQLAlchemy 2.0 models.

Schema changes go through Alembic (data/migrations); these classes must match the newest
revision (a test compares them).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so Alembic migrations can refer to them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class BriefKind(StrEnum):
    POLICY = "policy"
    NEWS = "news"


class GoalStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    UNKNOWN = "unknown"


brief_bodies = Table(
    "brief_bodies",
    Base.metadata,
    Column("brief_id", ForeignKey("briefs.id", ondelete="CASCADE"), primary_key=True),
    Column("body_id", ForeignKey("issuing_bodies.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class SourceDocument(Base):
    """One ingested tracker issue (a file)."""

    __tablename__ = "source_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issue_date: Mapped[date | None] = mapped_column(Date)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    brief_count: Mapped[int] = mapped_column(Integer, default=0)
    # News links whose items could not be told apart (counts differed); kept, not guessed.
    unassigned_links: Mapped[list[str]] = mapped_column(JSON, default=list)


class IssuingBody(Base):
    __tablename__ = "issuing_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    abbreviation: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(300), default="")
    aliases: Mapped[list["BodyAlias"]] = relationship(
        back_populates="body", cascade="all, delete-orphan"
    )


class BodyAlias(Base):
    """Another name for an issuing body ("工信部" for MIIT), matched case-insensitively."""

    __tablename__ = "body_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("issuing_bodies.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(300))
    normalized: Mapped[str] = mapped_column(String(300), unique=True)
    body: Mapped[IssuingBody] = relationship(back_populates="aliases")


class Brief(Base):
    """One policy document or news item as a tracker summarises it."""

    __tablename__ = "briefs"
    __table_args__ = (
        Index("ix_briefs_published_on", "published_on"),
        Index("ix_briefs_ingested_at", "ingested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What makes two tracker entries the same brief (kind, date, normalised title).
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    # Changes when any stored field changes, so re-ingesting an unchanged file is a no-op.
    content_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[BriefKind] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    title_original: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    bodies_more: Mapped[bool] = mapped_column(Boolean, default=False)  # "MIIT etc."
    source_label: Mapped[str | None] = mapped_column(String(200))
    source_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_documents.id", ondelete="SET NULL")
    )
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    bodies: Mapped[list[IssuingBody]] = relationship(
        secondary=brief_bodies, order_by=brief_bodies.c.position, lazy="selectin"
    )
    goals: Mapped[list["Goal"]] = relationship(
        back_populates="brief",
        cascade="all, delete-orphan",
        order_by="Goal.position",
        lazy="selectin",
    )

    @property
    def ref(self) -> str:
        """The short id users type: b12."""
        return f"b{self.id}"


class Goal(Base):
    """A key goal of a brief, with the target deadline the text gives (if any)."""

    __tablename__ = "goals"
    __table_args__ = (
        UniqueConstraint("brief_id", "position", name="uq_goals_brief_id_position"),
        Index("ix_goals_due_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    precision: Mapped[str | None] = mapped_column(String(10))
    window_start: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(String(10), default=GoalStatus.OPEN)

    brief: Mapped[Brief] = relationship(back_populates="goals")

    @property
    def ref(self) -> str:
        return f"g{self.id}"


class VocabularyTerm(Base):
    """Words that occur in stored briefs, for "did you mean" suggestions."""

    __tablename__ = "vocabulary"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
