"""Tracker files that arrive in Slack, in two steps. `stage_upload` previews a file (what
`policybot ingest --dry-run` prints) and keeps it as a pending intake; `decide_intake`
writes it when an admin presses Ingest, or drops it on Cancel. Nothing reaches the corpus
before Ingest, and the pending row's status leaves `pending` exactly once, so a double
click or a replayed request writes the file once, on whichever replica takes it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..data.db import SessionFactory, unit_of_work
from ..data.errors import UserError
from ..data.ingest.parser import parse_bytes
from ..data.ingest.preview import IssuePreview, preview_issue
from ..data.ingest.text import ParseError
from ..data.ingest.writer import IngestSummary, IssueWriter
from ..data.intakes import intake_by_token, intake_of_file
from ..data.models import IntakeStatus, PendingIntake
from ..data.novelty import Novelty
from .context import Context
from .permissions import require_admin
from .replies import Reply, Section

# A preview nobody answered within a week is stale: the corpus may have moved on.
INTAKE_TTL = timedelta(days=7)
MAX_LISTED = 40  # brief lines in a preview message; the rest are counted
CORPUS_ACTION = "add files to the shared corpus"


def preview_lines(preview: IssuePreview) -> list[str]:
    """The dry-run preview as lines of text: the headline, then each brief with its
    warnings, then warnings of the issue no brief already showed."""
    lines = [headline(preview)]
    for brief in preview.briefs:
        where = f" ({brief.existing_ref})" if brief.existing_ref else ""
        archive = " [archive]" if brief.action == "add" and not brief.new else ""
        lines.append(
            f"  {brief.action:<9} {brief.record.kind:<6} {brief.record.title}{where}{archive}"
        )
        lines.extend(f"            warning: {w}" for w in brief.record.warnings)
    brief_warnings = {w for b in preview.briefs for w in b.record.warnings}
    lines.extend(
        f"  warning: {w}"
        for w in preview.warnings
        if not any(w.endswith(shown) for shown in brief_warnings)
    )
    if preview.removals:
        lines.append(f"  {removals_heading(preview.replace_facts)}:")
        lines.extend(f"    {r}" for r in preview.removals)
    return lines


def headline(preview: IssuePreview) -> str:
    """ "x.pdf: would add 17 (5 new, 12 archive: not posted), update 0, leave 0 unchanged" """
    novelty = preview.novelty_label
    return (
        f"{preview.source}: would add {preview.count('add')}"
        + (f" ({novelty})" if novelty else "")
        + f", update {preview.count('update')}, leave {preview.count('unchanged')} unchanged"
        + (" (already ingested)" if preview.already_ingested else "")
    )


def removals_heading(replace_facts: bool) -> str:
    if replace_facts:
        return "Stored facts this file lacks, removed as asked (replace)"
    return (
        "Stored facts this file lacks, kept (the rest of the update applies; "
        "replace to remove them)"
    )


def preview_reply(preview: IssuePreview) -> Reply:
    """The same preview as a Reply: counts in the headline, one section per part."""
    briefs = []
    for brief in preview.briefs[:MAX_LISTED]:
        where = f" ({brief.existing_ref})" if brief.existing_ref else ""
        archive = " [archive]" if brief.action == "add" and not brief.new else ""
        briefs.append(f"{brief.action} {brief.record.kind}: {brief.record.title}{where}{archive}")
        briefs.extend(f"    warning: {w}" for w in brief.record.warnings)
    if len(preview.briefs) > MAX_LISTED:
        briefs.append(f"\u2026and {len(preview.briefs) - MAX_LISTED} more briefs")
    brief_warnings = {w for b in preview.briefs for w in b.record.warnings}
    issue_warnings = tuple(
        w for w in preview.warnings if not any(w.endswith(s) for s in brief_warnings)
    )
    sections = [Section(f"{len(preview.briefs)} briefs", tuple(briefs))]
    if preview.removals:
        sections.append(
            Section(removals_heading(preview.replace_facts), tuple(preview.removals[:MAX_LISTED]))
        )
    if issue_warnings:
        sections.append(Section("Warnings", issue_warnings))
    if preview.unassigned_links:
        sections.append(
            Section("Links I could not place (kept on the issue)", tuple(preview.unassigned_links))
        )
    return Reply(text=headline(preview), sections=sections)


@dataclass(frozen=True)
class StagedUpload:
    reply: Reply
    token: str | None  # the Ingest/Cancel buttons' value; None: nothing to decide
    repeat: bool = False  # the same upload was staged before (Slack replayed the event)
    archive: bool = False  # by its date the file is archive (the other choice: "as new")
    removals: bool = False  # the update lacks stored facts (offer "Replace")


def stage_upload(
    factory: SessionFactory,
    ctx: Context,
    *,
    file_id: str,
    filename: str,
    raw: bytes,
) -> StagedUpload:
    """Preview `raw` and keep it pending. A file that cannot be read raises ParseError
    (nothing kept); one that would change nothing is only described."""
    digest = hashlib.sha256(raw).hexdigest()
    issue = parse_bytes(raw, filename)
    with unit_of_work(factory) as session:
        preview = preview_issue(session, issue, digest, ctx.now)
        reply = preview_reply(preview)
        existing = intake_of_file(session, ctx.team_id, file_id)
        choices = {"archive": preview.archive, "removals": bool(preview.removals)}
        if existing is not None and existing.status == IntakeStatus.PENDING:
            return StagedUpload(reply, existing.token, repeat=True, **choices)
        if existing is not None and existing.content_hash == digest:
            # Slack replayed the event after someone decided: the decision stands, whenever
            # the replay's reading of the file finishes.
            return StagedUpload(reply, None, repeat=True)
        if not preview.count("add") and not preview.count("update") and not preview.removals:
            reply.notes.append("Nothing new to ingest: every brief in it is stored already.")
            return StagedUpload(reply, None)
        intake = existing or PendingIntake(team_id=ctx.team_id, file_id=file_id)
        intake.token = secrets.token_urlsafe(24)
        intake.channel_id = ctx.channel_id
        intake.filename = filename[:500]
        intake.uploaded_by = ctx.user_id
        intake.content = raw
        intake.content_hash = digest
        intake.status = IntakeStatus.PENDING
        intake.created_at = ctx.now
        intake.decided_by = intake.decided_at = None
        intake.outcome = ""
        session.add(intake)
        try:
            session.flush()
        except IntegrityError:
            # The same event, handled at this moment by another replica: it posts.
            session.rollback()
            return StagedUpload(reply, None, repeat=True)
        token = intake.token
    reply.notes.append(
        "Nothing is written until someone allowed to change the shared corpus presses Ingest."
    )
    if preview.archive:
        reply.notes.append(
            "By its date this is a back issue: its briefs are searchable at once but never "
            "posted as new. Press \u201cIngest as new\u201d if they are news to your readers."
        )
    if preview.removals:
        reply.notes.append(
            "Ingest keeps the stored facts listed above; \u201cReplace\u201d removes them."
        )
    return StagedUpload(reply, token, **choices)


def summary_text(summary: IngestSummary, filename: str, who: str | None = None) -> str:
    """The ingest reply: counts, what counts as new, and stored facts kept or removed."""
    novelty = summary.novelty_label
    text = (
        f"Ingested {filename}"
        + (f" (by {who})" if who else "")
        + f": added {summary.added}"
        + (f" ({novelty})" if novelty else "")
        + f", updated {summary.updated}, left {summary.unchanged} unchanged"
        + (" (this file was stored before)" if summary.already_ingested else "")
        + "."
    )
    if summary.kept:
        text += f" Kept {len(summary.kept)} stored fact(s) the file lacks: " + "; ".join(
            summary.kept
        )
        text += " (replace to remove them)."
    if summary.removed:
        text += " Removed as asked: " + "; ".join(summary.removed) + "."
    return text


def _flip(session: Session, ctx: Context, token: str, to: IntakeStatus) -> int:
    """Take the pending row, or find it taken: the first statement of the transaction, so
    a concurrent click waits on the row (PostgreSQL) or the write lock (SQLite)."""
    result = session.execute(
        update(PendingIntake)
        .where(
            PendingIntake.token == token,
            PendingIntake.status == IntakeStatus.PENDING,
            PendingIntake.created_at >= ctx.now - INTAKE_TTL,
        )
        .values(status=to, decided_by=ctx.user_id, decided_at=ctx.now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _already_decided(intake: PendingIntake | None) -> Reply:
    if intake is None:
        raise UserError("I no longer know this upload; upload the file again to preview it.")
    if intake.status == IntakeStatus.PENDING:
        return Reply(
            text=f"This preview of {intake.filename} has expired (previews are kept "
            f"{INTAKE_TTL.days} days); upload the file again. Nothing was written.",
            is_error=True,
        )
    when = intake.decided_at.strftime("%Y-%m-%d %H:%M UTC") if intake.decided_at else "earlier"
    if intake.status == IntakeStatus.CANCELLED:
        return Reply(
            text=f"{intake.outcome} ({when}); nothing was written. Upload it again to preview "
            "it anew.",
        )
    return Reply(text=f"Already done ({when}): {intake.outcome} Nothing was written again.")


@dataclass(frozen=True)
class IntakeDecision:
    reply: Reply
    decided: bool  # this request decided it; False: decided before, or expired


def decide_intake(
    factory: SessionFactory,
    ctx: Context,
    token: str,
    ingest: bool,
    novelty: Novelty = Novelty.AUTO,
    replace_facts: bool = False,
) -> IntakeDecision:
    """Ingest (admins only) or cancel (the uploader or an admin) one pending upload;
    `novelty` and `replace_facts` are the admin's explicit choices (data/novelty.py,
    losses.py)."""
    if ingest:
        require_admin(ctx, CORPUS_ACTION)
    for attempt in (1, 2):
        try:
            with unit_of_work(factory) as session:
                taken = _flip(
                    session,
                    ctx,
                    token,
                    IntakeStatus.INGESTED if ingest else IntakeStatus.CANCELLED,
                )
                intake = intake_by_token(session, token)
                if not taken or intake is None:
                    return IntakeDecision(_already_decided(intake), decided=False)
                if not ingest:
                    if intake.uploaded_by != ctx.user_id:
                        require_admin(ctx, "cancel someone else's upload")
                    intake.content = b""
                    intake.outcome = f"{intake.filename} was cancelled by {ctx.user_label}"
                    return IntakeDecision(
                        Reply(text=f"{intake.outcome}: nothing was written."), True
                    )
                try:
                    issue = parse_bytes(intake.content, intake.filename)
                except ParseError as error:  # it parsed for the preview; say so if not now
                    raise UserError(
                        f"I could not read {intake.filename} again: {error.message}"
                    ) from error
                summary = IssueWriter(session, ctx.now).write(
                    issue, intake.content_hash, novelty, replace_facts
                )
                intake.outcome = summary_text(summary, intake.filename, ctx.user_label)
                intake.content = b""  # written: the corpus holds it now
                return IntakeDecision(Reply(text=intake.outcome), decided=True)
        except IntegrityError:
            # Another writer stored the same briefs at this moment; the retry sees them.
            if attempt == 2:
                raise UserError(
                    "Another ingest kept changing the same briefs; press Ingest again. "
                    "Nothing was written."
                ) from None
    raise AssertionError("unreachable")
