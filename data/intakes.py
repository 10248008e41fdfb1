"""Uploaded tracker issues waiting for an admin's decision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import PendingIntake


def intake_of_file(session: Session, team_id: str, file_id: str) -> PendingIntake | None:
    """The workspace's intake of this Slack file (one per file: a replayed event finds it)."""
    return session.scalar(
        select(PendingIntake).where(
            PendingIntake.team_id == team_id, PendingIntake.file_id == file_id
        )
    )


def intake_by_token(session: Session, token: str) -> PendingIntake | None:
    return session.scalar(select(PendingIntake).where(PendingIntake.token == token))
