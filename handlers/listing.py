"""`list b3 b7 g5`: named briefs (a goal names its brief), in the order given, five a page.
The "and N more" button of a capped digest runs it."""

from __future__ import annotations

from ..data.briefs import get_brief, get_brief_of_goal, parse_brief_ref, parse_goal_ref
from ..data.errors import UserError
from ..data.models import Brief
from ..data.views import brief_view
from .replies import Button, Reply
from .request import Request

PAGE_SIZE = 5
MAX_REFS = 300  # a button's value holds at most 2,000 characters


def list_briefs(request: Request) -> Reply:
    session, ctx, text, page_number = (
        request.session,
        request.context,
        request.argument,
        request.page,
    )
    words = text.replace(",", " ").split()
    if not words:
        raise UserError("Which briefs? For example `/policy list b3 b7 g5`.")
    if len(words) > MAX_REFS:
        raise UserError(f"I list at most {MAX_REFS} briefs at a time.")
    briefs: list[Brief] = []
    missing: list[str] = []
    for word in words:
        brief_id, goal_id = parse_brief_ref(word), parse_goal_ref(word)
        if brief_id is None and goal_id is None:
            raise UserError(f"`{word[:20]}` is not a brief or goal id; ids look like `b3` or `g5`.")
        brief = (
            get_brief(session, brief_id)
            if brief_id is not None
            else get_brief_of_goal(session, goal_id or 0)
        )
        if brief is None:
            missing.append(word[:20])
        elif brief not in briefs:
            briefs.append(brief)
    offset = (page_number - 1) * PAGE_SIZE
    shown = briefs[offset : offset + PAGE_SIZE]
    noun = "brief" if len(briefs) == 1 else "briefs"
    reply = Reply(text=f"{len(briefs)} {noun}", briefs=[brief_view(b, ctx.today) for b in shown])
    if missing:
        reply.notes.append(
            "Not stored (removed, or never there): " + ", ".join(f"`{m}`" for m in missing) + "."
        )
    if len(briefs) > PAGE_SIZE:
        reply.notes.append(f"Showing {offset + 1}\u2013{offset + len(shown)} of {len(briefs)}.")
    if offset + len(shown) < len(briefs):
        reply.buttons.append(Button("More", f"list {' '.join(words)} page:{page_number + 1}"))
    return reply
