"""What the S3 archive sends on the wire: small uploads in one piece, large ones after the
store's ``100 Continue``. A relay on 127.0.0.1 passes every byte between the archive and
the session's SeaweedFS and keeps what the archive sent, so each upload is also checked
against the real store."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from correspondence.archive import ArchiveConflict
from correspondence.archive.s3 import CONTINUE_FROM_BYTES, USER_AGENT, S3Archive
from tests.servers import S3_PORT, SeaweedFS


class Relay:
    """Listens on 127.0.0.1, connects each client to ``upstream`` and copies both ways,
    keeping the bytes the clients sent."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sent = bytearray()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # shut down
                return
            server = socket.create_connection(self.upstream)
            copies = [
                threading.Thread(target=self._copy, args=(client, server, True), daemon=True),
                threading.Thread(target=self._copy, args=(server, client, False), daemon=True),
            ]
            with self._lock:
                self._sockets += [client, server]
                self._threads += copies
            for copy in copies:
                copy.start()

    def _copy(self, source: socket.socket, sink: socket.socket, keep: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                if keep:
                    with self._lock:
                        self._sent += chunk
                sink.sendall(chunk)
        for end in (source, sink):  # one side is done: so is the other
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def request_heads(self) -> list[bytes]:
        """The head (request line and headers) of every PUT sent so far."""
        with self._lock:
            sent = bytes(self._sent)
        heads, start = [], sent.find(b"PUT /")
        while start >= 0:
            end = sent.index(b"\r\n\r\n", start)
            heads.append(sent[start:end])
            start = sent.find(b"PUT /", end)
        return heads

    def forget(self) -> None:
        """Drop what was kept so far."""
        with self._lock:
            self._sent.clear()

    def close(self) -> None:
        """Stop listening, end every connection and wait for the threads."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
        self.listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for each in sockets:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=10)
            assert not thread.is_alive(), "a relay thread did not end"
        for each in sockets:
            each.close()


@pytest.fixture()
def relayed(seaweed: SeaweedFS) -> Iterator[tuple[Relay, S3Archive]]:
    assert seaweed.endpoint.endswith(f":{S3_PORT}")
    relay = Relay(("127.0.0.1", S3_PORT))
    archive = S3Archive(
        bucket=f"t-{uuid.uuid4().hex[:12]}",
        endpoint_url=f"http://127.0.0.1:{relay.port}",
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    archive.ensure_bucket()
    relay.forget()  # the bucket's creation is a PUT too
    try:
        yield relay, archive
    finally:
        archive.close()
        relay.close()


def _put(archive: S3Archive, key: str, size: int) -> bytes:
    data = (bytes(range(251)) * (size // 251 + 1))[:size]
    archive.put(key=key, data=data, content_type="application/pdf", metadata={"sha256": "x"})
    return data


@pytest.mark.parametrize(
    ("size", "waits"),
    [
        (35_000, False),  # an invoice's PDF
        (CONTINUE_FROM_BYTES - 1, False),
        (CONTINUE_FROM_BYTES, True),
        (3 * CONTINUE_FROM_BYTES, True),
    ],
)
def test_only_large_uploads_wait_for_continue(
    relayed: tuple[Relay, S3Archive], size: int, waits: bool
) -> None:
    relay, archive = relayed
    data = _put(archive, "ES/P-1/x.pdf", size)
    (head,) = relay.request_heads()
    headers = head.lower().split(b"\r\n")
    assert (b"expect: 100-continue" in headers) is waits
    assert f"content-length: {size}".encode() in headers
    (agent,) = [h for h in headers if h.startswith(b"user-agent: ")]
    assert agent.split()[1] == USER_AGENT.lower().encode()  # the store's logs say who wrote
    assert archive.get(key="ES/P-1/x.pdf") == data  # the store has it whole


def test_a_refused_small_upload_is_still_a_conflict(relayed: tuple[Relay, S3Archive]) -> None:
    """Without the handshake the store refuses a second write after the body: the archive
    still reports the key as taken, and the first bytes stay."""
    relay, archive = relayed
    first = _put(archive, "ES/P-1/y.pdf", 20_000)
    with pytest.raises(ArchiveConflict):
        _put(archive, "ES/P-1/y.pdf", 20_001)
    assert len(relay.request_heads()) == 2
    assert all(b"expect:" not in head.lower() for head in relay.request_heads())
    assert archive.get(key="ES/P-1/y.pdf") == first


class _Answered:
    """The body of a canned answer: empty."""

    def stream(self, **_: object) -> Iterator[bytes]:
        yield b""


@pytest.mark.parametrize(("size", "waits"), [(35_000, False), (CONTINUE_FROM_BYTES, True)])
def test_over_https_the_chunked_body_is_measured_too(size: int, waits: bool) -> None:
    """Over https botocore sends the body ``aws-chunked``, its checksum in a trailer and
    its length in ``X-Amz-Decoded-Content-Length`` only. No store answers https here, so
    the request is taken as it leaves the client (botocore's ``before-send``) and given a
    200."""
    archive = S3Archive(
        bucket="archive",
        endpoint_url="https://s3.archive.invalid",
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    sent: list[AWSPreparedRequest] = []

    def answer(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Answered())

    archive._client.meta.events.register("before-send.s3.PutObject", answer)
    try:
        _put(archive, "ES/P-1/z.pdf", size)
    finally:
        archive.close()
    (request,) = sent
    assert request.headers["Content-Encoding"] == b"aws-chunked"  # the https path
    assert request.headers["X-Amz-Decoded-Content-Length"] == str(size).encode()
    assert ("Expect" in request.headers) is waits
