"""The metadata schema. Times are int64 nanoseconds since the epoch (UTC), exact everywhere."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from engine.timestamps import now_ns

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Per-key rate limits of this workspace's keys; null: the gateway's defaults.
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    query_cost_per_minute: Mapped[int | None] = mapped_column(Integer)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(16), server_default="ADMIN")  # VIEWER MEMBER ADMIN
    token_prefix: Mapped[str | None] = mapped_column(String(16))  # shown to tell keys apart
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)


class ExchangeRow(Base):
    __tablename__ = "exchanges"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("exchange_code", "symbol", "type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    exchange_code: Mapped[str] = mapped_column(ForeignKey("exchanges.code"))
    symbol: Mapped[str] = mapped_column(String(64))
    base: Mapped[str] = mapped_column(String(32))
    quote: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    # Delisted: kept (its datastreams and their data stay), hidden from listings by default.
    archived: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)


class DatastreamRow(Base):
    __tablename__ = "datastreams"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    exchange_code: Mapped[str] = mapped_column(ForeignKey("exchanges.code"), index=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"), index=True)
    stream_type: Mapped[str] = mapped_column(String(32))
    wire_format: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str | None] = mapped_column(Text)  # where it comes from: a URL or topic


class SegmentRow(Base):
    """An immutable Parquet file of one datastream's records, sorted by timestamp."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_stream_time", "datastream_id", "min_ts", "max_ts"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"))
    path: Mapped[str] = mapped_column(Text)
    min_ts: Mapped[int] = mapped_column(BigInteger)
    max_ts: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Replaced by a compacted segment: no new export reads it; its file goes after a grace.
    retired_at: Mapped[int | None] = mapped_column(BigInteger)
    # Set by `fsck --repair` when the file is missing or differs: for an operator to decide.
    broken_reason: Mapped[str | None] = mapped_column(Text)


class IngestedFileRow(Base):
    """A file whose records were stored, by content hash: ingesting it again is a no-op
    (unless forced, which adds another row)."""

    __tablename__ = "ingested_files"
    __table_args__ = (Index("ix_ingested_files_stream_hash", "datastream_id", "sha256"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class ExportJobRow(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_export_jobs_ws_status", "workspace_id", "status"),
        Index("ix_export_jobs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_export_jobs_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_export_jobs_ws_updated", "workspace_id", "updated_at"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"), index=True)
    # Every datastream of a many-stream export, in the request's order (the first is also
    # datastream_id); null for an export of one datastream.
    datastream_ids: Mapped[list[int] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    schema_name: Mapped[str] = mapped_column(String(200))
    schema_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sch_ id and version of a custom schema, when the job used one (builtin/inline: null).
    schema_id: Mapped[str | None] = mapped_column(String(40))
    schema_version: Mapped[int | None] = mapped_column(Integer)
    # Resolved export options (format options, columns, limit, filter, decimation, split).
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When a succeeded job's files stop being kept (retention); then the job shows EXPIRED.
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(16))
    compression: Mapped[str] = mapped_column(String(16))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int | None] = mapped_column(BigInteger)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)  # output rows
    bytes_written: Mapped[int] = mapped_column(BigInteger, default=0)  # compressed, as written
    # Input records (messages) in range, from the segment catalog at creation. The column
    # keeps its first name (`estimatedRows` is the API's deprecated alias of recordsTotal).
    records_total: Mapped[int] = mapped_column("estimated_rows", BigInteger, default=0)
    # Input records the current attempt has read (the sum of the parts' for a job in parts).
    records_read: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    # records_read / records_total, never decreasing (not even when an attempt starts over),
    # below 1 while running and exactly 1 once SUCCEEDED.
    fraction: Mapped[float] = mapped_column(Float, server_default="0", default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    # host:pid of the worker process that holds the claim, for operators (and failover tests).
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # On a failure, publish what was written as partial artifacts instead of removing it.
    keep_partial: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Bumped by every UPDATE of the row, whoever makes it (`onupdate` applies to every UPDATE
    # statement SQLAlchemy compiles, ORM or Core): what a subscriber compares to know whether
    # it has seen a job's latest state.
    revision: Mapped[int] = mapped_column(
        BigInteger, server_default="0", default=0, onupdate=literal_column("revision") + 1
    )
    # When the row last changed (the writer's clock): the cursor `since` replays from.
    updated_at: Mapped[int] = mapped_column(BigInteger, default=now_ns, onupdate=now_ns)


class ExportPartRow(Base):
    """A part of an export split by period or per datastream, run by any worker in parallel
    with the others. Claimed like a job (status, claim_token, heartbeat_at, attempts); its
    finished files wait in `files` until the last part publishes the job."""

    __tablename__ = "export_parts"
    __table_args__ = (
        UniqueConstraint("job_id", "seq"),
        Index("ix_export_parts_status_heartbeat", "status", "heartbeat_at"),
    )
    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # <job id>:<seq>
    job_id: Mapped[str] = mapped_column(ForeignKey("export_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # the order its files come in the manifest
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    # The index of the datastream (in the job's order) of a part split per datastream.
    stream_index: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int | None] = mapped_column(BigInteger)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_written: Mapped[int] = mapped_column(BigInteger, default=0)
    records_read: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # A SUCCEEDED part's published files, in order (name, path, size, rows, sha256, times).
    files: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class ExportJobTombstoneRow(Base):
    """A deleted export job as it was last seen, so that a subscription resuming `since` a
    point before the deletion can announce it. Kept for the retention period."""

    __tablename__ = "export_job_tombstones"
    __table_args__ = (Index("ix_export_job_tombstones_ws_deleted", "workspace_id", "deleted_at"),)
    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(40))
    deleted_at: Mapped[int] = mapped_column(BigInteger, index=True)
    # The job row's columns (by attribute name) at deletion.
    last_state: Mapped[dict[str, Any]] = mapped_column(JSON)


class ImportUploadRow(Base):
    """A file a client is sending (or has sent) for an import: through a signed PUT URL, or
    in a multipart GraphQL request. One import job consumes it."""

    __tablename__ = "import_uploads"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(Text)  # relative to the storage directory
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)  # the PUT URL's end, then unused ones go
    received_at: Mapped[int | None] = mapped_column(BigInteger)
    byte_size: Mapped[int | None] = mapped_column(BigInteger)
    import_job_id: Mapped[str | None] = mapped_column(String(40))


class ImportJobRow(Base):
    """Records read from an uploaded file into a datastream: all stored in one transaction
    (visible whole or not at all), bad records failing the job or skipped into a report."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "idempotency_key"),
        Index("ix_import_jobs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_import_jobs_ws_created", "workspace_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"), index=True)
    upload_id: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(300))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    on_error: Mapped[str] = mapped_column(String(8))  # ABORT or SKIP
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)  # why it failed
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the file was imported before
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    heartbeat_at: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    records_read: Mapped[int] = mapped_column(BigInteger, default=0)
    records_rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    records_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    # The rejected records (SKIP), as CSV: line, reason, text; kept until expires_at.
    report_path: Mapped[str | None] = mapped_column(Text)
    report_byte_size: Mapped[int | None] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)


class ExportArtifactRow(Base):
    __tablename__ = "export_artifacts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("export_jobs.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(100))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    row_count: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Kept from a FAILED job that asked for it: the rows written before the failure.
    partial: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # Set by `fsck --repair` when the file is missing or differs.
    broken_reason: Mapped[str | None] = mapped_column(Text)


class ExportSchemaRow(Base):
    """A workspace's own export schema: published versions plus at most one draft."""

    __tablename__ = "export_schemas"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    stream_category: Mapped[str] = mapped_column(String(40))
    latest_version: Mapped[int] = mapped_column(Integer)
    draft_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    draft_updated_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ExportSchemaVersionRow(Base):
    """An immutable published version; jobs keep their own snapshot besides."""

    __tablename__ = "export_schema_versions"
    schema_id: Mapped[str] = mapped_column(
        ForeignKey("export_schemas.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)


class CollectionSubscriptionRow(Base):
    """A workspace's wish that a datastream be collected live."""

    __tablename__ = "collection_subscriptions"
    __table_args__ = (
        UniqueConstraint("workspace_id", "datastream_id", name="uq_subscriptions_stream"),
        UniqueConstraint("workspace_id", "idempotency_key", name="uq_subscriptions_key"),
        Index("ix_collection_subscriptions_stream", "datastream_id", "status"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"))
    status: Mapped[str] = mapped_column(String(16))  # ACTIVE PAUSED ERROR
    reason: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class CollectionRow(Base):
    """The collection of one datastream, shared by every subscription to it: which collector
    holds its lease, and whether its feed is connected."""

    __tablename__ = "collections"
    datastream_id: Mapped[int] = mapped_column(ForeignKey("datastreams.id"), primary_key=True)
    collector_id: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    connected: Mapped[bool] = mapped_column(Boolean, server_default=false())
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class CollectionSpanRow(Base):
    """A time range during which a subscription's datastream was being collected."""

    __tablename__ = "collection_spans"
    __table_args__ = (
        Index("ix_collection_spans_subscription", "subscription_id", "started_at"),
        Index("ix_collection_spans_open", "datastream_id", "ended_at"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("collection_subscriptions.id", ondelete="CASCADE")
    )
    datastream_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    collector_id: Mapped[str] = mapped_column(String(200))


class ExportScheduleRow(Base):
    """A recurring export: a job per period [start, end) of a grid anchored at `anchor_ns`,
    created once the period has ended plus `delay_ns`. `cursor_ns` is the start of the next
    period to create; the scheduler advances it with a conditional update."""

    __tablename__ = "export_schedules"
    __table_args__ = (
        Index("ix_export_schedules_due", "status", "next_run_at"),
        Index("ix_export_schedules_ws_created", "workspace_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # ACTIVE PAUSED
    # The export request without its times, as the domain's ExportRequest gives it.
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    every: Mapped[str] = mapped_column(String(40))  # ISO-8601 duration, one unit: PT1H, P1M
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name; calendar periods follow it
    anchor_ns: Mapped[int] = mapped_column(BigInteger)  # periodStart: a boundary of the grid
    delay_ns: Mapped[int] = mapped_column(BigInteger)
    catch_up: Mapped[str] = mapped_column(String(8))  # ALL or LATEST
    cursor_ns: Mapped[int] = mapped_column(BigInteger)
    next_run_at: Mapped[int] = mapped_column(BigInteger)  # end of the cursor's period + delay
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ExportScheduleRunRow(Base):
    """One period of a schedule: at most one per (schedule, period start), and its job made
    with an idempotency key derived from both, so that it exists once whoever creates it."""

    __tablename__ = "export_schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "period_start_ns", name="uq_schedule_runs_period"),
        Index("ix_export_schedule_runs_status", "status"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("export_schedules.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(String(40))
    period_start_ns: Mapped[int] = mapped_column(BigInteger)
    period_end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # PENDING CREATED FAILED
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # The schedule's template when the period became due: an update after that changes
    # later periods only, even if this run's job is created later (after a crash, say).
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    job_id: Mapped[str | None] = mapped_column(String(40))  # no FK: a job may be deleted
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class WebhookRow(Base):
    """Where a workspace wants its events POSTed, signed with `secret` (Standard Webhooks)."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))  # needed to sign: kept, shown once
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class EmailNotificationRow(Base):
    """Who is emailed on which events, with which subject and text templates."""

    __tablename__ = "email_notifications"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    policy: Mapped[str] = mapped_column(String(16))  # ON_SUCCESS ON_FAILURE ALWAYS
    events: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class NotificationEventRow(Base):
    """The outbox: recorded in the transaction of the change it tells about; fanned out to
    deliveries (one per matching webhook or email notification) once, then `dispatched_at`."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_dispatched", "dispatched_at", "created_at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)
    dispatched_at: Mapped[int | None] = mapped_column(BigInteger)


class NotificationDeliveryRow(Base):
    """One event to one webhook or email notification: a job like exports (claimed by a
    conditional update, re-woken when due or stale), retried with backoff until it succeeds
    or its retry window ends."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "target_id"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_target", "target_id", "id"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    event_id: Mapped[str] = mapped_column(ForeignKey("notification_events.id"))
    channel: Mapped[str] = mapped_column(String(16))  # WEBHOOK or EMAIL
    target_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # PENDING DELIVERING SUCCEEDED FAILED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_attempt_at: Mapped[int | None] = mapped_column(BigInteger)
    woken_at: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[int | None] = mapped_column(BigInteger)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationAttemptRow(Base):
    """One try of a delivery: when, how long, what the receiver answered."""

    __tablename__ = "notification_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("notification_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


EXPORT_TOTALS_ID = 1


class ExportTotalsRow(Base):
    """Running totals of what exports published (one row, id 1): the output counters of
    /metrics, which must never go down when jobs are deleted or expire. Added to in the
    transaction that lists a job's (or its parts') files."""

    __tablename__ = "export_totals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_written: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_written: Mapped[int] = mapped_column(BigInteger, default=0)
