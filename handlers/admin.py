"""Admin commands: corpus removal."""

from __future__ import annotations

from sqlalchemy.orm import Session

from policybot.data import store
from policybot.data.search.engines import engine_for
from policybot.handlers.context import Context
from policybot.data.errors import UserError
from policybot.handlers.permissions import require_admin
from policybot.handlers.replies import Reply


def forget(session: Session, ctx: Context, text: str, _page: int) -> Reply:
    """Remove a brief from the shared corpus (for every workspace)."""
    require_admin(ctx, "remove briefs from the corpus")
    brief_id = store.parse_brief_ref(text)
    if brief_id is None:
        raise UserError("Which brief? `/policy forget b12` removes brief b12 for everyone.")
    brief = store.get_brief(session, brief_id)
    if brief is None:
        raise UserError(f"There is no brief `b{brief_id}`.")
    title = brief.title
    engine_for(session).remove(session, [brief.id])
    session.delete(brief)
    session.flush()
    return Reply(
        text=f"Removed b{brief_id} ({title}) from the corpus, with its goals and pending alerts."
    )
