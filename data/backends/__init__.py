"""What SQLite and PostgreSQL do differently, behind one small interface.

Everything above this package asks `backend_for(session)` instead of testing the dialect's
name: one module per engine says how it inserts-or-ignores, locks rows for a claim, and
elects a leader. (Migrations keep their own dialect tests: they describe the schema of one
engine at one point in history.)
"""

from __future__ import annotations

from policybot.data.backends.base import Backend, Bind, backend_for

__all__ = ["Backend", "Bind", "backend_for"]
