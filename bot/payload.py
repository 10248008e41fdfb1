"""Typed reads of a Slack payload for the listeners. The edge has checked what Bolt itself
indexes into; these read the rest (a form's metadata, a button's value, an event's links)
without trusting its shape: a part of the wrong type reads as empty, never as an exception."""

from __future__ import annotations

import json
from typing import Any


def text(value: Any) -> str:
    """A string field; anything else (a number, a list, an object, missing) is ''."""
    return value if isinstance(value, str) else ""


def obj(value: Any) -> dict[str, Any]:
    """An object field; anything else is {}."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list field; a field that is not a list, and items that are not
    objects, are left out."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def metadata(view: Any) -> dict[str, Any]:
    """A form's private_metadata (JSON we wrote when opening it); {} when it is missing, not
    JSON, or not an object."""
    raw = obj(view).get("private_metadata")
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return obj(found)
