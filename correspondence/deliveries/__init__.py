"""Email deliveries of issued documents: recorded with the request that asks for them
(:mod:`.recipients`), asked for and read by clients (:mod:`.requests`), sent by the sender
loop (:mod:`.sender`)."""

from __future__ import annotations

from correspondence.deliveries.recipients import enqueue, parse_recipients
from correspondence.results import AttemptInfo, DeliveryInfo, Recipients

__all__ = ["AttemptInfo", "DeliveryInfo", "Recipients", "enqueue", "parse_recipients"]
