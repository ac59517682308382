"""Readiness: each dependency checked on its own, so a ``503`` names the one that failed.

- ``database``: a round trip to the registry;
- ``archive``: the archive answers;
- ``renderers``: every render worker has started and rendered once (not merely one
  worker), and this process has validated every kind once, so the first request after
  ready waits for nothing the next ones do not (``bench/first_request.py``);
- ``broker``: with a broker (``broker_url``), it answers a connection and ``PING``;
- ``mail``: with SMTP, the server answers a connection and ``NOOP`` (not checked for the
  outbox folder).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from correspondence import metrics
from correspondence.errors import Unavailable

LOG = logging.getLogger(__name__)
OK = "ok"


def _renderers_warm(renderers: Any) -> None:
    renderers.check()
    alive = getattr(renderers, "alive", None)
    if alive is not None and (ready := alive()) < renderers.size:
        raise Unavailable(f"starting: {ready} of {renderers.size} render workers ready")
    warmed = getattr(renderers, "warmed", None)
    if warmed is not None and not warmed():
        raise Unavailable("warming: the first validation and render are not done yet")


def checks(service: Any) -> dict[str, str]:
    """Each dependency's state: ``"ok"`` or why not (never raises)."""
    probes: dict[str, Callable[[], object]] = {
        "database": service.registry.ping,
        "archive": service.archive.check,
        "renderers": lambda: _renderers_warm(service.renderers),
    }
    broker_check = getattr(service.dispatch, "check", None)
    if broker_check is not None:
        probes["broker"] = broker_check
    mail_check = getattr(service.mailer, "check", None)
    if mail_check is not None:
        probes["mail"] = mail_check
    states: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe()
            states[name] = OK
        except Exception as error:  # any failure is that dependency's state
            states[name] = str(error)[:300] or type(error).__name__
            if name in ("database", "archive", "broker"):
                metrics.DEPENDENCY_ERRORS.labels(dependency=name).inc()
            elif name == "mail":
                metrics.DEPENDENCY_ERRORS.labels(dependency="smtp").inc()
            LOG.warning("readiness.failed", extra={"dependency": name, "reason": states[name]})
    return states
