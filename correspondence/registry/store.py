"""The unit of work: one transaction of the registry, with the database's failures turned
into the service's errors (a database that is down is :class:`Unavailable`, a value it
cannot store is :class:`InvalidPayload`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from correspondence.errors import InvalidPayload, Problem, Unavailable

Database = Engine
"""A database connection pool (SQLAlchemy's engine)."""

Tx = Session
"""An open transaction, handed to the repository functions of this package."""

Collision = IntegrityError
"""A uniqueness the database refused (a concurrent insert of the same key)."""

_LEAVES_WORK = "leaves_work"


def leave_work(tx: Tx) -> None:
    """Mark ``tx`` as leaving work for the issuer loop (a webhook event, an email whose
    words are written): once it commits, the registry's :attr:`Registry.work_waiting` is
    set. Nothing happens if it rolls back. Not for use inside a savepoint
    (``begin_nested``, which the registry never opens): SQLAlchemy calls ``after_commit``
    when a savepoint is released too, which would wake the loop before the commit."""
    tx.info[_LEAVES_WORK] = True


class Registry:
    """Opens transactions on one database."""

    def __init__(self, database: Engine) -> None:
        self.database = database
        self._sessions = sessionmaker(database, expire_on_commit=False)
        self.work_waiting = threading.Event()
        """Set after each commit of a transaction marked by :func:`leave_work`: the issuer
        loop of this process starts its next pass then, rather than at its next poll.
        Work committed by another process (a Celery worker) is found by the poll."""
        event.listen(self._sessions, "after_commit", self._committed)

    def _committed(self, session: Session) -> None:
        if session.info.pop(_LEAVES_WORK, False):
            self.work_waiting.set()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction committed when the block ends, rolled back if it raises."""
        try:
            with self._sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as error:
            raise Unavailable(f"database: {error.orig or error}", dependency="database") from error
        except DataError as error:  # a value the database cannot store; rolled back
            raise InvalidPayload(
                [Problem("", f"a value cannot be stored: {error.orig or error}", "unstorable")]
            ) from None

    def ping(self) -> None:
        """Reach the database (:class:`Unavailable` if it cannot be)."""
        with self.transaction() as tx:
            tx.execute(text("SELECT 1"))
