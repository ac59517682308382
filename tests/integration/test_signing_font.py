"""The visible signature block's small font (issue 25: the block's cost).

``correspondence/assets/fonts/NotoSans-Regular-cp1252.ttf`` is the packaged
``NotoSans-Regular.ttf`` cut down with ``fontTools.subset`` to the characters of
Windows-1252 (:func:`derive`; run this file to write it again:
``.venv/bin/python -m tests.integration.test_signing_font``). The tests prove it: its
characters are exactly those, and each draws the very outline, at the very advance width,
of Noto Sans. A block whose text has a character outside it (a signer named in Polish
or Greek) is set in the whole of Noto Sans, and PDF/A's font checks hold both ways.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from fontTools import subset
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont

from correspondence import signature_field, signing
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from tests.signing_pki import make_pki, nss_database, pdfa_problems, pdfsig

REPERTOIRE = frozenset(
    bytes(range(0x20, 0x7F)).decode() + bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")
)
"""Windows-1252's printable characters: Latin-1's and its typographic punctuation."""


def derive(source: Path = signature_field.FONT) -> bytes:
    """``source`` subset to :data:`REPERTOIRE`: every name, no hinting, and no layout
    tables (GSUB, GPOS, GDEF: no kerning or ligatures, one glyph per character; reading
    them took pyHanko some 10 ms per signature). pyHanko subsets it again, per signature,
    to the glyphs a block uses."""
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF"]
    with TTFont(source) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(map(ord, REPERTOIRE)))
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


def _drawing(font: TTFont, char: str) -> tuple[int, list[object]]:
    name = font.getBestCmap()[ord(char)]
    glyphs = font.getGlyphSet()
    pen = DecomposingRecordingPen(glyphs)
    glyphs[name].draw(pen)
    return font["hmtx"][name][0], pen.value


def test_the_small_font_is_noto_sans_cut_to_windows_1252() -> None:
    with TTFont(signature_field.SMALL_FONT) as small, TTFont(signature_field.FONT) as full:
        assert set(map(chr, small.getBestCmap())) == REPERTOIRE
        assert len(REPERTOIRE) == 218
        for char in sorted(REPERTOIRE):
            assert _drawing(small, char) == _drawing(full, char), char
        assert small["name"].getDebugName(4) == full["name"].getDebugName(4)  # Noto Sans
        assert len(small.getGlyphOrder()) < len(full.getGlyphOrder()) / 10
        assert not {"GSUB", "GPOS", "GDEF"} & set(small.keys())
    assert signature_field.SMALL_FONT.stat().st_size < 20_000


def test_derive_makes_the_same_font() -> None:
    with TTFont(io.BytesIO(derive())) as again, TTFont(signature_field.SMALL_FONT) as small:
        assert again.getGlyphOrder() == small.getGlyphOrder()
        for char in sorted(REPERTOIRE):
            assert _drawing(again, char) == _drawing(small, char), char


@pytest.mark.parametrize(
    ("signer", "small"),
    [
        ("Fictia Seguros de Crédito, S.A. de C.V. — Firma", True),
        ("Łukasz Żółć (Gdańsk)", False),  # Latin Extended-A: not in Windows-1252
        ("Σοφία Παπαδοπούλου", False),
    ],
)
def test_the_block_uses_the_small_font_unless_a_character_is_outside_it(
    signer: str, small: bool, engine: Engine, tmp_path: Path
) -> None:
    assert (set(signer) <= REPERTOIRE) is small
    pki = make_pki(tmp_path / "pki", signer_name=signer)
    settings = Settings(**pki.settings(signing_visible_box=(36, 24, 336, 64)))  # type: ignore[arg-type]
    signer_ = signing.from_settings(settings)
    assert signer_ is not None
    unsigned = engine.render(engine.validate(KINDS["credit_limit_decision"].sample())).pdf
    signed = signer_.sign(unsigned).pdf
    assert pdfa_problems(signed, unsigned) == []
    pdf = pikepdf.open(io.BytesIO(signed))
    widget = pdf.Root.AcroForm.Fields[-1]
    fonts = list(widget.AP.N.Resources.Font.values())
    assert len(fonts) == 1 and "/ToUnicode" in fonts[0]
    descendant = fonts[0].DescendantFonts[0]
    embedded = TTFont(io.BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
    drawn = [name for name in embedded.getGlyphOrder() if embedded["glyf"][name].numberOfContours]
    assert 10 < len(drawn) < 60  # a subset: the glyphs the block shows
    unicode_map = fonts[0].ToUnicode.read_bytes().decode("latin-1").upper()
    for char in set(signer) - {" "}:
        assert f"<{ord(char):04X}>" in unicode_map, char
    target = tmp_path / "signed.pdf"
    target.write_bytes(signed)
    assert "Signature is Valid." in pdfsig(target, nss_database(tmp_path / "nss", pki.ca_file))
    style = signature_field.stamp_style(SimpleNamespace(root={"/Lang": "en-GB"}), signer)
    chosen = signature_field.SMALL_FONT if small else signature_field.FONT
    assert style.text_box_style.font.font_file == str(chosen)


if __name__ == "__main__":
    signature_field.SMALL_FONT.write_bytes(derive())
    print(f"wrote {signature_field.SMALL_FONT} ({signature_field.SMALL_FONT.stat().st_size} B)")
