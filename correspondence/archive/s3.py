"""S3 archive (boto3): any S3-compatible store. Write-once through ``If-None-Match: *``.

botocore asks for ``Expect: 100-continue`` on every upload: the client sends the headers,
waits for the store's ``100 Continue``, and only then sends the body. That saves sending a
large body the store would refuse, and costs every upload one more round trip. The
archive's objects are a PDF of tens of kilobytes and its payload, so uploads under
:data:`CONTINUE_FROM_BYTES` go in one piece (bench/history/archive_put.py, against
SeaweedFS: 7-8 % less wall time and 7-9 % less client CPU a document); larger ones
keep the handshake."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import determine_content_length

from correspondence import __version__
from correspondence.archive import ArchiveConflict, ArchiveNotFound, ArchiveUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

USER_AGENT = f"correspondence/{__version__}"
"""What the archive's requests call themselves, in the store's access logs. Given one,
botocore also stops composing its own from some twenty parts, twice a request: its CPU
time for a PutObject 0.75-0.89 of what it was (bench/history/archive_client.py, requests
answered inside the client; A/A 1.015)."""
CONTINUE_FROM_BYTES = 1 << 20
"""Uploads of at least this many bytes wait for the store's ``100 Continue``."""


def _small_bodies_in_one_piece(request: Any, **_: Any) -> None:
    """Drop botocore's ``Expect: 100-continue`` from an upload under
    :data:`CONTINUE_FROM_BYTES`, before the request is prepared and sent. Over https the
    body goes ``aws-chunked`` with its checksum in a trailer, and its length is then
    only in ``X-Amz-Decoded-Content-Length``; a body whose length cannot be told keeps
    the handshake."""
    if "Expect" not in request.headers:
        return
    decoded = request.headers.get("X-Amz-Decoded-Content-Length")
    size = int(decoded) if decoded else determine_content_length(request.data)
    if size is not None and size < CONTINUE_FROM_BYTES:
        del request.headers["Expect"]


class S3Archive:
    """Objects in one bucket; metadata on the object itself."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.bucket = bucket
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds * 4,
                user_agent=USER_AGENT,
            ),
        )
        self._client.meta.events.register("before-sign.s3.PutObject", _small_bodies_in_one_piece)

    def put(self, *, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Conditional put: a second write to the same key fails with 412."""
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata=dict(metadata),
                IfNoneMatch="*",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise ArchiveConflict(key) from None
            raise ArchiveUnavailable(f"S3 put {key}: {code}") from error
        except BotoCoreError as error:
            raise ArchiveUnavailable(f"S3 put {key}: {error}") from error

    def get(self, *, key: str) -> bytes:
        """The object's bytes."""
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ArchiveNotFound(key) from None
            raise ArchiveUnavailable(f"S3 get {key}: {error}") from error
        except BotoCoreError as error:
            raise ArchiveUnavailable(f"S3 get {key}: {error}") from error

    def exists(self, *, key: str) -> bool:
        """HEAD the object."""
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise ArchiveUnavailable(f"S3 head {key}: {error}") from error
        except BotoCoreError as error:
            raise ArchiveUnavailable(f"S3 head {key}: {error}") from error
        return True

    def check(self) -> None:
        """HEAD the bucket."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as error:
            raise ArchiveUnavailable(f"S3 bucket {self.bucket}: {error}") from error

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (used by tests and first start)."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self._client.create_bucket(Bucket=self.bucket)
