"""The composition root: build the service from settings (used by the API and the CLI)."""

from __future__ import annotations

from datetime import UTC, datetime

from correspondence.archive import Archive
from correspondence.archive.filesystem import FilesystemArchive
from correspondence.archive.s3 import S3Archive
from correspondence.config import Settings
from correspondence.registry import migrate, open_database
from correspondence.service import Clock, Service


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


def build_service(settings: Settings, *, clock: Clock = system_clock) -> Service:
    """Open (and migrate) the database, choose the archive, and assemble the service."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = open_database(settings.resolved_database_url)
    migrate(database)
    return Service(
        settings=settings, database=database, archive=build_archive(settings), clock=clock
    )
