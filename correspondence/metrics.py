"""Prometheus metrics: what the service did, counted where it happens.

Counters and histograms are process-wide (``prometheus_client``'s default registry). A
process started with ``PROMETHEUS_MULTIPROC_DIR`` set (Celery workers, several API
processes) writes them to that folder, and ``/metrics`` then aggregates every process's
files. What is true of the registry rather than of one process (documents and deliveries
by status, queue depth, the oldest queued document's age) is read from the database at
scrape time through a ``Snapshot`` callback, so every process reports the same figures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PREFIX = "correspondence"

DOCUMENTS = Counter(
    f"{PREFIX}_documents_total",
    "Documents that reached a final state in this process, by kind and status.",
    ["kind", "status"],
)
RENDER_SECONDS = Histogram(
    f"{PREFIX}_render_seconds",
    "Time to render one document to PDF, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DELIVERIES = Counter(
    f"{PREFIX}_deliveries_total",
    "Deliveries that reached a final state (sent, failed), by status.",
    ["status"],
)
RETRIES = Counter(
    f"{PREFIX}_retries_total",
    "Work scheduled again after a failure, by what is retried and its cause.",
    ["what", "cause"],
)
DEPENDENCY_ERRORS = Counter(
    f"{PREFIX}_dependency_errors_total",
    "Errors talking to a dependency: archive, broker, database, renderers, smtp, "
    "timestamp_authority, webhook.",
    ["dependency"],
)
WORKER_RESTARTS = Counter(
    f"{PREFIX}_worker_restarts_total",
    "Render worker processes replaced, by reason (died, recycled).",
    ["reason"],
)
STAGE_SECONDS = Histogram(
    f"{PREFIX}_issue_stage_seconds",
    "Time one accepted document spends in each stage of issuing but the render: queue "
    "(accepted until first taken), reserve and record (registry transactions), sign, "
    "archive.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
WEBHOOK_EVENTS = Counter(
    f"{PREFIX}_webhook_events_total",
    "Webhook event sends, by outcome (sent, retried, expired).",
    ["outcome"],
)


_PROCESS_METRICS = (
    DOCUMENTS,
    RENDER_SECONDS,
    DELIVERIES,
    RETRIES,
    DEPENDENCY_ERRORS,
    WORKER_RESTARTS,
    WEBHOOK_EVENTS,
    STAGE_SECONDS,
)


@dataclass(frozen=True)
class Snapshot:
    """The registry's state at scrape time."""

    documents: dict[tuple[str, str], int] = field(default_factory=dict)
    """(kind, status) → count."""
    deliveries: dict[str, int] = field(default_factory=dict)
    """status → count."""
    queued: int = 0
    oldest_queued_seconds: float = 0.0


class RegistryCollector(Collector):
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self._snapshot()
        documents = GaugeMetricFamily(
            f"{PREFIX}_registry_documents",
            "Documents in the registry, by kind and status.",
            labels=["kind", "status"],
        )
        for (kind, status), count in sorted(state.documents.items()):
            documents.add_metric([kind, status], count)
        yield documents
        deliveries = GaugeMetricFamily(
            f"{PREFIX}_registry_deliveries",
            "Deliveries in the registry, by status.",
            labels=["status"],
        )
        for status, count in sorted(state.deliveries.items()):
            deliveries.add_metric([status], count)
        yield deliveries
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "Documents accepted and not yet issued.", value=state.queued
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_seconds",
            "Age of the oldest document accepted and not yet issued (0 when none).",
            value=state.oldest_queued_seconds,
        )


def exposition(snapshot: Callable[[], Snapshot]) -> tuple[bytes, str]:
    """The text a scrape receives, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in _PROCESS_METRICS:
            registry.register(collector)
    registry.register(RegistryCollector(snapshot))
    return generate_latest(registry), CONTENT_TYPE_LATEST


@contextmanager
def _observed(histogram: Histogram) -> Iterator[None]:
    """Observe the block's duration in ``histogram`` (one labelled child)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


def timed(kind: str) -> AbstractContextManager[None]:
    """Observe the block's duration in ``render_seconds`` for ``kind``."""
    return _observed(RENDER_SECONDS.labels(kind=kind))


Stage = Literal["queue", "reserve", "sign", "archive", "record"]


def stage(name: Stage) -> AbstractContextManager[None]:
    """Observe the block's duration in ``issue_stage_seconds`` for ``name``."""
    return _observed(STAGE_SECONDS.labels(stage=name))
