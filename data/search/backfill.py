"""A one-time step: search documents for briefs that have none of the current analysis.

Briefs stored before search documents existed (migration 0007), or analysed by an older
version of data/search/analysis.py, would otherwise be analysed from the brief by every
process at every index build. `policybot db upgrade` writes their documents once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Brief, SearchDocument
from .analysis import ANALYSIS_VERSION
from .engines import engine_for

BATCH = 500


def briefs_without_documents(session: Session) -> list[int]:
    current = select(SearchDocument.brief_id).where(
        SearchDocument.analysis == ANALYSIS_VERSION, SearchDocument.deleted.is_(False)
    )
    return list(
        session.scalars(select(Brief.id).where(Brief.id.not_in(current)).order_by(Brief.id))
    )


def write_missing_documents(session: Session) -> int:
    """Write the documents of every brief without a current one; how many were written.
    Idempotent: a second run finds none."""
    from .fields import indexed_fields

    ids = briefs_without_documents(session)
    engine = engine_for(session)
    for start in range(0, len(ids), BATCH):
        briefs = session.scalars(select(Brief).where(Brief.id.in_(ids[start : start + BATCH])))
        engine.index(session, [(brief.id, indexed_fields(brief)) for brief in briefs])
    return len(ids)
