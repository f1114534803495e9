"""What the domain is given by a composition root (`app.main`, `app.cli`, `workers.actors`):
settings, database sessions, and the side effects it fires after a transaction commits.

The domain never imports the broker or the event bus. A command that must wake a worker or
tell subscribers takes the `Runtime` and owns its transaction, so that no caller (a resolver,
the sweeper, a worker, the CLI) can commit a change and forget to announce it. Tests give it
in-memory effects and read back what was fired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db.engine import make_async_sessions, make_sync_sessions
from app.domain.auth import PrincipalCache


@dataclass(frozen=True)
class JobEvent:
    """ "Object X changed": subscribers re-read its row, which is the truth. `status` is the
    new state, or DELETED for one that no longer exists. `kind` says what X is: an export
    job, an import job, or a collection subscription (whose spans changed, or its status)."""

    job_id: str
    workspace_id: str
    status: str
    kind: str = "export"  # or "import", "collection"


def _nothing(_value: object) -> None:
    return None


@dataclass(frozen=True)
class Effects:
    """Fired only after the change they announce has committed. Both may be called from any
    thread; a lost call only delays things (the sweeper re-wakes jobs, subscribers re-read)."""

    wake_export: Callable[[str], None]
    wake_import: Callable[[str], None]
    publish: Callable[[JobEvent], None]
    # A notification delivery is due (webhook or email); the sweeper-like pass re-wakes it too.
    wake_delivery: Callable[[str], None] = _nothing


# For commands run where nobody listens and no worker waits (the CLI's ingest and demo data).
NO_EFFECTS = Effects(wake_export=_nothing, wake_import=_nothing, publish=_nothing)


@dataclass
class Runtime:
    settings: Settings
    effects: Effects
    sessions: async_sessionmaker[AsyncSession] = field(repr=False)
    sync_sessions: sessionmaker[Session] = field(repr=False)
    # The callers of keys the gateway authenticated a moment ago (HTTP requests).
    principals: PrincipalCache = field(default_factory=PrincipalCache, repr=False)

    @classmethod
    def create(cls, settings: Settings, effects: Effects) -> Runtime:
        """Engines connect lazily: a process that only uses one kind of session never opens
        a connection of the other kind."""
        return cls(
            settings,
            effects,
            make_async_sessions(settings),
            make_sync_sessions(settings),
            PrincipalCache(settings.auth_cache_seconds),
        )

    async def dispose(self) -> None:
        await self.sessions.kw["bind"].dispose()
        self.sync_sessions.kw["bind"].dispose()
