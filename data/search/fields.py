"""What a brief gives each indexed field: titles, issuing bodies (and the source label), text
(summary and goals), comment (with its author). Ingestion, the live index and the backfill
all build a brief's fields here, so they can never disagree."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import Brief, IssuingBody
from .documents import IndexedFields


def indexed_fields(brief: Brief) -> IndexedFields:
    return fields_of(
        brief.title,
        brief.title_original,
        brief.bodies,
        brief.source_label,
        brief.summary,
        [g.text for g in brief.goals],
        brief.comment_author,
        brief.comment,
    )


def fields_of(
    title: str,
    title_original: str | None,
    bodies: Iterable[IssuingBody],
    source_label: str | None,
    summary: str,
    goals: Iterable[str],
    comment_author: str | None,
    comment: str,
) -> IndexedFields:
    # The comment's author is searchable with it: `/policy MERICS` finds its comments.
    author = f"{comment_author} " if comment_author else ""
    return IndexedFields(
        title=f"{title} {title_original or ''}",
        bodies=" ".join(f"{b.abbreviation} {b.full_name}" for b in bodies)
        + f" {source_label or ''}",
        text=" ".join([summary, *goals]),
        comment=author + comment,
    )
