"""The brief store's tables, as typed SQLAlchemy 2.0 models.

Schema changes go through Alembic (data/migrations); these classes must match the newest
revision (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
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


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and come back timezone-aware on every engine (SQLite
    keeps no offset); a naive datetime is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class BriefKind(StrEnum):
    POLICY = "policy"
    NEWS = "news"


class GoalKind(StrEnum):
    """Whose target a goal is: a government's (the default everywhere) or a company's own
    plan that a news item reports ("Airbus will open a line by 2026")."""

    POLICY = "policy"
    COMPANY = "company"


class GoalStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    UNKNOWN = "unknown"  # answered "unclear"


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
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    brief_count: Mapped[int] = mapped_column(Integer, default=0)
    # News links whose items could not be told apart (counts differed); kept, not guessed.
    unassigned_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The newsletter the issue belongs to, as its header names it ("China Industrial Policy
    # Tracker"); `name` is the file it came in.
    publication: Mapped[str | None] = mapped_column(String(300))


class IssuingBody(Base):
    __tablename__ = "issuing_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    abbreviation: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(300), default="")
    aliases: Mapped[list[BodyAlias]] = relationship(
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
        Index("ix_briefs_new_since", "new_since"),
        Index("ix_briefs_document_key", "document_key"),
        Index("ix_briefs_document_url", "document_url"),
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
    # Who wrote the comment ("MERICS" from "MERICS comment:"); None when unlabelled.
    comment_author: Mapped[str | None] = mapped_column(String(200))
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    bodies_more: Mapped[bool] = mapped_column(Boolean, default=False)  # "MIIT etc."
    source_label: Mapped[str | None] = mapped_column(String(200))
    source_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_documents.id", ondelete="SET NULL")
    )
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # From when the brief counts as new (digests, "newly tracked" alerts, previews): its
    # ingestion, or when an admin marked it new; NULL: archive, never posted as new.
    # The rule that sets it is data/novelty.py.
    new_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The document it is, to find it when it is reached again (data/ingest/same_document.py):
    # its own name, normalised, without a draft marker ("" when it has none; NULL: not yet
    # computed, for briefs stored before migration 0018), and its official URL, normalised.
    document_key: Mapped[str | None] = mapped_column(String(200))
    document_url: Mapped[str | None] = mapped_column(String(500))
    # A draft for comments (征求意见稿); `final_id` is its final version once that arrived.
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    final_id: Mapped[int | None] = mapped_column(ForeignKey("briefs.id", ondelete="SET NULL"))

    bodies: Mapped[list[IssuingBody]] = relationship(
        secondary=brief_bodies, order_by=brief_bodies.c.position, lazy="selectin"
    )
    # The tracker issue it came from (provenance shown by `show`).
    source_document: Mapped[SourceDocument | None] = relationship(lazy="selectin")
    goals: Mapped[list[Goal]] = relationship(
        back_populates="brief",
        cascade="all, delete-orphan",
        order_by="Goal.position",
        lazy="selectin",
    )

    @property
    def ref(self) -> str:
        """The short id users type: b12."""
        return f"b{self.id}"


class BriefPart(Base):
    """What one kind of source said of a brief's document: the primary text itself
    ("primary") or a tracker's coverage of it ("coverage"), kept so that a brief reached both
    ways is one brief whose fields are rebuilt from both (data/ingest/same_document.py)."""

    __tablename__ = "brief_parts"
    __table_args__ = (UniqueConstraint("brief_id", "role", name="uq_brief_parts_brief_id_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    source_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("source_documents.id", ondelete="SET NULL")
    )
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the part's fields
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Finalisation(Base):
    """A draft for comments whose final version arrived: what changed in its targets, and
    whether the channels told of the draft have had their one notice planned
    (scheduler/kinds/finalised.py)."""

    __tablename__ = "finalisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"), unique=True)
    final_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)  # one line per change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Goal(Base):
    """A key goal of a brief, with the target deadline the text gives (if any)."""

    __tablename__ = "goals"
    __table_args__ = (
        UniqueConstraint("brief_id", "position", name="uq_goals_brief_id_position"),
        Index("ix_goals_due_on", "due_on"),
        # Deadlines and the scorecard: one kind's goals in a range of deadlines, counted and
        # listed from the index alone (migration 0015). The deadline leads: led by the kind,
        # SQLite took it for any query naming a kind, even one naming a few briefs.
        Index("ix_goals_due_on_kind", "due_on", "kind", "brief_id"),
        # Reminder planning reads the goals whose window opens on given days.
        Index("ix_goals_window_start", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    precision: Mapped[str | None] = mapped_column(String(10))
    window_start: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(String(10), default=GoalStatus.OPEN)
    kind: Mapped[GoalKind] = mapped_column(String(10), default=GoalKind.POLICY)

    brief: Mapped[Brief] = relationship(back_populates="goals")

    @property
    def ref(self) -> str:
        return f"g{self.id}"


class VocabularyTerm(Base):
    """Words that occur in stored briefs, for "did you mean" suggestions."""

    __tablename__ = "vocabulary"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)


class LearnedAlias(Base):
    """A short form the briefs define on first use, "power usage effectiveness (PUE)": a
    synonym group the search expands as it does the thesaurus's (data/search/aliases.py)."""

    __tablename__ = "learned_aliases"
    __table_args__ = (
        UniqueConstraint("short_form", "long_form", name="uq_learned_aliases_short_long"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_form: Mapped[str] = mapped_column(String(40))
    long_form: Mapped[str] = mapped_column(String(200))


class ScheduleKind(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"  # Monday to Friday
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    INSTANT = "instant"


class Subscription(Base):
    """A channel's standing query: new matching briefs arrive as digests on a schedule."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_next_due_at", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    query_text: Mapped[str] = mapped_column(Text, default="")
    schedule: Mapped[ScheduleKind] = mapped_column(String(10))
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, for weekly
    # Day of the month for monthly (1-31; a day a month lacks means its last day).
    month_day: Mapped[int | None] = mapped_column(Integer)
    at_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)  # local minute of the day
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Briefs ingested after this instant are candidates (moves forward as digests are planned).
    checked_until: Mapped[datetime] = mapped_column(UTCDateTime())
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"s{self.id}"


class ChannelSettings(Base):
    """Per-channel preferences: quiet hours for instant alerts."""

    __tablename__ = "channel_settings"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", name="uq_channel_settings_team_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[int | None] = mapped_column(Integer)  # local minute of the day
    quiet_end: Mapped[int | None] = mapped_column(Integer)


def _partial_index(name: str, column: str, *more: str) -> Index:
    """An index over the rows whose first column is set (migration 0014)."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, *more, sqlite_where=where, postgresql_where=where)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    DROPPED = "dropped"  # the subscription or reminder went away before it was sent
    FOLDED = "folded"  # an alert lead missed during downtime, folded into a later one


class Delivery(Base):
    """The ledger: one row per thing delivered somewhere, unique by `dedupe_key`
    ("digest:<subscription>:<brief>"). A row is claimed, posted, then marked sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        # "Was this goal alerted?" for newly ingested or moved goals, and the ON DELETE
        # actions of goals and reminder rules, are lookups rather than ledger scans. Each
        # index holds only the rows that have its column (an alert has no subscription, a
        # digest row no goal): a busy morning writes hundreds of thousands of rows.
        _partial_index("ix_deliveries_subscription_brief", "subscription_id", "brief_id"),
        _partial_index("ix_deliveries_goal_id", "goal_id"),
        # By rule and time: a rule run's prepare reads the channel's runs of the last days.
        _partial_index("ix_deliveries_reminder_id", "reminder_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )
    brief_id: Mapped[int | None] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    lead_days: Mapped[int | None] = mapped_column(Integer)
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder_rules.id", ondelete="SET NULL")
    )
    # For alerts: which edge of the deadline ("due", or "opens" for a window's start).
    edge: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[DeliveryStatus] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_ts: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(String(200))
    # A run of a reminder rule (docs/ledger-unit.md): one row for all the alerts (kind
    # "reminder") or follow-ups (kind "followup") of one rule that fell due in the plan
    # interval (covers_after, covers_until], instead of a row per alert. Its items are the
    # goals of briefs at search revision <= revision_floor that match `plan_query` (the rule's
    # query as planned) with an edge `plan_leads` days after an alert time (`plan_zone`,
    # `plan_minute`) in the interval; they are worked out once, before the first post, into
    # `alert_items`, and from then on are what the row delivers. NULL on every other row.
    covers_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    covers_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_floor: Mapped[int | None] = mapped_column(Integer)
    plan_query: Mapped[str | None] = mapped_column(Text)
    plan_leads: Mapped[str | None] = mapped_column(String(200))  # "90,30,7": days, descending
    plan_zone: Mapped[str | None] = mapped_column(String(64))  # the rule's zone as planned
    plan_minute: Mapped[int | None] = mapped_column(Integer)  # and its local alert minute


class AlertItem(Base):
    """One alert (or follow-up) a rule run carries, fixed before its first post so that a
    retry, an uncertain post's recovery or a crash posts or records the same items whatever
    was edited since. `shown` is false for a goal the channel was alerted about within the
    day (counted as covered, not shown again)."""

    __tablename__ = "alert_items"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    edge: Mapped[str] = mapped_column(String(10), primary_key=True)  # "due" or "opens"
    edge_on: Mapped[date] = mapped_column(Date)
    lead: Mapped[int | None] = mapped_column(Integer)  # NULL for a follow-up
    shown: Mapped[bool] = mapped_column(Boolean, default=True)


class ReminderRule(Base):
    """A channel's deadline reminders: alerts `leads` days before each matching goal's
    deadline, at a local time."""

    __tablename__ = "reminder_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    query_text: Mapped[str] = mapped_column(Text, default="")
    leads: Mapped[list[int]] = mapped_column(JSON, default=list)  # days, descending
    at_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Planning has written every alert that fell due up to this instant, and has seen every
    # brief written up to this search revision (scheduler/kinds/alerts_planner.py); None: not yet.
    checked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_revision: Mapped[int | None] = mapped_column(Integer)

    @property
    def ref(self) -> str:
        return f"r{self.id}"


class GoalAssessment(Base):
    """A team's answer to "was this target met?" (teams answer independently)."""

    __tablename__ = "goal_assessments"
    __table_args__ = (UniqueConstraint("team_id", "goal_id", name="uq_goal_assessments_team_goal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    status: Mapped[GoalStatus] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GoalAssessmentChange(Base):
    """Every answer a team gave to "was this target met?", oldest first: the history behind
    the current GoalAssessment, so a corrected click shows who answered what and when."""

    __tablename__ = "goal_assessment_changes"
    __table_args__ = (Index("ix_goal_assessment_changes_team_goal", "team_id", "goal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"))
    status: Mapped[GoalStatus] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TeamNote(Base):
    """A workspace's note on a brief (`/policy note b2 ...`): shown with the brief and found by
    that workspace's searches only; the shared corpus stays the same for everyone."""

    __tablename__ = "team_notes"
    __table_args__ = (Index("ix_team_notes_team_brief", "team_id", "brief_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class SearchDocument(Base):
    """A brief as search indexes it: analysed fields (space-separated terms, in order) and
    what filters read, stamped with the revision that wrote it. A removed brief leaves a
    tombstone (`deleted`) so that every process's index drops it (data/search/base.py)."""

    __tablename__ = "search_documents"
    __table_args__ = (Index("ix_search_documents_revision", "revision"),)

    brief_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    analysis: Mapped[int] = mapped_column(Integer)  # the analysis version of the terms
    kind: Mapped[str] = mapped_column(String(10))
    published_on: Mapped[date | None] = mapped_column(Date)
    body_ids: Mapped[str] = mapped_column(Text, default="")  # space-separated ids
    due_years: Mapped[str] = mapped_column(Text, default="")  # years with a deadline
    title: Mapped[str] = mapped_column(Text, default="")
    bodies: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")


class SearchState(Base):
    """One row: the newest search revision (bumped, and so row-locked, by every writer)."""

    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # A random id given once: names the database's search index on disk, so an index is
    # never taken for another database's (data/search/shared.py).
    identity: Mapped[str | None] = mapped_column(String(32), nullable=True)


class IntakeStatus(StrEnum):
    PENDING = "pending"
    INGESTED = "ingested"
    CANCELLED = "cancelled"


class PendingIntake(Base):
    """A file uploaded in Slack, previewed and waiting for Ingest or Cancel. It lives in the
    database, not in a process, so any replica can take the click; `status` leaves
    `pending` in one UPDATE, so the same click twice (or a replayed request) writes once.
    The file's bytes are kept until the decision, so what is written is what was previewed."""

    __tablename__ = "pending_intakes"
    __table_args__ = (UniqueConstraint("team_id", "file_id", name="uq_pending_intakes_team_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the buttons' value
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    file_id: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(40))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[IntakeStatus] = mapped_column(String(12), default=IntakeStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(Text, default="")  # what Ingest did, for a repeat


class WatchedSource(Base):
    """A feed, a page listing documents, or a PDF that an admin asked policybot to watch
    (`/policy source add`). The poller takes a due source by leasing it (`leased_until`),
    so one poller at a time reads it; what the last poll found or met is kept for
    `/policy sources`."""

    __tablename__ = "watched_sources"
    __table_args__ = (
        UniqueConstraint("team_id", "url", name="uq_watched_sources_team_url"),
        Index("ix_watched_sources_next_poll_at", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(10), default="auto")  # auto, feed, page, pdf
    every_minutes: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row: the back-off
    items_found: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def ref(self) -> str:
        return f"w{self.id}"


class SourceItemStatus(StrEnum):
    PENDING = "pending"  # found, not yet read
    TAKEN = "taken"  # read and written (or found to hold nothing new)
    FAILED = "failed"  # given up after repeated failures


class SourceItem(Base):
    """A document a watched source pointed at, once per URL whichever source found it and
    however often (a feed's GUID too, per source): the unique keys make "take each item
    once" hold across polls and replicas. Found items wait `pending` until a poll reads
    them, so an item found by a poll that ran out of its budget is not lost to the next
    conditional GET's 304."""

    __tablename__ = "source_items"
    __table_args__ = (
        UniqueConstraint("url", name="uq_source_items_url"),
        UniqueConstraint("source_id", "guid", name="uq_source_items_source_guid"),
        Index("ix_source_items_source_status", "source_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("watched_sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    guid: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[SourceItemStatus] = mapped_column(String(10), default=SourceItemStatus.PENDING)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(Text, default="")  # what the writer did


class Installation(Base):
    """One row: a random id given once to this database (this installation). Calendar event
    UIDs are made from it, so two installations' events never collide in one calendar."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    identity: Mapped[str] = mapped_column(String(32))


class CalendarFeed(Base):
    """A channel's calendar subscription: an ICS feed that calendars poll at a secret URL.
    Only a hash of the URL's token is kept; a revoked feed answers 404."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_team_channel", "team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    query_text: Mapped[str] = mapped_column(Text, default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"cal{self.id}"
