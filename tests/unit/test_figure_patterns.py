"""The short ways through the check that free text states no figure: a text with no digit
skips the six patterns, and the month names are searched as a tree of prefixes. Each is
checked against what it replaces: the first from the patterns' own parse, the second
against the plain alternation of the same names."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from correspondence.free_text import _FIGURES, MONTH_NAMES, _no_figures, as_trie

try:  # Python 3.11 keeps the parser here (sre_parse is deprecated)
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]


def _needs_digit(items: Any) -> bool:
    """Whether every string a parsed sequence matches holds a ``\\d``."""
    return any(_item_needs_digit(op, arg) for op, arg in items)


def _item_needs_digit(op: Any, arg: Any) -> bool:
    if op is C.IN:
        return list(arg) == [(C.CATEGORY, C.CATEGORY_DIGIT)]
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        low, _high, body = arg
        return low >= 1 and _needs_digit(body)
    if op is C.SUBPATTERN:
        return _needs_digit(arg[-1])
    if op is C.BRANCH:
        return all(_needs_digit(branch) for branch in arg[1])
    return False


@pytest.mark.parametrize(("what", "pattern"), _FIGURES, ids=[p.pattern[:30] for _, p in _FIGURES])
def test_every_figure_pattern_needs_a_digit(what: str, pattern: re.Pattern[str]) -> None:
    """So a text without one cannot match any, and is passed over in one search."""
    assert _needs_digit(parser.parse(pattern.pattern, pattern.flags))


def test_the_digit_proof_is_not_vacuous() -> None:
    """The walk says no where a digit is optional, in one branch only, or absent."""
    for source in (r"\d?x", r"a|\d", r"[$€]\s", r"(?:\d{0,2})y", r"\D+"):
        assert not _needs_digit(parser.parse(source)), source
    for source in (r"x\d", r"(?:a\d|\d{2}b)", r"\b\d{1,2}\.?\s"):
        assert _needs_digit(parser.parse(source)), source


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=80))
def test_a_text_without_digits_passes_as_the_six_patterns_would_let_it(text: str) -> None:
    assert not any(p.search(text) for _, p in _FIGURES)
    assert _no_figures(text) == text


PLAIN = "|".join(MONTH_NAMES)


def _pieces(rng: random.Random) -> str:
    words = [*MONTH_NAMES, "de", "del", "mes", "sep", "ma", "jul", "marzos", "mayor", "x"]
    parts = []
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if choice < 0.45:
            word = rng.choice(words)
            cut = rng.randint(1, len(word)) if rng.random() < 0.2 else len(word)
            word = word[:cut]
            parts.append(word.upper() if rng.random() < 0.2 else word)
        elif choice < 0.8:
            number = rng.choice([rng.randint(1, 31), rng.randint(1990, 2030), rng.randrange(10**5)])
            parts.append(str(number))
        else:
            parts.append(rng.choice([".", ",", "-", "/", "º"]))
        parts.append(rng.choice([" ", " ", " de ", "  ", ". ", "", "\n"]))
    return "".join(parts)


def test_the_month_tree_matches_exactly_the_names() -> None:
    tree = re.compile(f"(?:{as_trie(MONTH_NAMES)})")
    for name in MONTH_NAMES:
        assert tree.fullmatch(name), name
    for near in ("ab", "abri", "agos", "septi", "setiem", "juli", "noviem", "m", ""):
        assert tree.fullmatch(near) is None, near


@pytest.mark.parametrize(
    ("template", "flags"),
    [
        (r"\b\d{{1,2}}\.?\s+(?:de\s+)?(?:{months})\b", re.I),
        (r"\b(?:{months})\.?\s+(?:de\s+)?\d{{1,4}}\b", re.I),
    ],
)
def test_the_month_tree_finds_what_the_plain_alternation_finds(template: str, flags: int) -> None:
    """The same match (where it starts and ends) in 4,000 texts made of month names,
    their beginnings, numbers and punctuation, in one seeded run. (Alone, the two differ:
    the alternation takes the first name that fits, "sep" in "sept", the tree the longest;
    in the date patterns a name is followed by a word's end, so only one fits.)"""
    plain = re.compile(template.format(months=PLAIN), flags)
    tree = re.compile(template.format(months=as_trie(MONTH_NAMES)), flags)
    rng = random.Random(20261201)
    found = 0
    for _ in range(4000):
        text = _pieces(rng)
        expected, got = plain.search(text), tree.search(text)
        assert (expected and expected.span()) == (got and got.span()), text
        found += expected is not None
    assert found > 200  # the texts do hold dates


def test_the_date_patterns_use_the_tree() -> None:
    """What the validator searches with is the tree, not the plain alternation."""
    sources = [p.pattern for what, p in _FIGURES if what == "a date"]
    assert sum(as_trie(MONTH_NAMES) in s for s in sources) == 2
    assert not any(PLAIN in s for s in sources)
