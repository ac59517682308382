"""Which characters the packaged fonts draw (read once from their cmaps with HarfBuzz).

The documents are set in two packaged families (``assets/css/document.css``): "Doc Sans",
Noto Sans in regular, bold and italic (Latin, Greek, Cyrillic), and "Doc CJK", a subset
of Noto Sans CJK SC in regular (Chinese, Japanese, Korean). A character is drawable when
every face of Doc Sans draws it (any text may be set in any of them), or Doc CJK does
(its one face stands in for every weight and style). Anything else is refused at
validation, naming the field, before a number is reserved: the renderer never reaches for
a system font, and never fails halfway.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FONTS_DIR = Path(__file__).parent / "assets" / "fonts"
FAMILIES = {
    "Doc Sans": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSans-Italic.ttf"),
    "Doc CJK": ("NotoSansCJKsc-Regular.otf",),
}
WHITE_SPACE = frozenset("\t\n\r")


def _cmap(name: str) -> set[int]:
    """The code points face ``name`` maps to a glyph. HarfBuzz reads the cmap in C: 0.4 ms
    for a Noto Sans face and 1.7 ms for Doc CJK, where fontTools' ``getBestCmap`` (the same
    set: a test compares them) takes 7-11 ms and 91 ms, a tenth of a cold render."""
    import uharfbuzz

    return set(uharfbuzz.Face(uharfbuzz.Blob.from_file_path(str(FONTS_DIR / name))).unicodes)


@cache
def _family(family: str) -> frozenset[str]:
    """The characters every face of ``family`` draws."""
    return frozenset(map(chr, set.intersection(*(_cmap(face) for face in FAMILIES[family]))))


@cache
def drawable() -> frozenset[str]:
    """Every character some packaged family draws in all its faces, and the white space a
    text may hold."""
    return frozenset().union(*(_family(family) for family in FAMILIES)) | WHITE_SPACE


@cache
def _sans_or_space() -> frozenset[str]:
    return _family("Doc Sans") | WHITE_SPACE


def undrawable(text: str) -> list[str]:
    """The distinct characters of ``text`` that no packaged font draws, in order.

    The families are read in order, each only if a character is still missing: Latin text
    never reads Doc CJK's character map (fourteen thousand characters, most of the time
    a cold ``correspondence render`` spent here). Text that Doc Sans draws whole (Latin,
    Greek, Cyrillic) is answered by one set comparison in C."""
    if _sans_or_space().issuperset(text):
        return []
    missing = [c for c in dict.fromkeys(text) if c not in WHITE_SPACE]
    for family in FAMILIES:
        if not missing:
            break
        drawn = _family(family)
        missing = [c for c in missing if c not in drawn]
    return missing
