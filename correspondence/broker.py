"""The broker side of scale-out: the Celery application's configuration and the
dispatcher that hands a queued document's id to the workers. It sends tasks by name, so
the API process never imports the worker's code (:mod:`correspondence.tasks`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from correspondence import logs
from correspondence.config import Settings

QUEUE = "correspondence"
ISSUE_TASK = "correspondence.issue"
CHECK_TIMEOUT_SECONDS = 2
RESTORE_LOOKS_PER_TIMEOUT = 60
"""How often, within one visibility timeout, a worker looks for the messages of workers
that vanished holding them (at most once a second)."""
REQUEST_ID_HEADER = "correspondence_request_id"
"""The task header carrying the id of the request that asked for the document, so that
the worker's lines carry it too (the issuer also reads it from the document's row)."""


def celery_app(settings: Settings) -> Any:
    """A Celery application for ``settings.broker_url``, configured so that a message is
    only gone once its document is issued or has failed for good: tasks are acknowledged
    late and rejected if their worker is lost."""
    from celery import Celery  # only with a broker: an API without one never loads Celery

    app = Celery("correspondence", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        worker_hijack_root_logger=False,
        # A child builds its service and warms its engine before it reports up (database,
        # migrations, fonts): seconds on a busy machine, beyond Celery's default of 4 s,
        # after which the child is killed and replaced, again and again.
        worker_proc_alive_timeout=60,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout_seconds,
            "unacked_restore_interval": restore_interval(settings),
            "unacked_restore_throttle": 1,
        },
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2},
    )
    return app


def restore_interval(settings: Settings) -> float:
    """Seconds between a worker's looks for messages to redeliver: a sixtieth of the
    visibility timeout, at least one. A message taken by a worker that vanished is due
    again after the timeout and is redelivered within a sixtieth more (an hour and a
    minute with the defaults; a 6-second timeout, as in the tests, is looked at every
    second). Its document is usually sent again before that: its lease is the same
    timeout, and the API's issuer sends a document whose lease has passed at its next
    poll (``worker_poll_seconds``); the later redelivery then finds it issued or taken.
    A warm shutdown and a lost child give their messages back at once, whatever this is.
    Each look takes a lock in Redis and reads the index of unacknowledged messages: once
    a second, about a fifth of a worker main process's samples in a profile during a
    batch (py-spy)."""
    return max(1.0, settings.broker_visibility_timeout_seconds / RESTORE_LOOKS_PER_TIMEOUT)


class Dispatcher:
    """What the service calls to hand a queued document to the workers."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, document_id: str) -> None:
        self._app.send_task(ISSUE_TASK, args=[document_id], queue=QUEUE, headers=_headers())

    def many(self, document_ids: Sequence[str]) -> tuple[int, Exception | None]:
        """Send one task per document, in order, over one broker connection, until the
        broker fails: how many it took, and why it stopped (``None``: it took them all)."""
        headers, sent = _headers(), 0
        try:
            with self._app.producer_or_acquire() as producer:
                for document_id in document_ids:
                    self._app.send_task(
                        ISSUE_TASK,
                        args=[document_id],
                        queue=QUEUE,
                        headers=headers,
                        producer=producer,
                    )
                    sent += 1
        except Exception as error:  # any broker failure: the rest are not tried
            return sent, error
        return sent, None

    def check(self) -> None:
        """Raise unless the broker answers now (readiness): a connection and a ``PING``,
        no retry, each socket operation bounded by :data:`CHECK_TIMEOUT_SECONDS` (kombu's
        Redis transport sets no socket timeout of its own: a silent broker would hold the
        check for ever). The first check also loads the broker's transport, which the
        first dispatch would otherwise load while a request waits."""
        limit = CHECK_TIMEOUT_SECONDS
        options = {
            **self._app.conf.broker_transport_options,
            "socket_connect_timeout": limit,
            "socket_timeout": limit,
        }
        with self._app.connection_for_write(
            connect_timeout=limit, transport_options=options
        ) as connection:
            connection.ensure_connection(max_retries=0, timeout=limit)

    def close(self) -> None:
        """Close the broker connections."""
        self._app.close()


def _headers() -> dict[str, str] | None:
    request_id = logs.context().get("request_id")
    return {REQUEST_ID_HEADER: str(request_id)} if request_id else None


def build_dispatch(settings: Settings) -> Dispatcher | None:
    """With a broker, the function that hands accepted documents to Celery workers."""
    if settings.broker_url is None:
        return None
    return Dispatcher(celery_app(settings))
