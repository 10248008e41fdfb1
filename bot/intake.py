"""Tracker files uploaded to the bot (a DM, or a channel in POLICYBOT_INTAKE_CHANNELS): the
file is described with `files.info`, refused there if it is too large or not a tracker,
else fetched from its `url_private` with the bot token (as Slack documents), previewed with
Ingest / Cancel buttons and kept pending (handlers/intake.py) until someone decides.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from ..handlers.intake import StagedUpload
from . import emails
from .blocks import escape, render_blocks

log = logging.getLogger(__name__)

ACTION_INGEST = "intake_ingest"
ACTION_CANCEL = "intake_cancel"
# The admin's explicit choices (data/novelty.py, data/ingest/losses.py): the file's
# briefs as new (or as archive) whatever its date says; an update's removals applied.
ACTION_INGEST_NEW = "intake_ingest_new"
ACTION_INGEST_ARCHIVE = "intake_ingest_archive"
ACTION_REPLACE = "intake_replace"
DOWNLOAD_TIMEOUT = 30  # seconds
# What a tracker issue arrives as: a PDF, or text extracted from one.
TRACKER_FILETYPES = frozenset({"pdf", "text", "markdown"})
TRACKER_MIMETYPES = frozenset({"application/pdf", "text/plain", "text/markdown"})
TRACKER_SUFFIXES = (".pdf", ".txt", ".text", ".md")
SLACK_FILE_HOST = "files.slack.com"


class DownloadError(Exception):
    """The file could not be fetched; the message is for the uploader."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def refusal(info: dict[str, Any], max_bytes: int) -> str | None:
    """Why a file described by files.info is not fetched, or None to fetch it."""
    name = str(info.get("name") or "this file")
    if (
        str(info.get("filetype") or "") not in TRACKER_FILETYPES
        and str(info.get("mimetype") or "") not in TRACKER_MIMETYPES
        and not name.lower().endswith(TRACKER_SUFFIXES)
    ):
        kind = str(info.get("pretty_type") or info.get("filetype") or "file").upper()
        return (
            f"{name} is a {kind}, not a tracker issue: I read tracker newsletters as PDF or "
            "text files (.pdf, .txt). Nothing was added."
        )
    size = int(info.get("size") or 0)
    if size > max_bytes:
        return (
            f"{name} is {_megabytes(size)}; I take tracker files up to {_megabytes(max_bytes)} "
            "(a tracker issue is far smaller). Nothing was added."
        )
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the bot token to wherever it points: refuse it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def trusted_url(url: str, api_url: str) -> bool:
    """The token goes only to Slack's file host, or to the Slack API host we are set to
    use (a local fake in tests, an enterprise proxy)."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if parts.scheme == "https" and parts.hostname == SLACK_FILE_HOST:
        return True
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


def download(url: str, token: str, max_bytes: int, api_url: str) -> bytes:
    """The file's bytes, read up to the limit (files.info's size may be stale)."""
    if not trusted_url(url, api_url):
        raise DownloadError("the file's address is not on Slack's file server")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=DOWNLOAD_TIMEOUT) as response:
            if "text/html" in (response.headers.get("Content-Type") or ""):
                # Slack answers a download it does not authorise with its sign-in page.
                raise DownloadError("Slack did not let me read it (does the app have files:read?)")
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.URLError as error:
        raise DownloadError(f"Slack's file server did not answer ({error.reason})") from error
    except TimeoutError as error:
        raise DownloadError("Slack's file server did not answer in time") from error
    if len(data) > max_bytes:
        raise DownloadError(f"it is larger than {_megabytes(max_bytes)}")
    return data


def preview_message(staged: StagedUpload) -> dict[str, Any]:
    """The preview, with Ingest / Cancel when there is something to decide."""
    message = render_blocks(staged.reply)
    message.pop("response_type", None)
    if staged.token:
        token = staged.token
        elements = [
            ButtonElement(text="Ingest", action_id=ACTION_INGEST, value=token, style="primary")
        ]
        if staged.archive:
            elements.append(
                ButtonElement(text="Ingest as new", action_id=ACTION_INGEST_NEW, value=token)
            )
        else:
            elements.append(
                ButtonElement(
                    text="Ingest as archive", action_id=ACTION_INGEST_ARCHIVE, value=token
                )
            )
        if staged.removals:
            elements.append(
                ButtonElement(text="Replace", action_id=ACTION_REPLACE, value=token, style="danger")
            )
        elements.append(ButtonElement(text="Cancel", action_id=ACTION_CANCEL, value=token))
        message["blocks"].append(ActionsBlock(block_id="intake", elements=elements).to_dict())
    return message


def share_ts(info: dict[str, Any], channel: str) -> str | None:
    """The ts of the message that shared the file in `channel`, to answer in its thread."""
    for scope in ("public", "private"):
        shares = ((info.get("shares") or {}).get(scope) or {}).get(channel) or []
        if shares and shares[0].get("ts"):
            return str(shares[0]["ts"])
    return None


def tell(client: WebClient, channel: str, user: str, text: str, thread: str | None) -> None:
    """A refusal: in a DM a message; in a channel only the uploader sees it (an email's
    poster is Slackbot, who reads no ephemeral: the channel's thread then)."""
    if channel.startswith("D"):
        client.chat_postMessage(channel=channel, text=escape(text))
    elif user == emails.SLACKBOT:
        client.chat_postMessage(channel=channel, text=escape(text), thread_ts=thread)
    else:
        client.chat_postEphemeral(channel=channel, user=user, text=escape(text), thread_ts=thread)
