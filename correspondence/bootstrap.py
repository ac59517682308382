"""The composition root: the ports from settings, the use cases over them
(:func:`correspondence.wiring.build_use_cases`), and the facade that holds them (used by
the API, the CLI and the worker)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import TypedDict

from correspondence.archive import Archive
from correspondence.archive.filesystem import FilesystemArchive
from correspondence.archive.s3 import S3Archive
from correspondence.broker import build_dispatch
from correspondence.config import Settings
from correspondence.files import private_file, private_folder, write_atomically
from correspondence.mail import Mailer
from correspondence.mail.outbox import OutboxFolderMailer
from correspondence.mail.smtp import SmtpMailer
from correspondence.registry import migrate, open_database
from correspondence.registry.store import Database
from correspondence.renderers import Renderers
from correspondence.service import Clock, Service
from correspondence.wiring import build_use_cases


def system_clock() -> datetime:
    """The real time, in UTC: the one place the service reads the clock."""
    return datetime.now(tz=UTC)


def build_archive(settings: Settings) -> Archive:
    """The archive adapter the settings choose."""
    if settings.archive == "s3":
        secret = settings.s3_secret_access_key
        return S3Archive(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            timeout_seconds=settings.s3_timeout_seconds,
        )
    return FilesystemArchive(settings.resolved_archive_dir)


def build_mailer(settings: Settings) -> Mailer:
    """The mail adapter the settings choose."""
    if settings.mail_backend == "smtp":
        password = settings.smtp_password
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            timeout=settings.smtp_timeout_seconds,
            ca_file=settings.smtp_ca_file,
        )
    return OutboxFolderMailer(settings.resolved_outbox_dir)


def secret_key(settings: Settings) -> bytes:
    """The link-signing key: from settings, or generated once into the data folder (0600,
    written in one step: a reader never sees a partial key)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / "secret.key"
    if not path.exists():
        private_folder(settings.data_dir)
        with suppress(FileExistsError):  # another process wrote it first: use theirs
            write_atomically(path, secrets.token_hex(32).encode(), replace=False)
    return path.read_text().strip().encode()


def build_service(
    settings: Settings, *, clock: Clock = system_clock, renderers: Renderers | None = None
) -> Service:
    """Open (and migrate) the database, choose the archive, and assemble the service
    (with ``renderers`` if given, else the ones the settings choose)."""
    if settings.database_url is None:  # SQLite: its file (and WAL) 0600 in a 0700 folder
        private_folder(settings.data_dir)
        private_file(settings.data_dir / "correspondence.db")
    database = open_database(settings.resolved_database_url)
    migrate(database)
    ports = Ports(
        settings=settings,
        database=database,
        archive=build_archive(settings),
        mailer=build_mailer(settings),
        secret=secret_key(settings),
        clock=clock,
        dispatch=build_dispatch(settings),
    )
    return Service(**ports, assembled=build_use_cases(**ports, renderers=renderers))


class Ports(TypedDict):
    """What the use cases are built over, from the settings."""

    settings: Settings
    database: Database
    archive: Archive
    mailer: Mailer
    secret: bytes
    clock: Clock
    dispatch: Callable[[str], None] | None
