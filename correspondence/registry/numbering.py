"""Gapless numbering: each series and year counts up by one in a row of its own, locked
for the length of the caller's transaction (``INSERT … ON CONFLICT DO UPDATE …
RETURNING``: one statement, whether the series is new or not), so two documents
never share a number and a rolled-back transaction gives its number back."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from correspondence.errors import Conflict, InvalidPayload, Problem
from correspondence.kinds import SEQUENCE_MAX, STATED_AHEAD_MAX, NumberRequest
from correspondence.registry.models import Document, NumberSeries
from correspondence.registry.store import Tx


def allocate(tx: Tx, request: NumberRequest) -> str:
    """Lock the series row and take the next number, or record the stated one."""
    postgres = tx.get_bind().dialect.name == "postgresql"
    insert = pg_insert if postgres else sqlite_insert
    if request.stated is None:  # one statement: the series' first number, or its next
        first = insert(NumberSeries).values(series=request.series, year=request.year, last=1)
        last = tx.execute(
            first.on_conflict_do_update(
                index_elements=[NumberSeries.series, NumberSeries.year],
                set_={"last": NumberSeries.last + 1},
            ).returning(NumberSeries.last)
        ).scalar_one()
        if last > SEQUENCE_MAX:  # the transaction rolls back: the series stays as it was
            raise InvalidPayload(
                [
                    Problem(
                        request.field.replace("number", "series"),
                        f"series {request.series} has no number left for {request.year}: "
                        f"{request.format(SEQUENCE_MAX)} was the last",
                        "series_exhausted",
                    )
                ]
            )
        return request.format(last)
    tx.execute(
        insert(NumberSeries)
        .values(series=request.series, year=request.year, last=0)
        .on_conflict_do_nothing()
    )
    series = (NumberSeries.series == request.series, NumberSeries.year == request.year)
    sequence = request.sequence_of(request.stated)
    current = tx.execute(  # take the series lock before checking anything
        update(NumberSeries)
        .where(*series)
        .values(last=NumberSeries.last)
        .returning(NumberSeries.last)
    ).scalar_one()
    if sequence > current + STATED_AHEAD_MAX:
        highest = request.format(min(current + STATED_AHEAD_MAX, SEQUENCE_MAX))
        raise InvalidPayload(
            [
                Problem(
                    request.field,
                    f"{request.stated} is beyond the range series {request.series} can take "
                    f"now: a stated number runs at most {STATED_AHEAD_MAX} ahead of the "
                    f"series' last number, so up to {highest}",
                    "number_range",
                )
            ]
        )
    tx.execute(update(NumberSeries).where(*series).values(last=max(current, sequence)))
    taken = tx.scalar(select(Document.id).where(Document.number == request.stated))
    if taken is not None:
        raise Conflict(f"invoice number {request.stated} was already issued ({taken})")
    return request.stated
