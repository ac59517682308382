# mypy: disable-error-code="no-untyped-call"
# (pyHanko's PDF object constructors are not annotated.)
"""The signature field as PDF/A-3 and PDF/UA-1 want it, added to the signing revision.

pyHanko adds a signature field whose widget annotation is in no structure tree, and, when
invisible, has no appearance stream. Before :mod:`correspondence.signing` signs, this
module adds the field to the same incremental update (pyHanko's
``IncrementalPdfFileWriter``), and in that update also:

* a ``/Form`` structure element, last in the document's, whose content is the widget (an
  object reference, ``/OBJR``), with the widget's ``/StructParent`` entered in the parent
  tree (PDF/UA-1 7.18.4, ISO 32000-1 14.8.4.5);
* the field's ``/TU`` and the element's ``/Alt``: what the field is, in the document's
  language ("Digital signature of …", "Firma digital de …");
* an appearance stream for an invisible widget (an empty form of zero size), and the
  print flag on every widget, never the hidden one (PDF/A-3 6.3.2, 6.3.3).

The visible block's text is set in a packaged font, embedded as a subset
(:func:`stamp_style`). Only :mod:`correspondence.signing` calls this module, lazily, like
everything that imports pyHanko.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

FONT = Path(__file__).parent / "assets" / "fonts" / "NotoSans-Regular.ttf"
"""The visible signature block's font for text :data:`SMALL_FONT` cannot set (embedded as
a subset, as PDF/A requires)."""
SMALL_FONT = FONT.with_name("NotoSans-Regular-cp1252.ttf")
"""The block's usual font: :data:`FONT` cut down to the characters of Windows-1252 (Latin-1
and its typographic punctuation), 222 glyphs instead of 3,317 and no layout tables (no
kerning or ligatures), which pyHanko subsets for every signature in about 10 ms of CPU
instead of some 250. Derived and checked by ``tests/integration/test_signing_font.py``."""
_TIME_SAMPLE = "0123456789-: UTC"

_WORDS = {
    "es": ("Firma digital de {signer}", "Firmado digitalmente por %(signer)s\nFecha: %(ts)s"),
    "en": ("Digital signature of {signer}", "Digitally signed by %(signer)s\nTime: %(ts)s"),
}
_PRINT, _HIDDEN, _LOCKED = 0b100, 0b10, 0b10000000


def language(writer: Any) -> str:
    """``es`` or ``en``: the language of the document's ``/Lang`` (English otherwise)."""
    lang = str(writer.root.get("/Lang", "en"))
    return "es" if lang.lower().startswith("es") else "en"


def description(writer: Any, signer: str) -> str:
    """What the field is, for the field's ``/TU`` and its structure element's ``/Alt``."""
    return _WORDS[language(writer)][0].format(signer=signer)


def stamp_style(writer: Any, signer: str) -> Any:
    """pyHanko's text stamp for the visible block: no background art, the text in the
    document's language, set in :data:`SMALL_FONT` when it draws every character of it
    (``signer`` is the name the block prints), else in :data:`FONT`."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    lang = language(writer)
    text = _WORDS[lang][1] % {"signer": signer, "ts": _TIME_SAMPLE}
    font = SMALL_FONT if set(text) - {"\n"} <= _characters(SMALL_FONT) else FONT
    return TextStampStyle(
        stamp_text=_WORDS[lang][1],
        text_box_style=TextBoxStyle(font=_font_factory(font)(str(font), bcp47_lang_code=lang)),
        timestamp_format="%Y-%m-%d %H:%M:%S UTC",
    )


@functools.cache
def _characters(font: Path) -> frozenset[str]:
    """The characters ``font`` maps to a glyph."""
    from fontTools.ttLib import TTFont

    with TTFont(font, lazy=True) as face:
        return frozenset(map(chr, face.getBestCmap()))


@functools.cache
def _font_factory(font: Path) -> Any:
    """pyHanko's ``GlyphAccumulatorFactory`` with ``font``'s bytes read once (pyHanko's
    opens the file for every signature and never closes it)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    data = font.read_bytes()

    class PackagedFont(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(data),
                font_size=self.font_size,
                ot_script_tag=self.ot_script_tag,
                ot_language_tag=self.ot_language_tag,
                writing_direction=self.writing_direction,
                bcp47_lang_code=self.bcp47_lang_code,
                obj_stream=obj_stream,
            )

    return PackagedFont


def add(writer: Any, *, name: str, box: tuple[int, int, int, int] | None, alt: str) -> None:
    """Add the signature field ``name`` on the last page, tagged (see the module's
    docstring), to ``writer``'s revision: invisible without ``box``."""
    from pyhanko.pdf_utils import generic
    from pyhanko.sign import fields

    spec = fields.SigFieldSpec(name, on_page=-1, box=box, readable_field_name=alt)
    fields.append_signature_field(writer, spec)
    field_ref = next(
        ref for ref in writer.root["/AcroForm"]["/Fields"] if ref.get_object().get("/T") == name
    )
    widget = field_ref.get_object()
    flags = int(widget.get("/F", 0))
    widget["/F"] = generic.NumberObject((flags | _PRINT | _LOCKED) & ~_HIDDEN)
    if "/AP" not in widget:
        empty = generic.StreamObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/XObject"),
                generic.pdf_name("/Subtype"): generic.pdf_name("/Form"),
                generic.pdf_name("/BBox"): generic.ArrayObject([generic.NumberObject(0)] * 4),
            },
            stream_data=b"",
        )
        widget["/AP"] = generic.DictionaryObject({generic.pdf_name("/N"): writer.add_object(empty)})
    _tag(writer, field_ref, widget, alt)


def _tag(writer: Any, field_ref: Any, widget: Any, alt: str) -> None:
    """A ``/Form`` element for ``widget``, last in the document's structure."""
    from pyhanko.pdf_utils import generic

    name = generic.pdf_name
    if "/StructTreeRoot" not in writer.root:
        return  # an untagged PDF (none that we render)
    tree = writer.root["/StructTreeRoot"]
    tops = tree["/K"]
    top_ref = tops.raw_get(0) if isinstance(tops, generic.ArrayObject) else tree.raw_get("/K")
    top = top_ref.get_object()
    page_ref = widget.raw_get("/P")
    key = _next_key(tree)
    widget["/StructParent"] = generic.NumberObject(key)
    form_ref = writer.add_object(
        generic.DictionaryObject(
            {
                name("/Type"): name("/StructElem"),
                name("/S"): name("/Form"),
                name("/P"): top_ref,
                name("/Pg"): page_ref,
                name("/Alt"): generic.TextStringObject(alt),
                name("/K"): generic.DictionaryObject(
                    {name("/Type"): name("/OBJR"), name("/Obj"): field_ref, name("/Pg"): page_ref}
                ),
            }
        )
    )
    kids = top.get("/K")
    if isinstance(kids, generic.ArrayObject):
        kids.append(form_ref)
    else:
        top["/K"] = generic.ArrayObject(([] if kids is None else [top.raw_get("/K")]) + [form_ref])
    writer.mark_update(top_ref)
    _enter(writer, tree, key, form_ref)


def _number_tree_keys(node: Any) -> list[int]:
    nums = node.get("/Nums")
    keys = [int(nums[i]) for i in range(0, len(nums), 2)] if nums is not None else []
    for kid in node.get("/Kids", ()):
        keys.extend(_number_tree_keys(kid.get_object()))
    return keys


def _next_key(tree: Any) -> int:
    if "/ParentTreeNextKey" in tree:
        return int(tree["/ParentTreeNextKey"])
    return max(_number_tree_keys(tree["/ParentTree"]), default=-1) + 1


def _enter(writer: Any, tree: Any, key: int, form_ref: Any) -> None:
    """``key`` → ``form_ref`` in the parent tree (a flat ``/Nums``, or a new leaf after
    the others: ``key`` is larger than every key in it)."""
    from pyhanko.pdf_utils import generic

    parent = tree["/ParentTree"]
    entry = [generic.NumberObject(key), form_ref]
    if "/Kids" in parent:
        leaf = generic.DictionaryObject(
            {
                generic.pdf_name("/Limits"): generic.ArrayObject(entry[:1] * 2),
                generic.pdf_name("/Nums"): generic.ArrayObject(entry),
            }
        )
        parent["/Kids"].append(writer.add_object(leaf))
        if "/Limits" in parent:
            parent["/Limits"][1] = generic.NumberObject(key)
    else:
        parent.setdefault(generic.pdf_name("/Nums"), generic.ArrayObject()).extend(entry)
    writer.update_container(parent)
    if "/ParentTreeNextKey" in tree:
        tree["/ParentTreeNextKey"] = generic.NumberObject(key + 1)
    writer.update_container(tree)
