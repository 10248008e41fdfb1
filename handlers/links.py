"""Which stored briefs a posted URL is the source link of (for link unfurls)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ..data.briefs import briefs_linking_like
from ..data.views import BriefView, brief_view

MAX_LINKS = 10  # a message's links looked up at most


def _same_link(a: str, b: str) -> bool:
    """http/https and a trailing slash do not make a different page."""

    def plain(url: str) -> str:
        return url.strip().split("://", 1)[-1].rstrip("/").lower()

    return plain(a) == plain(b)


def briefs_for_links(session: Session, urls: list[str], today: date) -> dict[str, BriefView]:
    """URL -> the newest brief that lists it among its links (URLs no brief has are left out)."""
    found: dict[str, BriefView] = {}
    for url in urls[:MAX_LINKS]:
        core = url.strip().split("://", 1)[-1].rstrip("/")
        if len(core) < 8:
            continue
        # The links column is JSON text: a LIKE narrows the rows, the exact test decides.
        candidates = briefs_linking_like(session, core, limit=20)
        for brief in candidates:
            if any(_same_link(url, link) for link in brief.links):
                found[url] = brief_view(brief, today)
                break
    return found
