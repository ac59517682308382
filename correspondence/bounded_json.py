"""The one parser of JSON that comes from outside: request bodies (with their ``reissue``
and ``deliver`` blocks), NDJSON batch lines, the staff UI's compose form and the CLI's files.

Python's ``json`` takes anything it can hold: 10,000 nested arrays (then the next
recursive step over them overflows the stack), an integer of 5,000 digits (``int`` refuses
it with a ``ValueError``), ``1e999`` (a float infinity), a lone UTF-16 surrogate escaped as
``"\\ud800"`` (a ``str`` that cannot be encoded back to UTF-8 when we answer). Here each
of these is refused as :class:`InvalidPayload`, with the path of the value when there is
one, before anything else looks at the data:

- bytes must be UTF-8;
- at most :data:`MAX_DEPTH` levels of objects and arrays;
- at most :data:`MAX_STRING` characters in one string (keys included), no lone surrogate;
- at most :data:`MAX_NUMBER_CHARS` characters in one number, and no ``NaN`` or
  ``Infinity`` (not JSON, though Python accepts them).

Field-level bounds (a name's length, an amount's digits) are the models' business; these
bounds only keep what reaches the models small enough to be validated at all.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from correspondence.errors import InvalidPayload, Problem

MAX_DEPTH = 32
"""Levels of nested objects and arrays (the deepest payload model has about 8)."""
MAX_STRING = 20_000
"""Characters in one string (the longest model field allows 2,000)."""
MAX_NUMBER_CHARS = 40
"""Characters of one JSON number, sign and exponent included."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _number(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise _Refused(
                Problem(
                    "",
                    f"holds a number of {len(text)} characters; at most {MAX_NUMBER_CHARS}",
                    "number_too_long",
                )
            )
        value = kind(text)
        if isinstance(value, float) and not math.isfinite(value):
            raise _Refused(Problem("", f"holds the number {text}, out of range", "number_range"))
        return value

    return parse


def _constant(name: str) -> Any:
    raise _Refused(Problem("", f"holds {name}, which is not JSON", "invalid_json"))


def _path(parts: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in parts)


def _check(value: Any) -> None:
    """Walk ``value`` without recursion: depth, string lengths, surrogates."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        node, at = stack.pop()
        if isinstance(node, str):
            _check_text(node, at)
            continue
        if not isinstance(node, dict | list):
            continue
        if len(at) >= MAX_DEPTH:
            raise _Refused(Problem(_path(at), f"nests deeper than {MAX_DEPTH} levels", "too_deep"))
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key, at, key=True)
                stack.append((item, (*at, key)))
        else:
            stack.extend((item, (*at, i)) for i, item in enumerate(node))


def _check_text(text: str, at: tuple[str | int, ...], *, key: bool = False) -> None:
    what = "a key" if key else "a text"
    if len(text) > MAX_STRING:
        raise _Refused(
            Problem(
                _path(at),
                f"holds {what} of {len(text)} characters; at most {MAX_STRING}",
                "too_long",
            )
        )
    found = _SURROGATE.search(text)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise _Refused(
            Problem(
                _path(at),
                f"holds {what} with the lone surrogate {code} at {found.start()}, "
                "which is not a character",
                "surrogate",
            )
        )


def loads(data: bytes | str, subject: str = "the body") -> Any:
    """``data`` parsed as JSON within the bounds above; :class:`InvalidPayload` otherwise.

    Messages start with ``subject`` (``"the body is not JSON: …"``, ``"line 4 is not
    UTF-8: …"``)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = data[error.start : error.start + 1].hex()
            raise InvalidPayload(
                [Problem("", f"{subject} is not UTF-8: byte 0x{bad} at {error.start}", "encoding")]
            ) from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            parse_int=_number(int),
            parse_float=_number(float),
            parse_constant=_constant,
        )
        _check(value)
    except json.JSONDecodeError as error:
        message = f"{subject} is not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        raise InvalidPayload([Problem("", message, "invalid_json")]) from None
    except RecursionError:
        message = f"{subject} nests deeper than {MAX_DEPTH} levels"
        raise InvalidPayload([Problem("", message, "too_deep")]) from None
    except _Refused as refused:
        problem = refused.problem
        raise InvalidPayload(
            [Problem(problem.field, f"{subject} {problem.message}", problem.error)]
        ) from None
    return value
