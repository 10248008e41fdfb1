"""What a command answers: plain values that the Block Kit and text renderers both draw."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..data.views import BriefView, DeadlineView


class Visibility(StrEnum):
    EPHEMERAL = "ephemeral"
    IN_CHANNEL = "in_channel"


@dataclass(frozen=True)
class Button:
    label: str
    command: str  # the command text to run when pressed, e.g. "show b12"
    primary: bool = False
    replaces: bool = False  # the answer replaces the message holding the button


@dataclass(frozen=True)
class Person:
    """Someone a reply names (who wrote a note, who answered): a typed value, so Slack shows
    a mention and the console a name or the id; never pre-formatted for one of them."""

    user_id: str
    name: str = ""  # a display name when the handler knows it (the asker's)

    def plain(self) -> str:
        return self.name or self.user_id


@dataclass(frozen=True)
class Line:
    """A line of text with people in it: plain strings (user-typed or stored, escaped by
    each renderer) and Person values (drawn by each renderer in its own way)."""

    parts: tuple[str | Person, ...]

    def plain(self) -> str:
        return "".join(p.plain() if isinstance(p, Person) else p for p in self.parts)


@dataclass(frozen=True)
class Section:
    """A titled list of lines (e.g. one brief's goals in the scorecard)."""

    title: str
    lines: tuple[str | Line, ...]


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    summary: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class FileAttachment:
    """A file that goes with a reply (a calendar, a spreadsheet): Slack uploads it to the
    channel, the console saves it."""

    filename: str
    content: bytes
    title: str
    mime: str
    alt_text: str = ""  # what a picture shows, in words (Slack reads it to screen readers)


@dataclass
class Reply:
    """One answer. `text` is the headline (and Slack's notification fallback)."""

    text: str
    briefs: list[BriefView] = field(default_factory=list)
    detail: BriefView | None = None  # one brief in full (`show`)
    deadlines: list[DeadlineView] = field(default_factory=list)
    help: list[HelpEntry] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # context: paging, did-you-mean, adjustments
    footer: list[str] = field(default_factory=list)  # closing context: where a message came from
    buttons: list[Button] = field(default_factory=list)
    visibility: Visibility = Visibility.EPHEMERAL
    is_error: bool = False
    error_field: str | None = None  # a form's field the error is about (e.g. "tz")
    attachment: FileAttachment | None = None
