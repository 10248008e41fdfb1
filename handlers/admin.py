"""Admin commands: corpus removal, in two steps: `forget b12` shows what would go and asks;
`forget b12 confirm` (the confirmation button) removes it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..data.briefs import get_brief, parse_brief_ref, undelivered_of_brief
from ..data.errors import UserError
from ..data.models import Brief
from ..data.search.engines import engine_for
from ..data.views import deadline_label
from .permissions import require_admin
from .replies import Button, Reply, Section
from .request import Request

CONFIRM = "confirm"
SHOWN_GOALS = 20


def _preview(session: Session, brief: Brief) -> Reply:
    goals = tuple(
        f"{g.ref} ({deadline_label(g.due_on, g.precision, g.window_start)}): {g.text}"
        for g in brief.goals[:SHOWN_GOALS]
    )
    if len(brief.goals) > SHOWN_GOALS:
        goals += (f"\u2026and {len(brief.goals) - SHOWN_GOALS} more goals",)
    pending = undelivered_of_brief(session, brief.id)
    noun = "alert or digest item" if pending == 1 else "alerts and digest items"
    sections = [Section(f"{len(brief.goals)} goals", goals)] if goals else []
    return Reply(
        text=f"Forget {brief.ref} ({brief.title})? It is removed for every workspace.",
        sections=[
            *sections,
            Section("Pending deliveries", (f"{pending} {noun} not sent yet would be dropped.",)),
        ],
        notes=["Nothing is removed until you confirm."],
        buttons=[
            Button(f"Yes, forget {brief.ref}", f"forget {brief.ref} {CONFIRM}", replaces=True),
            Button("Keep it", f"show {brief.ref}", primary=True, replaces=True),
        ],
    )


def forget(request: Request) -> Reply:
    """Remove a brief from the shared corpus (for every workspace), once confirmed."""
    session, ctx, text = request.session, request.context, request.argument
    require_admin(ctx, "remove briefs from the corpus")
    words = text.split()
    brief_id = parse_brief_ref(words[0]) if words else None
    if brief_id is None or len(words) > 2 or (len(words) == 2 and words[1].lower() != CONFIRM):
        raise UserError("Which brief? `/policy forget b12` removes brief b12 for everyone.")
    brief = get_brief(session, brief_id)
    if brief is None:
        raise UserError(f"There is no brief `b{brief_id}`.")
    if len(words) == 1:
        return _preview(session, brief)
    title = brief.title
    engine_for(session).remove(session, [brief.id])
    session.delete(brief)
    session.flush()
    return Reply(
        text=f"Removed b{brief_id} ({title}) from the corpus, with its goals and pending alerts."
    )
