"""No text of ours asks Pango for OpenType features (issue 26, soak).

WeasyPrint 70 makes a Pango attribute list for every text laid out with a font feature
and never frees it, and makes a new attribute each time even when it keeps one per
feature string: with Pango 1.50 that was 5.2 kB of memory leaked per letter rendered
(heaptrack: allocations from ``pango_layout_get_line_readonly`` never freed), all from
the tabular figures WeasyPrint's user-agent sheet sets on list markers. Our stylesheet
turns them off (Noto Sans's figures are one width anyway: the PDFs did not change by a
byte). This walks every laid-out text of every sample and asks WeasyPrint's own
``font_features`` what it would hand Pango.
"""

from __future__ import annotations

import pytest
import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import font_features

from correspondence.engine import Engine, locales_of
from correspondence.kinds import KINDS
from correspondence.pdf import ASSETS_DIR

FEATURE_PROPERTIES = (
    "font_kerning",
    "font_variant_ligatures",
    "font_variant_position",
    "font_variant_caps",
    "font_variant_numeric",
    "font_variant_alternates",
    "font_variant_east_asian",
    "font_feature_settings",
)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_laid_out_text_asks_for_a_font_feature(engine: Engine, kind: str) -> None:
    validated = engine.validate(KINDS[kind].sample())
    locale = locales_of(validated)[0]
    html = engine.html(validated, locale=locale, asset_base=ASSETS_DIR.as_uri() + "/")
    document = weasyprint.HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/").render()
    texts = [
        box
        for page in document.pages
        for box in page._page_box.descendants(placeholders=True)
        if isinstance(box, boxes.TextBox)
    ]
    markers = [box for box in texts if box.element_tag.endswith("::marker")]
    assert len(texts) > 50
    asking = {
        (box.element_tag, box.text[:20])
        for box in texts
        if font_features(*(box.style[name] for name in FEATURE_PROPERTIES))
    }
    assert asking == set()
    if kind in ("claim_filing_guide", "renewal_pack"):
        assert markers  # lists with markers were laid out, and asked for nothing
