"""`/policy source add|pause|resume|remove` and `/policy sources`: the feeds, document
lists and PDFs a workspace's admins asked policybot to watch. What they bring becomes
briefs in the shared corpus (scheduler/polling.py); digests deliver them like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..data.errors import UserError
from ..data.models import WatchedSource
from ..data.watch import store
from .context import Context
from .permissions import require_admin
from .replies import Button, Reply, Section
from .request import Request

WATCH_ACTION = "change the sources policybot watches"


@dataclass(frozen=True)
class SourceView:
    """One source as `/policy sources` and App Home show it."""

    ref: str
    url: str
    label: str
    kind: str
    schedule: str
    paused: bool
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    items_found: int
    items_read: int
    items_waiting: int
    items_failed: int
    next_poll: datetime | None

    @property
    def name(self) -> str:
        return self.label or self.url

    def status_line(self) -> str:
        """When it last worked, what it found, when it is polled next."""
        parts = [
            f"last success {_when(self.last_success)}" if self.last_success else "not read yet",
            f"{self.items_found} item{'' if self.items_found == 1 else 's'} found"
            + (f" ({self.items_waiting} waiting)" if self.items_waiting else "")
            + (f" ({self.items_failed} unreadable)" if self.items_failed else ""),
            "paused" if self.paused else f"next poll {_when(self.next_poll)}",
        ]
        return " \u00b7 ".join(parts)

    def error_line(self) -> str | None:
        if not self.last_error:
            return None
        if self.failures:
            streak = f"{self.failures} failure{'s' if self.failures > 1 else ''} in a row"
            return (
                f"last error {_when(self.last_error_at)}: {self.last_error} ({streak}; backing off)"
            )
        return f"last error {_when(self.last_error_at)}: {self.last_error} (it worked since)"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def _kind(kind: str) -> str:
    return {
        "auto": "kind found at the first poll",
        "feed": "feed",
        "page": "document list",
        "pdf": "PDF",
        "document": "document",
    }.get(kind, kind)


def source_views(session: Session, team_id: str) -> list[SourceView]:
    sources = store.team_sources(session, team_id)
    counts = store.item_counts(session, [s.id for s in sources])
    views = []
    for source in sources:
        items = counts.get(source.id, store.ItemCounts())
        views.append(
            SourceView(
                ref=source.ref,
                url=source.url,
                label=source.label,
                kind=_kind(source.kind),
                schedule=store.schedule_label(source),
                paused=source.paused_at is not None,
                last_success=source.last_success_at,
                last_error=source.last_error,
                last_error_at=source.last_error_at,
                failures=source.failures,
                items_found=source.items_found,
                items_read=items.taken,
                items_waiting=items.pending,
                items_failed=items.failed,
                next_poll=None if source.paused_at else source.next_poll_at,
            )
        )
    return views


def add(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    require_admin(ctx, WATCH_ACTION)
    wanted = store.parse_source_request(text)
    source = store.add_source(session, ctx.team_id, ctx.user_id, wanted, ctx.now)
    name = f"{source.label} ({source.url})" if source.label else source.url
    return Reply(
        text=f"Watching {name} as {source.ref}, {store.schedule_label(source)}; the first poll "
        "runs within a minute.",
        notes=[
            "Each document it lists becomes a brief in the shared corpus, read as an upload "
            "is; digests post those new by their date. `/policy sources` shows how it goes."
        ],
    )


def sources(request: Request) -> Reply:
    session, ctx = request.session, request.context
    views = source_views(session, ctx.team_id)
    if not views:
        return Reply(
            text="This workspace watches no sources.",
            notes=[
                "An admin adds one with `/policy source add URL [every 6h] [label]`: an RSS or "
                "Atom feed, a page that lists documents (a ministry's notices), or a PDF."
            ],
        )
    sections = []
    for view in views:
        lines: list[str] = [f"{view.url} ({view.kind}, {view.schedule})", view.status_line()]
        if error := view.error_line():
            lines.append(error)
        title = f"{view.ref} {view.label}" if view.label else view.ref
        sections.append(Section(title + (" [paused]" if view.paused else ""), tuple(lines)))
    count = len(views)
    return Reply(
        text=f"This workspace watches {count} source{'s' if count > 1 else ''}.",
        sections=sections,
        notes=["`/policy source pause|resume|remove <id>` (admins) changes one."],
    )


def _change(session: Session, ctx: Context, text: str) -> WatchedSource:
    require_admin(ctx, WATCH_ACTION)
    if not text.strip():
        raise UserError(
            "Name the source: `/policy source pause w2` (`/policy sources` lists them)."
        )
    return store.source_by_ref(session, ctx.team_id, text.split()[0])


def pause(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    source = _change(session, ctx, text)
    if source.paused_at is not None:
        return Reply(text=f"{source.ref} is paused already.")
    store.set_paused(source, True, ctx.now)
    return Reply(
        text=f"Paused {source.ref} ({source.label or source.url}): it is not polled until resumed.",
        buttons=[Button("Resume", f"source resume {source.ref}")],
    )


def resume(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    source = _change(session, ctx, text)
    if source.paused_at is None:
        return Reply(text=f"{source.ref} is not paused.")
    store.set_paused(source, False, ctx.now)
    return Reply(text=f"Resumed {source.ref}; it is polled within a minute.")


def remove(request: Request) -> Reply:
    session, ctx, text = request.session, request.context, request.argument
    source = _change(session, ctx, text)
    ref, name = source.ref, source.label or source.url
    store.remove_source(session, source)
    return Reply(text=f"Stopped watching {ref} ({name}). The briefs it brought stay in the corpus.")
