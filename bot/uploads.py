"""Files that go with a reply (calendar exports, charts) are uploaded to the asker's channel;
a picture goes with its alt text."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ..handlers.replies import Reply
from .blocks import escape

log = logging.getLogger(__name__)

UPLOAD_SORRY = "Sorry, I couldn't upload {filename}; please try again."
UPLOAD_FAILURES = {
    "not_in_channel": "I can't post files in this channel because I'm not in it: invite me "
    "(`/invite @policybot`) and try again.",
    "channel_not_found": "I can't post files here (private channels and direct messages need "
    "me invited first): invite me, or ask in a channel I'm in.",
}


def upload_attachment(client: WebClient, reply: Reply, channel_id: str, respond: Respond) -> bool:
    """Upload the reply's file with `files_upload_v2`; a failure is told to the asker (not
    raised: this runs after the ack, in the background). True when the file was posted."""
    file = reply.attachment
    if file is None:
        return False
    try:
        client.files_upload_v2(
            channel=channel_id,
            content=file.content,
            filename=file.filename,
            title=file.title,
            alt_txt=file.alt_text or None,
            initial_comment=escape(reply.text),  # never live mentions from user text
        )
        return True
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        log.warning("file upload to a channel failed: %s", code)
        text = UPLOAD_FAILURES.get(code, UPLOAD_SORRY.format(filename=file.filename))
    except Exception:
        log.exception("file upload failed")
        text = UPLOAD_SORRY.format(filename=file.filename)
    respond(text=text, response_type="ephemeral", replace_original=False)
    return False
