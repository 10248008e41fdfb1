"""One command as its handler gets it (`def handler(request: Request) -> Reply`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .context import Context


@dataclass(frozen=True)
class Request:
    # The command's transaction, opened and ended by the runner (data.db.unit_of_work):
    # a handler never commits, and what it wrote is rolled back when it raises.
    session: Session
    context: Context  # who asks, where, and when
    argument: str = ""  # the words after the command's name (`storage` in `deadlines storage`)
    page: int = 1  # `page:N`, or the console's `more`
