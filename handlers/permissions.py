"""Who may change what: anyone searches; channel members change a channel's settings;
admins (workspace admins or POLICYBOT_ADMINS) run admin commands."""

from __future__ import annotations

from ..data.errors import UserError
from .context import Context


class PermissionDenied(UserError):
    """A polite refusal; nothing was changed."""


def require_channel_member(ctx: Context, action: str) -> None:
    if not ctx.is_channel_member():
        raise PermissionDenied(
            f"Only members of this channel can {action}, and I could not confirm that you are "
            "one (if this is a private channel, invite me with `/invite @policybot`). "
            "Nothing was changed."
        )


def require_admin(ctx: Context, action: str) -> None:
    if not ctx.is_admin():
        raise PermissionDenied(
            f"Only workspace admins (or people listed in POLICYBOT_ADMINS) can {action}. "
            "Nothing was changed."
        )
