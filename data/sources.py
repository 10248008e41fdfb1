"""Which of a brief's links is its source: the official document, on a government's own
site, ahead of coverage (news, analysis, background reading). Shared by ingestion (links
are stored official first) and the views (briefs stored before are ranked as read)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit


def host_parts(url: str) -> list[str]:
    """The labels of the URL's host, of the archived page for web.archive.org links."""
    archived = re.search(r"/web/\d+[a-z_]*/(https?:/+.*)$", url)
    if archived:
        url = re.sub(r"^(https?:)/+", r"\1//", archived[1])
    try:
        host = urlsplit(url if "//" in url else "http://" + url).hostname or ""
    except ValueError:
        return []
    return [p for p in host.lower().split(".") if p not in ("www", "english", "en", "m")]


# Official government sites, as a family of domains rather than a list of sites: China's
# gov.cn and every ministry under it (miit.gov.cn, ndrc.gov.cn ...), the US .gov, other
# governments' gov.xx / gouv.xx / gob.xx / go.xx / govt.xx / gv.xx under their country's
# two-letter domain (gov.uk, gouv.fr, go.jp), and the EU's europa.eu; a few governments
# whose own second-level domain says so (admin.ch, bund.de, gc.ca, canada.ca).
_GOVERNMENT_SECOND_LEVEL = frozenset({"gov", "gouv", "gob", "go", "govt", "gv", "gub", "gc"})
_GOVERNMENT_DOMAINS = frozenset({"europa.eu", "admin.ch", "bund.de", "canada.ca"})


def is_official(url: str) -> bool:
    """Whether the URL is on a government's own site (an archived copy of one counts)."""
    parts = host_parts(url)
    if len(parts) < 2:
        return False
    if parts[-1] == "gov" or ".".join(parts[-2:]) in _GOVERNMENT_DOMAINS:
        return True
    return len(parts[-1]) == 2 and parts[-2] in _GOVERNMENT_SECOND_LEVEL


def official_first(links: Sequence[str]) -> list[str]:
    """The links with the official texts first (the brief's Source), then the coverage,
    each in the tracker's order."""
    official = [link for link in links if is_official(link)]
    return official + [link for link in links if not is_official(link)]
