"""Tracker newsletters that arrive by email. Slack gives each channel an email address
(channel details > Integrations > Send emails to this channel); an email sent there is
posted by Slackbot as a file of filetype "email" whose files.info carries the message's
text (`plain_text`, else `preview_plain_text`) and subject, and each attachment of the
email arrives as a file of its own in the same message. So in an intake channel the
newsletter's text is previewed and ingested as an uploaded .txt is, and a PDF attachment
as an uploaded PDF is (bot/intake.py), with the same Ingest / Cancel buttons.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL_FILETYPE = "email"
SLACKBOT = "USLACKBOT"  # who posts a forwarded email
_UNSAFE_NAME = re.compile(r"[^\w\s.()\-\u3000-\u9fff]+")


def is_email(info: dict[str, Any]) -> bool:
    return str(info.get("filetype") or "") == EMAIL_FILETYPE or info.get("mode") == "email"


def email_name(info: dict[str, Any]) -> str:
    """The email as a file name: its subject, as the preview and the corpus name it."""
    subject = " ".join(_UNSAFE_NAME.sub(" ", str(info.get("subject") or "")).split())
    return f"{(subject or 'email')[:120]}.txt"


def email_text(info: dict[str, Any], max_bytes: int) -> tuple[bytes | None, str | None]:
    """(the email's text as UTF-8, None), or (None, why it is not read)."""
    name = email_name(info)
    found = info.get("plain_text") or info.get("preview_plain_text") or ""
    # Only a string is the email's text: anything else (a list, an object) read as its
    # Python repr would be ingested as nonsense.
    text = found.strip() if isinstance(found, str) else ""
    if not text:
        return None, f"The email {name[:-4]!r} has no text I can read. Nothing was added."
    raw = text.encode("utf-8")
    if len(raw) > max_bytes:
        return None, f"The email {name[:-4]!r} is too long to be a newsletter. Nothing was added."
    return raw, None
