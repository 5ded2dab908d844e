"""Fixtures of the server tests."""

from __future__ import annotations

import pytest

from tests.server.organiser_helpers import Played, play


@pytest.fixture
def played(app, client, demo) -> Played:
    """The demo rally with three teams in play (see organiser_helpers.play)."""
    slug, rally_id = demo
    return play(app, client, slug, rally_id)
