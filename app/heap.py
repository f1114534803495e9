"""What a long-lived process makes as it starts (modules, the schema, pools) lives until it
exits; the garbage collector's full passes need not walk it every time."""

from __future__ import annotations

import gc

_THRESHOLDS = gc.get_threshold()
# Full passes a tenth as often as by default (see freeze_startup_objects).
_FROZEN_THRESHOLDS = (_THRESHOLDS[0], _THRESHOLDS[1], _THRESHOLDS[2] * 10)


def freeze_startup_objects() -> None:
    """Collect start-up's garbage, then move what is left out of the collector's sight: a
    full collection then walks only what was made since, not the ~200k objects of start-up
    (in a gateway some 50-80 ms with the event loop stopped, every request in the queue
    waiting; in a worker, time taken from the export it runs)."""
    gc.collect()
    gc.freeze()
    # Frozen objects no longer count as long-lived, and the collector's brake on full passes
    # (none while the objects new to the oldest generation are under a quarter of those it
    # holds) stops braking: a full pass would follow every tenth middle one, walking every
    # connection's and subscription's objects (1,000 subscribers: fan-out p99 ~200 -> ~400
    # ms). Ten times fewer full passes puts the brake back.
    gc.set_threshold(*_FROZEN_THRESHOLDS)


def thaw_startup_objects() -> None:
    """What `freeze_startup_objects` did, undone: for a process that outlives what it
    served (the tests start and stop many gateways)."""
    gc.unfreeze()
    gc.set_threshold(*_THRESHOLDS)
