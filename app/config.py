"""Settings from the environment (and an optional `.env` file).

The three URLs that decide embedded versus distributed mode keep their plain
names (`DATABASE_URL`, `BROKER_URL`, `STORAGE_URL`); everything else is
prefixed with `GATEWAY_`.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

BROKER_SCHEMES = ("redis://", "rediss://", "unix://", "amqp://", "amqps://")

PRESIGNED_MAX_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live


def _alias(name: str) -> AliasChoices:
    return AliasChoices(name, f"GATEWAY_{name}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default=Path(".data"), description="Local state: DB, files, secrets.")
    database_url: str | None = Field(
        default=None,
        validation_alias=_alias("DATABASE_URL"),
        description="SQLAlchemy async URL; default: SQLite file in data_dir.",
    )
    broker_url: str = Field(
        default="embedded",
        validation_alias=_alias("BROKER_URL"),
        description="`embedded` (the gateway runs its workers), redis://... or amqp://...",
    )
    storage_url: str | None = Field(
        default=None,
        validation_alias=_alias("STORAGE_URL"),
        description="Directory for segments and artifacts, or `s3://bucket/prefix` to keep "
        "them in an S3-compatible object store; default: data_dir/storage.",
    )
    storage_s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STORAGE_S3_ENDPOINT_URL", "GATEWAY_STORAGE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"
        ),
        description="The object store's endpoint (`http://minio:9000`); default: AWS S3.",
    )
    storage_s3_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STORAGE_S3_REGION", "GATEWAY_STORAGE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"
        ),
        description="The bucket's region; default: the AWS configuration's, else us-east-1.",
    )
    storage_downloads: Literal["presigned", "proxy"] = Field(
        default="presigned",
        validation_alias=_alias("STORAGE_DOWNLOADS"),
        description="With an s3:// STORAGE_URL: download links are the store's presigned "
        "URLs (`presigned`) or the gateway's, which streams the file (`proxy`).",
    )

    @model_validator(mode="after")
    def _presigned_expiry(self) -> Settings:
        if (
            self.object_storage
            and self.storage_downloads == "presigned"
            and self.download_ttl_seconds > PRESIGNED_MAX_SECONDS
        ):
            raise ValueError(
                "presigned URLs expire within 7 days: GATEWAY_DOWNLOAD_TTL_SECONDS must be at "
                f"most {PRESIGNED_MAX_SECONDS} with STORAGE_DOWNLOADS=presigned"
            )
        return self

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str | None) -> str | None:
        if value and value.startswith("s3://") and not value.removeprefix("s3://").strip("/"):
            raise ValueError("an s3:// STORAGE_URL names a bucket: s3://bucket[/prefix]")
        return value

    events_url: str | None = Field(
        default=None,
        validation_alias=_alias("EVENTS_URL"),
        description="redis://... for job events across processes; default: BROKER_URL if it "
        "is Redis, else in-process only.",
    )
    events_fallback_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="While the events Redis is unreachable, how often subscriptions re-read "
        "the jobs they follow (they go back to pushed events once it is back).",
    )
    queue_name: str = Field(
        default="exports",
        description="Broker queue (and event channel) name: separates gateways sharing a broker.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Base URL put in download links; default: the request's."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins (`https://dash.example.com`) allowed to call the API "
        "(CORS) and open its WebSocket, comma-separated; `*` allows any (development). "
        "Default: the gateway's own origin only.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        """Refused at start-up, naming the variable, rather than at the first connection."""
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL: use sqlite:///path/to/file.db or "
                "postgresql://user:password@host:5432/database"
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(f"{url.get_backend_name()}: only SQLite and PostgreSQL are supported")
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if value in ("embedded", "stub", "") or value.startswith(BROKER_SCHEMES):
            return value
        raise ValueError("use embedded, redis://host:6379/0 or amqp://user:password@host:5672")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    signing_secret: str | None = Field(
        default=None, description="HMAC key for download URLs; default: generated in data_dir."
    )
    download_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    database_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a request waits to connect to PostgreSQL (or for a pooled "
        "connection) before it answers UNAVAILABLE.",
    )
    worker_threads: int = Field(default=2, ge=1)
    worker_processes: int = Field(default=1, ge=1)
    embedded_workers: Literal["process", "thread"] = Field(
        default="process",
        description="Embedded mode: the gateway's workers run in a worker process it starts "
        "and supervises (`process`), or as threads in its own process (`thread`: the API "
        "tests, which need no second process).",
    )
    embedded_worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Embedded mode: how much lower the worker process's CPU priority is than "
        "the gateway's (added to its nice value), so that exports yield the CPU to the API "
        "on a busy machine; 0 runs them at the gateway's priority.",
    )
    progress_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        description="How often a running job (or part) records its progress, which is also "
        "its heartbeat (one UPDATE of its row), and announces it to subscribers: about four "
        "progress events a second per running job, plus one at every status change.",
    )
    heartbeat_stale_seconds: float = Field(default=30.0, gt=0)
    queued_stale_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A QUEUED job (or due delivery) unclaimed this long is woken again.",
    )
    sweep_interval_seconds: float = Field(default=10.0, gt=0)
    fsck_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often the sweeper checks that catalogued files exist with their "
        "size (marking broken ones, never deleting) and deletes temporary files older than "
        "six hours; 0 turns it off.",
    )
    max_page_size: int = Field(default=100, ge=1)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5000, ge=100)
    max_query_cost: int = Field(
        default=50_000,
        ge=100,
        description="Fields a query may ask for, lists counted by their size (first: N, or "
        "10 for other lists); see the README's limits.",
    )
    rate_limit_requests_per_minute: int = Field(
        default=600, ge=1, description="Requests per minute per API key (workspaces may differ)."
    )
    rate_limit_query_cost_per_minute: int = Field(
        default=1_000_000, ge=1, description="Query cost per minute per API key."
    )
    rate_limit_url: str | None = Field(
        default=None,
        description="redis://... where gateways share their rate limit counters; default: "
        "the events URL if it is Redis, else each gateway counts alone (in memory).",
    )
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body accepted."
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="Largest total size of a request's headers."
    )
    auth_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long a gateway remembers a live API key's caller instead of "
        "reading it again; a key revoked or a workspace's limits changed through another "
        "gateway take effect here within this long (through this one, at once); 0: read on "
        "every request.",
    )
    max_json_depth: int = Field(
        default=32, ge=4, description="Deepest nesting of a JSON body (variables included)."
    )
    availability_gap_seconds: float = Field(
        default=300.0, ge=0, description="Gaps up to this long do not split availability ranges."
    )
    max_export_rows: int = Field(
        default=1_000_000, ge=1, description="Upper clamp of an export's `limit`."
    )
    max_export_datastreams: int = Field(
        default=2_000, ge=1, description="Most datastreams one export may merge (datastreamIds)."
    )
    max_active_exports: int = Field(
        default=10, ge=1, description="Queued plus running exports per workspace."
    )
    job_timeout_seconds: float = Field(
        default=3600.0, gt=0, description="Wall-clock limit of one export job."
    )
    retention_seconds: float = Field(
        default=7 * 24 * 3600.0, gt=0, description="How long a finished export's files are kept."
    )
    max_import_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1024, description="Largest file an import accepts."
    )
    upload_ttl_seconds: float = Field(
        default=3600.0, gt=0, description="How long a signed upload URL takes a PUT."
    )
    demo_data: bool = Field(default=False, description="Load demo data when the store is empty.")
    binance_ws_url: str = Field(
        default="wss://stream.binance.com:9443",
        description="Binance spot websocket base (the collector connects to <base>/stream).",
    )
    bybit_ws_url: str = Field(
        default="wss://stream.bybit.com/v5/public",
        description="Bybit v5 public websocket base (<base>/spot, <base>/linear, ...).",
    )
    demo_feed: bool = Field(
        default=False,
        description="Serve the local exchange feed (make run): demo datastreams can be collected.",
    )
    demo_feed_port: int = Field(default=8766, description="Where the demo feed listens.")
    schedule_in_gateway: bool = Field(
        default=True,
        description="Run the scheduler of recurring exports in the gateway's sweeper loop "
        "(leader-free: several gateways create each period's job once). False when only "
        "`python -m app scheduler` processes should.",
    )
    schedule_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often `python -m app scheduler` looks for due periods."
    )
    schedule_min_period_seconds: int = Field(
        default=3600,
        ge=1,
        description="The shortest `every` a schedule may have (PT1H by default).",
    )
    schedule_max_runs_per_tick: int = Field(
        default=100, ge=1, description="Periods one schedule catches up on per scheduler pass."
    )
    collect_in_gateway: bool | None = Field(
        default=None,
        description="Run a collector inside the gateway; default: in embedded mode only.",
    )
    collector_lease_seconds: float = Field(
        default=15.0, gt=0, description="A collector silent this long loses its datastreams."
    )
    collector_tick_seconds: float = Field(
        default=2.0, gt=0, description="How often a collector renews leases and claims work."
    )
    collector_flush_seconds: float = Field(
        default=5.0, gt=0, description="Records are written at least this often."
    )
    collector_flush_records: int = Field(
        default=20_000, ge=1, description="...or once this many are waiting."
    )
    collector_max_feeds: int = Field(
        default=200, ge=1, description="Datastreams one collector process holds at most."
    )
    collector_max_connection_seconds: float = Field(
        default=23.5 * 3600, gt=0, description="Reconnect before the exchanges' 24-hour cut."
    )
    collector_max_message_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Largest websocket message accepted."
    )
    notify_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often each gateway fans new events out to webhooks and email "
        "notifications and wakes the deliveries that are due.",
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Limit of one webhook call or SMTP exchange."
    )
    notify_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="Delay before the first retry; doubled at each retry."
    )
    notify_retry_max_delay_seconds: float = Field(
        default=3 * 3600.0, gt=0, description="Longest delay between two attempts."
    )
    notify_retry_window_seconds: float = Field(
        default=24 * 3600.0, gt=0, description="A delivery is retried this long, then FAILED."
    )
    notify_keep_seconds: float = Field(
        default=30 * 24 * 3600.0,
        gt=0,
        description="Events and their finished deliveries are kept this long (delivery history).",
    )
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="Allow webhook URLs that resolve to loopback, private or link-local "
        "addresses (refused by default against SSRF).",
    )
    tracing: bool | None = Field(
        default=None,
        description="Send OpenTelemetry traces (OTLP over HTTP; the standard OTEL_* variables "
        "say where and how). Default: on when OTEL_EXPORTER_OTLP_ENDPOINT (or "
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, unless OTEL_SDK_DISABLED=true.",
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines as JSON objects (`json`) or plain text (`text`); `auto`: text "
        "on a terminal, JSON otherwise.",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no email.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: str = Field(
        default="STARTTLS", description="NONE, STARTTLS or TLS (implicit TLS, port 465)."
    )
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = Field(
        default="export-gateway@localhost", description="The From address of notifications."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'gateway.db').resolve()}"

    @property
    def sync_database_url(self) -> str:
        """The same database through a blocking driver, for workers and migrations."""
        url = self.resolved_database_url
        for async_driver, sync_driver in (
            ("sqlite+aiosqlite", "sqlite"),
            ("postgresql+asyncpg", "postgresql+psycopg"),
            ("postgresql+psycopg_async", "postgresql+psycopg"),
        ):
            if url.startswith(async_driver + ":"):
                return sync_driver + url[len(async_driver) :]
        if url.startswith("postgresql:") or url.startswith("postgres:"):
            return "postgresql+psycopg:" + url.split(":", 1)[1]
        return url

    @property
    def async_database_url(self) -> str:
        url = self.resolved_database_url
        if url.startswith("postgresql:") or url.startswith("postgres:"):
            return "postgresql+asyncpg:" + url.split(":", 1)[1]
        if url.startswith("postgresql+psycopg:"):
            return "postgresql+asyncpg:" + url.split(":", 1)[1]
        if url.startswith("sqlite:"):
            return "sqlite+aiosqlite:" + url.split(":", 1)[1]
        return url

    @property
    def storage_dir(self) -> Path:
        """The local storage directory (segments, artifacts, uploads, import reports), unless
        STORAGE_URL names an object store."""
        if self.storage_url and not self.object_storage:
            return Path(self.storage_url.removeprefix("file://"))
        return self.data_dir / "storage"

    @property
    def object_storage(self) -> bool:
        """Segments and artifacts are in an S3-compatible bucket (STORAGE_URL=s3://...)."""
        return bool(self.storage_url and self.storage_url.startswith("s3://"))

    @property
    def resolved_events_url(self) -> str | None:
        if self.events_url:
            return self.events_url
        if self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @property
    def resolved_rate_limit_url(self) -> str | None:
        if self.rate_limit_url:
            return self.rate_limit_url
        events = self.resolved_events_url
        return events if events and events.startswith(("redis://", "rediss://")) else None

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url in ("embedded", "stub", "")

    @property
    def gateway_collects(self) -> bool:
        return self.embedded_broker if self.collect_in_gateway is None else self.collect_in_gateway

    def download_signing_key(self) -> bytes:
        """The configured secret, or one generated once and kept in data_dir."""
        if self.signing_secret:
            return self.signing_secret.encode()
        path = self.data_dir / "signing.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            tmp.replace(path)
        return path.read_text().strip().encode()


@lru_cache
def get_settings() -> Settings:
    return Settings()
