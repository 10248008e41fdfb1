"""The kill points' switch: unarmed it changes nothing; a bad setting is refused loudly."""

from __future__ import annotations

import pytest

from policybot.scheduler import faults
from policybot.scheduler.ticker import Ticker
from tests.scheduler.conftest import RecordingPoster


def test_unarmed_the_ticker_posts_through_its_own_poster() -> None:
    assert faults.ARMED is None  # the test process arms nothing
    poster = RecordingPoster()
    assert Ticker(lambda: None, poster).poster is poster  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "armed"),
    [("", None), ("after_post", ("after_post", 1)), ("after_mark:3", ("after_mark", 3))],
)
def test_a_point_is_named_with_an_optional_count(spec: str, armed: tuple[str, int] | None) -> None:
    assert faults._armed(spec) == armed


@pytest.mark.parametrize("spec", ["after_lunch", "after_post:0", "after_post:x"])
def test_an_unknown_point_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="POLICYBOT_KILL_AT"):
        faults._armed(spec)
