"""Property: whatever value lands in whatever field of a sample, validation either refuses
it (InvalidPayload, naming fields) or the document renders to HTML; nothing else escapes.

Hypothesis picks a leaf of a kind's sample and replaces it with hostile JSON: long, odd or
unprintable text, huge or tiny numbers, far dates, nulls, nested containers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correspondence.config import Settings
from correspondence.engine import Engine, locales_of
from correspondence.errors import InvalidPayload
from correspondence.kinds import KINDS, validate

_ENGINE = Engine(Settings())


def _leaves(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*at, k))] + ([at] if at else [])
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*at, i))] + [at]
    return [at]


def _set(payload: Any, path: tuple[Any, ...], value: Any) -> None:
    node = payload
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


_DATES = st.sampled_from(
    ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01", "2199-12-31", "2026-02-30", "x"]
)
_NUMBERS = st.sampled_from(
    ["1E+400", "1e30", "-0", "0.000000001", "999999999999.99", "1000000000000.00", "NaN", "abc"]
)
_TEXT = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=2_001, max_size=2_100),
    st.sampled_from(["株式会社", "🚀", "a\nb", "\u2028", "<b>&</b>", " ", ""]),
)
_HOSTILE = st.one_of(
    _DATES,
    _NUMBERS,
    _TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_hostile_value_anywhere_is_refused_or_rendered(kind: str, data: st.DataObject) -> None:
    payload = copy.deepcopy(KINDS[kind].sample())
    path = data.draw(st.sampled_from(_leaves(payload)), label="path")
    value = data.draw(_HOSTILE, label="value")
    _set(payload, path, value)
    try:
        validated = validate(payload)
    except InvalidPayload as refused:
        assert refused.problems
        for problem in refused.problems:
            problem.message.encode("utf-8")  # an answer we can send
        return
    locales = locales_of(validated)
    assert validated.doc.document.locale in locales
    for locale in locales:  # every locale whose language the payload's text is written in
        assert _ENGINE.html(validated, locale=locale, link_css=False)


def test_an_appeal_channel_without_its_email_is_refused() -> None:
    """Found by the hostile-value test above: the guide prints ``appeal.channel.email``,
    and an empty ``channel`` once passed validation and failed in the template."""
    payload = KINDS["claim_filing_guide"].sample()
    payload["appeal"]["channel"] = {"portal": "https://portal.example"}
    with pytest.raises(InvalidPayload) as refused:
        validate(payload)
    assert [p.field for p in refused.value.problems] == ["appeal.channel"]
    assert "email" in refused.value.problems[0].message
