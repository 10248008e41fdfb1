"""Errors every layer shares."""

from __future__ import annotations


class UserError(ValueError):
    """Input the bot cannot use; the message is shown to the user as is."""
