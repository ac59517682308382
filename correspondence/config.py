"""Settings: one typed object, read from ``CORRESPONDENCE_*`` variables, validated at
start-up and passed in. Nothing reads the environment after that; tests build their own.

With no variables set, everything is embedded under ``./var``: a SQLite database, an
archive folder and a mail outbox folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
"""The source checkout (or, installed, site-packages): never read for data at run time."""


def _default_templates_dir() -> Path:
    """``templates/`` at the top of a checkout; inside the package in an installed wheel,
    where the build copies it (``[tool.hatch.build.targets.wheel.force-include]``)."""
    packaged = PACKAGE_DIR / "templates"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "templates"


class Settings(BaseSettings):
    """Everything the service can be configured with; every field has an embedded default."""

    model_config = SettingsConfigDict(env_prefix="CORRESPONDENCE_", frozen=True)

    templates_dir: Path = Field(
        default_factory=_default_templates_dir, description="Document and email templates."
    )
    strict_rendering: bool = Field(
        default=True, description="Refuse a render when WeasyPrint warns (a template defect)."
    )
    pdf_shortcuts: bool = Field(
        default=True,
        description="Take the renderer's shortcuts through WeasyPrint's private parts "
        "(correspondence/pdf_fast.py); off, rendering uses its public API only. Same bytes.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the embedded defaults keep the SQLite database, archive and outbox.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///{data_dir}/correspondence.db. "
        "PostgreSQL: postgresql+psycopg://user:password@host/db.",
    )
    archive: Literal["filesystem", "s3"] = Field(
        default="filesystem", description="Archive adapter."
    )
    archive_dir: Path | None = Field(
        default=None, description="Filesystem archive root; default {data_dir}/archive."
    )
    s3_bucket: str = Field(default="correspondence", description="S3 bucket of the archive.")
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 endpoint, e.g. http://127.0.0.1:8333 for SeaweedFS."
    )
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    s3_timeout_seconds: float = Field(default=5.0, description="S3 connect timeout.")
    max_body_bytes: int = Field(
        default=2_000_000, description="Largest request body accepted (413 above)."
    )
    render_wait_seconds: float = Field(
        default=10.0, description="How long a request waits for a free renderer before 503."
    )
    max_queued_documents: int = Field(
        default=10_000, description="Asynchronous work accepted before new requests get 503."
    )
    max_batch_bytes: int = Field(
        default=50_000_000, description="Largest batch upload accepted (413 above)."
    )
    max_batch_items: int = Field(
        default=10_000,
        ge=1,
        description="Most payloads one batch may hold (422 above): a batch is recorded in one "
        "transaction, so a larger one would hold the database for everyone else.",
    )
    retry_base_seconds: float = Field(
        default=2.0, description="First delay before retrying an accepted document."
    )
    retry_max_seconds: float = Field(default=300.0, description="Longest retry delay.")
    worker_poll_seconds: float = Field(
        default=1.0,
        description="How often the in-process issuer looks for work that has fallen due "
        "with time (a retry, an expired lease); work committed in this process (a queued "
        "document with no broker, an email) wakes it at once.",
    )
    render_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A document being rendered is taken again by another issuer if its "
        "lease is not renewed for this long (it is renewed every third of it while the "
        "render lasts): after a crash, its documents are issued within this time.",
    )
    run_worker: bool = Field(
        default=True, description="Run the in-process issuer for asynchronous requests."
    )
    render_processes: int | None = Field(
        default=None,
        ge=0,
        description="Warm render worker processes; default one per core; 0 renders in-process.",
    )
    section_rows: int = Field(
        default=250,
        ge=10,
        description="An invoice with more than twice this many lines is laid out in sections "
        "of this many, in parallel, and numbered across all its pages.",
    )
    worker_max_tasks_per_child: int = Field(
        default=10_000,
        ge=1,
        description="Renders before a worker process is replaced (a worker's resident memory "
        "grew about 0.5 kB a render once warm, some +3 % by then; bench/README.md, Soak).",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (e.g. redis://127.0.0.1:6379/0); set, accepted documents "
        "are issued by `correspondence worker` processes instead of in-process.",
    )
    broker_visibility_timeout_seconds: int = Field(
        default=3600,
        ge=1,
        description="After this long, a task taken by a worker that vanished is redelivered "
        "(the workers look for such tasks every sixtieth of this, at most once a second).",
    )
    worker_concurrency: int | None = Field(
        default=None, ge=1, description="Processes per Celery worker; default one per core."
    )

    mail_backend: Literal["outbox", "smtp"] = Field(
        default="outbox", description="outbox: write .eml files to the outbox folder; smtp: send."
    )
    outbox_dir: Path | None = Field(
        default=None, description="Mail outbox folder; default {data_dir}/outbox."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(default=25, description="SMTP server port.")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="none", description="SMTP transport security."
    )
    smtp_username: str | None = Field(default=None, description="SMTP user, if auth is needed.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_timeout_seconds: float = Field(default=10.0, description="SMTP connect and read timeout.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle to trust for SMTP TLS (e.g. a private relay's CA)."
    )
    mail_from: str = Field(
        default="documentos@correspondence.example", description="Sender address of emails."
    )
    mail_max_attempts: int = Field(
        default=10,
        ge=1,
        description="Tries of one delivery before it is failed (each recipient refused "
        "for now is tried again, alone; one that accepted never gets it twice).",
    )
    max_recipients_per_delivery: int = Field(
        default=50, ge=1, description="Addresses (To and Cc) one delivery may have (422 above)."
    )
    mail_max_attachment_bytes: int = Field(
        default=5_000_000, description="Above this size, emails carry a signed download link."
    )
    download_link_ttl_seconds: int = Field(
        default=14 * 24 * 3600, description="How long a download link stays valid."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the API, for download links."
    )
    download_url_template: str = Field(
        default="{base}/v1/downloads/{token}",
        description="Where a download link points: {base} is public_base_url (without its "
        "trailing slash), {token} the signed token. The core knows no API route.",
    )
    sign_in_slowdown_after: int = Field(
        default=3,
        ge=1,
        description="Failed sign-ins (per account or address) before each "
        "new try must wait: sign_in_delay_seconds, doubled with each further failure.",
    )
    sign_in_delay_seconds: float = Field(
        default=1.0, gt=0, description="The first wait between sign-in tries once slowed down."
    )
    sign_in_lock_after: int = Field(
        default=10, ge=1, description="Failed sign-ins that lock an account (any password)."
    )
    sign_in_address_lock_after: int = Field(
        default=30, ge=1, description="Failed sign-ins, any account, that lock a client address."
    )
    sign_in_lock_seconds: float = Field(
        default=900.0, gt=0, description="How long a lock lasts, and how long failures count."
    )
    rate_limit_per_minute: int = Field(
        default=1200,
        ge=1,
        le=1_000_000,
        description="Requests a minute an API key may make, unless the key has its own "
        "limit (keys create --rate-limit, or the admin API): a token bucket holding a "
        "minute's worth, refilled continuously; past it, 429 with Retry-After. Counted in "
        "each API process (docs/keys.md).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs download links; default: generated into {data_dir}/secret.key.",
    )

    log_format: Literal["json", "console"] = Field(
        default="json",
        description="Log lines: one JSON object per line, or readable console text.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe log level written."
    )
    tracing: Literal["off", "console", "otlp"] = Field(
        default="off",
        description="OpenTelemetry tracing (docs/operations.md): off; console: spans as "
        "JSON on stdout; otlp: sent over OTLP/HTTP to otlp_endpoint.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; "
        "default: the standard OTEL_EXPORTER_OTLP_* variables, else localhost:4318.",
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts a webhook endpoint may be registered at (HTTPS, or HTTP on the "
        "loopback interface); empty: no webhook may be registered.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long one webhook call may take."
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Delay ceiling before a webhook event's second try; doubles with each "
        "failure (full jitter: half to all of it).",
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="Largest delay between two tries of a webhook event."
    )

    review_kinds: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Documents that wait for a member of staff to approve them before they "
        "are numbered and issued (docs/review.md): comma-separated kind names, or "
        "kind:type for finer ones (credit_limit_change_notice:reduction, "
        "credit_limit_change_notice:withdrawal, claim_decision:declined …); empty: none.",
    )

    @field_validator("review_kinds", mode="before")
    @classmethod
    def _review_entries(cls, value: Any) -> Any:
        """``a,b:c`` (the environment's form) as a tuple; every entry must be known."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        from correspondence.review_rules import unknown_entries  # the kinds load lazily

        wrong = unknown_entries(value)
        if wrong:
            raise ValueError(f"unknown review entries: {', '.join(wrong)}")
        return tuple(value)

    signing_key_file: Path | None = Field(
        default=None,
        description="PEM private key that signs issued PDFs (PAdES); unset, nothing is signed.",
    )
    signing_key_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the signing key, if it is encrypted."
    )
    signing_cert_file: Path | None = Field(
        default=None, description="PEM certificate of the signing key (needed with the key)."
    )
    signing_chain_file: Path | None = Field(
        default=None,
        description="PEM certificates of the issuing CAs, embedded in each signature; they "
        "are also the roots a signature is verified against (else the certificate itself).",
    )
    signing_kinds: list[str] = Field(
        default_factory=lambda: ["claim_decision", "credit_limit_decision", "premium_invoice"],
        description="Kinds whose PDFs are signed (default: the decision letters and invoices).",
    )
    tsa_url: str | None = Field(
        default=None,
        description="RFC 3161 timestamp authority (HTTP); set, signatures are PAdES B-T "
        "(timestamped), else B-B.",
    )
    tsa_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long one call to the timestamp authority may take."
    )
    signing_visible_box: tuple[int, int, int, int] | None = Field(
        default=None,
        description="A visible signature block on the last page at x1,y1,x2,y2 (PDF points "
        "from the bottom left), e.g. [36,24,236,64]; unset, the signature is invisible.",
    )

    def retry_delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1, 2, …): exponential, capped."""
        delay: float = self.retry_base_seconds * 2.0 ** (attempt - 1)
        return min(self.retry_max_seconds, delay)

    def download_url(self, token: str) -> str:
        """The download link for a signed ``token``."""
        base = self.public_base_url.rstrip("/")
        return self.download_url_template.format(base=base, token=token)

    @property
    def resolved_outbox_dir(self) -> Path:
        """The mail outbox folder."""
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'correspondence.db').resolve()}"

    @property
    def resolved_archive_dir(self) -> Path:
        """The filesystem archive root."""
        return self.archive_dir or self.data_dir / "archive"


def problems(error: Exception) -> list[str] | None:
    """What is wrong with the configuration, one line per variable, if ``error`` is
    :class:`Settings` refusing it (``None`` for any other error): for a command-line user,
    who sets variables and has no use for pydantic's traceback. The values are never
    repeated (one may be a secret)."""
    prefix = Settings.model_config["env_prefix"]
    if isinstance(error, SettingsError):  # a list or JSON variable that is not JSON
        found = re.search(r'field "(\w+)"', str(error))
        name = f"{prefix}{found.group(1).upper()}: " if found else ""
        return [f"{name}not valid JSON ({error.__cause__ or error})"]
    if not isinstance(error, ValidationError) or error.title != Settings.__name__:
        return None
    lines = []
    for problem in error.errors(include_url=False):
        field, *inner = problem["loc"] or ("",)
        name = f"{prefix}{str(field).upper()}: " if field else ""
        where = f"item {'.'.join(str(part) for part in inner)}: " if inner else ""
        lines.append(name + where + problem["msg"])
    return lines
