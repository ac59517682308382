"""Each sample in each locale looks as its committed reference images (tests/visual/visuals.py)."""

from __future__ import annotations

import pytest
from PIL import Image

from correspondence.engine import Engine
from tests.visual.visuals import ARTIFACTS, Case, cases, compare, differs

CASES = list(cases())


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_each_sample_looks_as_its_reference(engine: Engine, case: Case) -> None:
    problems = compare(engine, case)
    assert not problems, (
        "\n".join(problems) + "\nApprove with `make approve-visuals` once looked at."
    )


def test_a_changed_word_is_a_difference_and_noise_is_not() -> None:
    """The comparison flags a block of changed text, not a faint anti-aliasing change."""
    page = Image.new("L", (400, 560), 255)
    noisy = page.point(lambda v: v - 20)
    assert differs(page, noisy) is None
    word = page.copy()
    word.paste(0, (50, 50, 110, 60))
    diff = differs(page, word)
    assert diff is not None and diff.getpixel((60, 55)) == 0 and diff.getpixel((5, 5)) == 255
    assert ARTIFACTS.name == "visual"
