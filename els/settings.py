"""Every setting ELS reads, from `ELS_*` environment variables; each one has a default that runs."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The one settings object; built once in the composition root and passed down."""

    model_config = SettingsConfigDict(env_prefix="ELS_", extra="ignore", frozen=True)

    # Redis: the only source of truth for live batch state.
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis holding live batch state.")
    redis_cluster: bool = Field(False, description="Connect to redis_url as a Redis Cluster.")
    redis_min_replicas: int = Field(
        0,
        ge=0,
        le=16,
        description=(
            "Replicas that must hold a coordination step before ELS acknowledges it (Redis WAIT after "
            "each writing script); 0 waits for none. Use 1 on a Redis Cluster or a replicated Redis, "
            "so a failover cannot lose a step ELS has answered (docs/reliability.md)."
        ),
    )
    redis_replica_timeout_ms: int = Field(
        1000,
        ge=1,
        le=4000,
        description=(
            "How long one step waits for ELS_REDIS_MIN_REPLICAS replicas before it fails as not "
            "replicated and is retried; below the Redis client's 5 s socket timeout."
        ),
    )
    key_prefix: str = Field("els", pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="Prefix of every key.")
    shards: int = Field(
        16, ge=1, le=1024, description="Hash-tag shards for batch keys and indexes; fixed per deployment."
    )
    retention_seconds: int = Field(7 * 86400, ge=60, description="TTL of a finished batch's keys.")
    pending_ttl_seconds: int = Field(86400, ge=60, description="TTL of outcomes parked for unknown batches.")

    # Celery.
    broker_url: str | None = Field(
        None,
        description="Celery broker: redis:// or RabbitMQ's amqp:// (quorum queues); defaults to redis_url.",
    )
    result_backend: str | None = Field(None, description="Celery result backend; defaults to redis_url.")
    queue: str = Field("els", description="Queue the essay work (processing, analysis) is routed to.")
    control_queue: str | None = Field(
        None,
        description="Queue of the sweep, relay and completion tasks, so a backlog of essays never delays "
        "a deadline; defaults to `<queue>-control`.",
    )
    task_soft_time_limit: int = Field(240, ge=1, description="Seconds before SoftTimeLimitExceeded.")
    task_time_limit: int = Field(300, ge=1, description="Seconds before the worker child is killed.")
    process_soft_time_limit: int = Field(
        60,
        ge=1,
        description=(
            "Seconds processing one upload (els.process_essay) may take before it fails for good; "
            "at most ELS_TASK_SOFT_TIME_LIMIT."
        ),
    )
    process_time_limit: int = Field(
        90,
        ge=1,
        description="Seconds before the child processing one upload is killed; at most ELS_TASK_TIME_LIMIT.",
    )
    visibility_timeout: int = Field(
        3600, ge=10, description="Seconds before an unacknowledged message is redelivered."
    )
    max_processing_attempts: int = Field(
        3,
        ge=1,
        description=(
            "Times processing of one upload may start: an upload whose processing keeps killing its "
            "worker (out of memory, a crashing parser) then fails as PROCESSING_CRASHED, not redelivered."
        ),
    )

    # SQL: what must outlive Redis.
    database_url: str = Field("sqlite:///.els/els.db", description="SQLAlchemy URL of the database.")
    blob_store: str = Field(
        ".els/blobs",
        description="Where uploaded files are kept: a directory every process shares, or s3://bucket/prefix.",
    )
    s3_endpoint_url: str = Field(
        "", description="Endpoint of an S3-compatible server for an s3:// blob store (empty: AWS)."
    )

    # Batches.
    default_deadline_seconds: int = Field(
        86400, ge=1, description="Deadline of a batch registered without one."
    )
    max_deadline_seconds: int = Field(30 * 86400, ge=1, description="Longest deadline a batch may ask for.")
    max_expected_essays: int = Field(1000, ge=1, description="Most essay slots one batch may register.")
    default_language: str = Field("en", description="Language of a batch registered without one.")

    # Essay validation and hostile-file guards.
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest upload accepted.")
    min_words: int = Field(20, ge=0, description="Fewer words than this is CONTENT_TOO_SHORT.")
    max_words: int = Field(10_000, ge=1, description="More words than this is CONTENT_TOO_LONG.")
    docx_max_uncompressed_bytes: int = Field(
        50 * 1024 * 1024, ge=1, description="Largest total uncompressed size of a .docx archive."
    )
    docx_max_compression_ratio: int = Field(100, ge=1, description="Largest uncompressed/compressed ratio.")
    archive_max_bytes: int = Field(
        200 * 1024 * 1024, ge=1, description="Largest class archive (ZIP) one request may send."
    )
    archive_max_members: int = Field(
        1000, ge=1, description="Most entries a class archive may hold, folders and skipped files included."
    )
    archive_max_uncompressed_bytes: int = Field(
        500 * 1024 * 1024, ge=1, description="Largest total uncompressed size of a class archive."
    )
    pdf_max_pages: int = Field(
        100, ge=1, description="A PDF with more pages is rejected as CONTENT_TOO_LONG."
    )
    pdf_max_seconds: float = Field(10.0, gt=0, description="Longest time spent extracting one PDF.")
    pdf_max_page_content_bytes: int = Field(
        512 * 1024,
        ge=1,
        description="Largest decoded content stream of one PDF page; more is CONTENT_TOO_LONG, unread.",
    )
    pdf_max_content_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1,
        description="Largest decoded content of all a PDF's pages together; more is CONTENT_TOO_LONG.",
    )

    # Sweep and completion.
    sweep_interval_seconds: float = Field(30.0, gt=0, description="How often beat runs the sweep.")
    sweep_limit: int = Field(500, ge=1, description="Most batches one sweep tick expires or re-kicks.")
    expire_batches_per_call: int = Field(
        100,
        ge=1,
        description="Most due batches one expiry script looks at; the sweep calls again for the rest.",
    )
    stuck_after_seconds: int = Field(
        300, ge=1, description="A batch sealed or finalizing longer than this is re-kicked by the sweep."
    )
    late_grace_seconds: int = Field(
        3900,
        ge=0,
        description=(
            "How long past its deadline the sweep keeps a batch OPEN while uploads received before the "
            "deadline are still being processed, so ELS's own delay never makes them excess. The default "
            "is the default visibility timeout plus the default stuck-after, so a lost message the sweep "
            "resubmits still lands; after the grace the batch expires and counts what arrived."
        ),
    )

    # Events.
    events_exchange: str = Field("els.events", description="kombu topic exchange events are published to.")
    outbox_max_attempts: int = Field(10, ge=1, description="Publish attempts before an event is parked.")
    outbox_batch_size: int = Field(100, ge=1, description="Most events one relay pass publishes.")
    outbox_drain_seconds: float = Field(
        10.0,
        gt=0,
        description="How long one relay run keeps publishing pass after pass while a backlog remains.",
    )

    # Webhooks (Standard Webhooks: signed batch events POSTed to an owner's URL).
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Longest one webhook delivery attempt may take, connect to answer."
    )
    webhook_max_attempts: int = Field(
        8, ge=1, le=100, description="Delivery attempts before a webhook delivery is dead (a dead letter)."
    )
    webhook_backoff_seconds: float = Field(
        10.0, gt=0, description="Wait after a webhook's first failed attempt; it doubles after each one."
    )
    webhook_max_backoff_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between two attempts of one webhook delivery."
    )
    webhook_batch_size: int = Field(50, ge=1, description="Most webhook deliveries one sender run attempts.")
    webhook_allow_networks: str = Field(
        "",
        description=(
            "Comma-separated networks (CIDR) webhooks may reach although they are loopback, link-local, "
            "private or reserved, e.g. `127.0.0.1/32` for a receiver on the same host; empty allows none."
        ),
    )

    # HTTP API.
    api_host: str = Field("127.0.0.1", description="Address `els api` listens on.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port `els api` listens on.")
    api_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="sha256 hex digest of a bearer token -> the owner it acts as (JSON object).",
    )
    max_request_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest request body the API reads.")
    cors_origins: tuple[str, ...] = Field(
        (),
        description='Origins browsers may call the API from (JSON list, e.g. ["https://ui.example"]); '
        "empty: CORS off.",
    )
    api_timeout_keep_alive: int = Field(
        5, ge=1, description="Seconds `els api` keeps an idle keep-alive connection open."
    )
    api_header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a request's headers in full before `els api` drops it.",
    )
    api_max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Largest request line plus headers `els api` buffers (h11's limit)."
    )
    api_limit_concurrency: int | None = Field(
        1000,
        ge=1,
        description="Connections plus running requests above which `els api` answers 503; unset: no limit.",
    )
    api_docs: bool = Field(
        False, description="Serve the OpenAPI document and its pages (/openapi.json, /docs, /redoc)."
    )
    metrics_token_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="sha256 hex digest of the bearer token /metrics asks for; /metrics answers 404 if unset.",
    )
    metrics_refresh_seconds: float = Field(
        15.0,
        gt=0,
        description="How often the API recounts the gauges /metrics serves (open batches, outbox).",
    )

    # Quotas per owner (one Lua script in Redis, coordinator/quota.py); 0 turns a quota off.
    quota_open_batches: int = Field(
        100, ge=0, description="Most batches one owner may have registered whose deadline has not passed."
    )
    quota_open_slots: int = Field(
        20_000, ge=0, description="Most essay slots over one owner's batches whose deadline has not passed."
    )
    quota_uploads_per_day: int = Field(
        20_000, ge=0, description="Most new uploads one owner may send per UTC day."
    )
    quota_upload_bytes_per_day: int = Field(
        2 * 1024**3, ge=0, description="Most bytes of new uploads one owner may send per UTC day."
    )
    # Rate limits (the `limits` library on Redis), as "<count>/<period>", e.g. "600/minute"; "" is off.
    rate_limit_per_token: str = Field("600/minute", description="Requests one bearer token may make.")
    rate_limit_per_address: str = Field(
        "1200/minute", description="Requests one client address may make to the /v1 routes."
    )
    auth_failures_per_address: str = Field(
        "20/minute",
        description="Failed authentications one client address may make before it is answered 429.",
    )

    # Worker metrics (Prometheus): every pool process counts into one directory, the main process serves it.
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Worker /metrics port; off if unset."
    )
    worker_metrics_host: str = Field("127.0.0.1", description="Address the worker's metrics listen on.")
    worker_metrics_dir: str | None = Field(
        None,
        description="Directory the pool's processes keep their counters in (emptied at start); default: a "
        "fresh temporary one. PROMETHEUS_MULTIPROC_DIR, when set, wins.",
    )

    # Logging.
    log_level: str = Field("INFO", description="Level of ELS's own loggers.")
    log_json: bool | None = Field(None, description="JSON logs; default: JSON unless stderr is a terminal.")

    @model_validator(mode="after")
    def _check_word_bounds(self) -> Settings:
        if self.max_words < max(self.min_words, 1):
            raise ValueError("ELS_MAX_WORDS must be at least ELS_MIN_WORDS (and at least 1)")
        if self.process_soft_time_limit >= self.process_time_limit:
            raise ValueError("ELS_PROCESS_SOFT_TIME_LIMIT must be below ELS_PROCESS_TIME_LIMIT")
        return self

    @property
    def celery_control_queue(self) -> str:
        """The control queue's name, falling back to `<queue>-control`."""
        return self.control_queue or f"{self.queue}-control"

    @property
    def celery_broker_url(self) -> str:
        """The broker URL, falling back to the Redis URL."""
        return self.broker_url or self.redis_url

    @property
    def celery_result_backend(self) -> str:
        """The result backend URL, falling back to the Redis URL."""
        return self.result_backend or self.redis_url
