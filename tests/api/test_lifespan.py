"""What a serving gateway does to its process: what start-up made is kept out of the garbage
collector's full passes while it serves (they would stop the event loop for tens of
milliseconds), and given back when it stops."""

from __future__ import annotations

import gc

from app.config import Settings
from tests.helpers.inprocess import Seed, running_app


async def test_start_up_objects_are_frozen_while_serving(settings: Settings, seed: Seed) -> None:
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    async with running_app(settings, seed.keys) as api:
        assert gc.get_freeze_count() > 10_000  # the modules, the schema, the pools
        # full passes kept rare: frozen objects no longer hold them back
        assert gc.get_threshold()[2] == thresholds[2] * 10
        assert (await api.http.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
