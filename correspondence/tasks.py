"""Scale-out: accepted documents issued by Celery workers over a Redis broker.

Turned on by ``CORRESPONDENCE_BROKER_URL``. The API records an accepted document as
``queued`` and sends its id to the broker; any ``correspondence worker`` process on any
machine takes it and runs :meth:`Service.issue_accepted`, the same code path as the
embedded issuer. The registry stays the source of truth:

* tasks are acknowledged late and rejected if their worker is lost, so a message is only
  gone once its document is issued or has failed for good;
* a duplicate delivery finds the document ``issued`` (or locked) and does nothing, so a
  document is issued at most once, whatever the broker redelivers;
* a dependency that is down (archive, database) is retried with exponential backoff;
* should a message be lost altogether, the API's issuer sends it again after the
  broker's visibility timeout.

Each worker child process builds its service once (database pool, archive client, warm
engine, its long-lived objects frozen out of the garbage collector's full collections)
and renders in-process: Celery's prefork pool already gives one process per core.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from correspondence import font_folders, logs
from correspondence.bootstrap import build_service
from correspondence.broker import ISSUE_TASK, QUEUE, REQUEST_ID_HEADER, celery_app
from correspondence.config import Settings
from correspondence.errors import Unavailable
from correspondence.render_worker import settle
from correspondence.renderers import EnginePool
from correspondence.service import Service

LOG = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 1.0


def build_celery(settings: Settings) -> Any:
    """The Celery application for ``settings.broker_url``, with the issue task."""
    app = celery_app(settings)
    app.task(
        name=ISSUE_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,
    )(_issue)
    return app


def _issue(task: Any, document_id: str) -> str:
    """Issue one accepted document; retry later if a dependency is down or it is busy.
    Its lines carry the document id and the id of the request that asked for it."""
    headers = getattr(task.request, "headers", None) or {}
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or headers.get(REQUEST_ID_HEADER)
    bound = {"request_id": str(request_id)[:64]} if request_id else {}
    with logs.bound(document_id=document_id, **bound):
        return _issue_bound(task, document_id)


def _issue_bound(task: Any, document_id: str) -> str:
    service = _worker_service()
    try:
        attempt = service.issue_accepted(document_id)
    except Unavailable as error:  # the database itself is down
        delay = service.settings.retry_delay(int(task.request.retries) + 1)
        raise task.retry(countdown=delay, exc=error) from None
    if attempt.outcome == "retry":
        raise task.retry(countdown=attempt.delay)
    if attempt.outcome == "busy":  # another worker holds it; look again shortly
        raise task.retry(countdown=BUSY_RETRY_SECONDS)
    LOG.info("document %s: %s", document_id, attempt.outcome)
    return str(attempt.outcome)


# --- inside a worker child ----------------------------------------------------------------

_SERVICE: Service | None = None


def _start_child(**_: Any) -> None:
    """Build this child's service once, before its first task, and settle its engine
    (warmed, then frozen out of the garbage collector's full collections)."""
    renderers = _worker_service().renderers
    if isinstance(renderers, EnginePool):
        with renderers.lease() as engine:
            settle(engine)
    LOG.info("worker child %d ready", os.getpid())


def _stop_child(**_: Any) -> None:
    """A child's last act (it then ends by ``os._exit``, past ``atexit``): remove its font
    folder. A child that is killed leaves it to the next child's start to sweep."""
    font_folders.release_all()


def _worker_service() -> Service:
    global _SERVICE
    if _SERVICE is None:
        settings = Settings(render_processes=0)  # this process is the worker
        _SERVICE = build_service(settings)
    return _SERVICE


def run_worker(settings: Settings, *, concurrency: int | None = None, name: str = "") -> None:
    """Start a Celery worker (``correspondence worker``, ``make worker``)."""
    if settings.broker_url is None:
        raise SystemExit("set CORRESPONDENCE_BROKER_URL to run a worker")
    import correspondence.engine  # noqa: F401 - warm: children fork with WeasyPrint loaded

    app = build_celery(settings)
    # Each child builds its service before its first task (children fork after this).
    worker_process_init.connect(_start_child, weak=False)
    worker_process_shutdown.connect(_stop_child, weak=False)
    processes = concurrency or settings.worker_concurrency or os.cpu_count() or 1
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={processes}",
        "--pool=prefork",
        f"--queues={QUEUE}",
        "--without-gossip",
        "--without-mingle",
    ]
    if name:
        argv.append(f"--hostname={name}@%h")
    app.worker_main(argv)
