"""Every page as the customer reads it (issue 19), read back from the PDF with pdfplumber:
every glyph inside the printable area, no page but a component's last less than a third
full, readable type sizes, and contact details never broken across lines.

The content area is the page less the margins of the stylesheet's ``@page`` rule, read
from the stylesheet itself, so that the test follows the layout it checks."""

from __future__ import annotations

import copy
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pdfplumber
import pytest
from babel import Locale
from pypdf import PdfReader

from correspondence.engine import Engine, locales_of
from correspondence.formatting import babel_locale
from correspondence.kinds import KINDS, validate
from correspondence.pdf import ASSETS_DIR
from tests.conftest import SAMPLES, load_sample
from tests.factories import sample_with_lines

MM = 72 / 25.4
TOLERANCE = 0.5  # pt: a glyph's box may touch the content edge
BODY_MIN, TABLE_MIN, FOOTER_MIN = 10.0, 8.5, 7.5
FILL_MIN = 1 / 3


@dataclass(frozen=True)
class Area:
    left: float
    right: float
    top: float
    bottom: float


@cache
def margins() -> tuple[float, float, float, float]:
    """The ``@page`` margins (top, right, bottom, left) of the stylesheet, in pt."""
    css = (ASSETS_DIR / "css" / "document.css").read_text("utf-8")
    rule = re.search(r"@page\s*\{[^}]*?margin:\s*([^;]+);", css)
    assert rule is not None
    values = [float(v.removesuffix("mm")) * MM for v in rule.group(1).split()]
    assert len(values) == 4
    return values[0], values[1], values[2], values[3]


def content_area(page: Any) -> Area:
    top, right, bottom, left = margins()
    return Area(left, float(page.width) - right, top, float(page.height) - bottom)


def samples() -> Iterator[tuple[str, str]]:
    for path in sorted(SAMPLES.glob("*.json")):
        for locale in locales_of(validate(load_sample(path.name))):
            yield path.name, locale


SAMPLE_CASES = list(samples())


def long_names() -> dict[str, Any]:
    """The collection update with long names everywhere a name is printed, and six cases:
    its seven-column table at its widest."""
    payload = copy.deepcopy(load_sample("07b_collection_update_en-GB.json"))
    long = "Comercializadora Internacional de Productos Industriales y Agrícolas del Norte"
    payload["policyholder"]["legal_name"] = long + ", S.A. de C.V."
    cases = payload["cases"]
    for n, case in enumerate(list(cases) * 3):
        if n >= len(cases):
            cases.append(copy.deepcopy(case) | {"case_number": f"COB-2026-{n:04d}"})
    for case in cases:
        case["buyer"]["legal_name"] = f"{long} ({case['case_number']}), S.A. de C.V."
    return payload


@cache
def rendered(engine: Engine, name: str, locale: str) -> bytes:
    payload = load_sample(name) if name.endswith(".json") else VARIANTS[name]()
    return engine.render(engine.validate(payload), locale=locale).pdf


VARIANTS = {
    "long names, 7 columns": long_names,
    "500-line invoice": lambda: sample_with_lines(500),
}
VARIANT_CASES = [(name, "en-GB" if "7" in name else "es-MX") for name in VARIANTS]


def component_last_pages(data: bytes) -> set[int]:
    """0-based: the last page of each component (a pack's components start at their
    bookmark), and the document's last page."""
    reader = PdfReader(io.BytesIO(data))
    starts = sorted(
        {
            reader.get_destination_page_number(item)
            for item in reader.outline
            if not isinstance(item, list)
        }
        if "/PageLabels" in reader.trailer["/Root"]
        else set()
    )
    last = len(reader.pages) - 1
    return {start - 1 for start in starts if start > 0} | {last}


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES + VARIANT_CASES)
def test_every_glyph_is_inside_the_printable_area(engine: Engine, name: str, locale: str) -> None:
    """Each character's box lies inside the content area, except the running footer's,
    which lies in the bottom margin inside the page's side margins."""
    outside = []
    with pdfplumber.open(io.BytesIO(rendered(engine, name, locale))) as pdf:
        for page in pdf.pages:
            area = content_area(page)
            for c in page.chars:
                in_footer = c["top"] >= area.bottom - TOLERANCE
                inside = (
                    c["x0"] >= area.left - TOLERANCE
                    and c["x1"] <= area.right + TOLERANCE
                    and c["top"] >= area.top - TOLERANCE
                    and (c["bottom"] <= area.bottom + TOLERANCE or in_footer)
                    and c["bottom"] <= float(page.height) - 5 * MM
                )
                if not inside:
                    outside.append((page.page_number, c["text"], round(c["x1"], 1)))
    assert not outside, f"{len(outside)} glyphs outside the printable area: {outside[:20]}"


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES + VARIANT_CASES)
def test_no_page_but_a_components_last_is_less_than_a_third_full(
    engine: Engine, name: str, locale: str
) -> None:
    data = rendered(engine, name, locale)
    exempt = component_last_pages(data)
    short = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index, page in enumerate(pdf.pages):
            area = content_area(page)
            body = [c["bottom"] for c in page.chars if c["top"] < area.bottom]
            fill = (max(body, default=area.top) - area.top) / (area.bottom - area.top)
            if index not in exempt and fill < FILL_MIN:
                short.append((index + 1, round(fill, 2)))
    assert not short, f"pages less than a third full (page, fill): {short}"


def test_the_spanish_renewal_pack_has_at_most_six_pages(engine: Engine) -> None:
    data = rendered(engine, "01_renewal_pack_es-ES.json", "es-ES")
    assert len(PdfReader(io.BytesIO(data)).pages) <= 6


def cfdi_top(page: Any) -> float | None:
    """Where the CFDI block starts on ``page`` (its heading), if it does."""
    words = page.extract_words()
    for n, word in enumerate(words):
        if word["text"] == "(CFDI" and n > 0:
            return float(words[n - 1]["top"]) - 2
    return None


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES)
def test_type_is_readable(engine: Engine, name: str, locale: str) -> None:
    """Body text is set at 10 pt; nothing is below 8.5 pt (tables) but the running footer
    and the CFDI block (7.5 pt)."""
    sizes: dict[float, int] = {}
    small = []
    with pdfplumber.open(io.BytesIO(rendered(engine, name, locale))) as pdf:
        for page in pdf.pages:
            area = content_area(page)
            cfdi = cfdi_top(page)
            for c in page.chars:
                size = round(float(c["size"]), 2)
                fine_print = c["top"] >= area.bottom or (cfdi is not None and c["top"] >= cfdi)
                if not fine_print:  # the body is what the letter says, not its seals
                    sizes[size] = sizes.get(size, 0) + 1
                if size < (FOOTER_MIN if fine_print else TABLE_MIN) - 0.05:
                    small.append((page.page_number, c["text"], size))
    assert not small, f"{len(small)} glyphs in fine print: {small[:20]}"
    body = max(sizes, key=lambda s: sizes[s])
    assert body >= BODY_MIN, f"the most common size is {body} pt"


def complaint_sizes(engine: Engine) -> list[float]:
    data = rendered(engine, "06_claim_decision_partial_es-ES.json", "es-ES")
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        found = []
        for page in pdf.pages:
            for word in page.extract_words(extra_attrs=["size"]):
                if word["text"].strip("().,") in ("DGSFP", "CONDUSEF"):
                    found.append(float(word["size"]))
        return found


def test_complaint_routes_are_at_body_size(engine: Engine) -> None:
    sizes = complaint_sizes(engine)
    assert sizes and min(sizes) >= BODY_MIN - 0.05


def contact_details(payload: Any) -> set[str]:
    """Every e-mail address, phone number and web address in ``payload``."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ("email", "phone", "portal_url") and isinstance(value, str):
                found.add(value)
            else:
                found |= contact_details(value)
    elif isinstance(payload, list):
        for item in payload:
            found |= contact_details(item)
    return found


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES)
def test_contact_details_are_never_broken_across_lines(
    engine: Engine, name: str, locale: str
) -> None:
    """Each e-mail address, phone number and web address of the payload that the PDF
    prints is whole on one line wherever it is printed: a line break at a space or at a
    hyphen (the two places a line may break) is found by joining the lines both ways."""
    details = contact_details(load_sample(name))
    with pdfplumber.open(io.BytesIO(rendered(engine, name, locale))) as pdf:
        lines = [
            " ".join(line["text"].replace("\u00a0", " ").split())
            for page in pdf.pages
            for line in page.extract_text_lines()
        ]
    text = " ".join(lines)
    broken = [
        d
        for d in details
        if max(text.count(d), "".join(lines).count(d)) > sum(line.count(d) for line in lines)
    ]
    assert not broken, f"split across lines: {broken}"
    assert any(d in text for d in details)


def test_every_kind_has_a_sample_here() -> None:
    assert {validate(load_sample(n)).kind.name for n, _ in SAMPLE_CASES} == set(KINDS)


def overlapping_words(page: Any, slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of words on ``page`` whose boxes overlap (each shrunk by ``slack`` points,
    so that words merely touching do not count)."""
    words = sorted(page.extract_words(keep_blank_chars=False), key=lambda w: float(w["top"]))
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            if float(b["top"]) + slack >= float(a["bottom"]) - slack:
                break  # sorted by top: no later word reaches up into ``a``
            if (
                float(a["x0"]) + slack < float(b["x1"]) - slack
                and float(b["x0"]) + slack < float(a["x1"]) - slack
            ):
                found.append((a["text"], b["text"]))
    return found


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES)
def test_no_text_is_printed_over_other_text(engine: Engine, name: str, locale: str) -> None:
    """No word overlaps another anywhere on any page: a label of the claim timeline once
    sat on top of another's date, and the customer could read neither."""
    with pdfplumber.open(io.BytesIO(rendered(engine, name, locale))) as pdf:
        overlaps = {p.page_number: overlapping_words(p) for p in pdf.pages}
    assert {page: pairs for page, pairs in overlaps.items() if pairs} == {}


LINE_BREAK = "\n"


def running_text(data: bytes) -> list[tuple[str, int]]:
    """Every character of the PDF in the order it is drawn, each with the number of the
    line it is set on (a new line wherever the baseline moves or a page starts), and
    ``LINE_BREAK`` between two lines: the text as the reader meets it, with its breaks."""
    found: list[tuple[str, int]] = []
    line = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            baseline: float | None = None
            for c in page.chars:
                y = float(c["matrix"][5])
                if baseline is None or abs(y - baseline) > 1:
                    line += 1
                    found.append((LINE_BREAK, line))
                    baseline = y
                # a ligature ("fi") is one glyph of two characters
                found.extend((ch, line) for ch in c["text"])
    return found


@cache
def date_pattern(locale: str) -> re.Pattern[str]:
    """A date as the locale writes it in full or in short, whatever whitespace (a line
    break too) stands between its words: ``31 de enero de 2027``, ``31 ene 2027``,
    ``30 January 2027``, ``January 30, 2027``, ``Jan 30, 2027``."""
    babel = Locale.parse(babel_locale(locale))
    names = {
        name for width in ("wide", "abbreviated") for name in babel.months["format"][width].values()
    }
    month = "(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\.?"
    day_first = rf"\b\d{{1,2}}(?:\s+de)?\s+{month}(?:\s+de)?\s+\d{{4}}\b"
    month_first = rf"\b{month}\s+\d{{1,2}},\s+\d{{4}}\b"
    return re.compile(f"{day_first}|{month_first}", re.IGNORECASE)


REFERENCE_KEYS = re.compile(r"(^|_)(number|reference|identifier|id|tax_id|iban|rfc\w*)$")
ADDRESS_PARTS = {"ext_number", "int_number"}  # "Piso 8" is part of an address


def references(payload: Any) -> set[str]:
    """Every reference of ``payload`` (policy, invoice, claim and case numbers, our and
    the customer's references, tax ids, IBANs), as the request states it."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in ADDRESS_PARTS:
                continue
            if isinstance(value, str) and REFERENCE_KEYS.search(key):
                if len(value) >= 6 and any(ch.isdigit() for ch in value):
                    found.add(value)
            else:
                found |= references(value)
    elif isinstance(payload, list):
        for item in payload:
            found |= references(item)
    return found


def split_dates(text: list[tuple[str, int]], locale: str) -> list[str]:
    """The dates of ``text`` set on more than one line."""
    joined = "".join(ch for ch, _ in text)
    return [
        m.group().replace(LINE_BREAK, " / ")
        for m in date_pattern(locale).finditer(joined)
        if LINE_BREAK in m.group()
    ]


def split_references(text: list[tuple[str, int]], wanted: set[str]) -> list[str]:
    """The references of ``wanted`` that ``text`` prints across two lines, at a space or
    at a hyphen (whitespace is ignored in the search, as a line break may replace it)."""
    kept = [(ch, line) for ch, line in text if not ch.isspace()]
    joined = "".join(ch for ch, _ in kept)
    split = []
    for ref in sorted(wanted):
        bare = "".join(ref.split())
        at = joined.find(bare)
        while at >= 0:
            lines = {line for _, line in kept[at : at + len(bare)]}
            if len(lines) > 1:
                split.append(ref)
            at = joined.find(bare, at + 1)
    return split


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES)
def test_dates_and_references_are_never_split_across_lines(
    engine: Engine, name: str, locale: str
) -> None:
    """No date ("31 de enero / de 2027") and no reference ("PRI-2026- / 001874") of the
    PDF is broken across two lines (or two pages), read from where each glyph is set."""
    text = running_text(rendered(engine, name, locale))
    dates = split_dates(text, locale)
    refs = split_references(text, references(load_sample(name)))
    assert (dates, refs) == ([], []), f"split dates: {dates}; split references: {refs}"


def test_a_split_date_and_reference_are_found() -> None:
    """The search itself: a date and a reference broken at a line are found, whole ones
    are not."""
    text = [(ch, 1) for ch in "Pague el 31 de enero"] + [(LINE_BREAK, 2)]
    text += [(ch, 2) for ch in "de 2027 con la referencia PRI-2026-"] + [(LINE_BREAK, 3)]
    text += [(ch, 3) for ch in "001874; póliza ES-TC-004512, 1 de marzo de 2027."]
    assert split_dates(text, "es-ES") == ["31 de enero / de 2027"]
    assert split_references(text, {"PRI-2026-001874", "ES-TC-004512"}) == ["PRI-2026-001874"]


NBSP = "\u00a0"
LONG_PARAGRAPH = 6  # lines: a closing paragraph this long on the page fills it enough


@dataclass(frozen=True)
class Line:
    text: str
    top: float


def body_lines(page: Any) -> list[Line]:
    """The lines of ``page`` inside its content area (not the running footer), top down."""
    area = content_area(page)
    return [
        Line(" ".join(line["text"].replace(NBSP, " ").split()), float(line["top"]))
        for line in page.extract_text_lines()
        if float(line["bottom"]) <= area.bottom + TOLERANCE
    ]


def closing_pages(data: bytes, signer: str) -> list[tuple[int, list[Line]]]:
    """Each page holding a letter's closing (its valediction, a line ending in a comma,
    right above the line of the signer's name), with its body lines above the closing."""
    found = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            lines = body_lines(page)
            for n, line in enumerate(lines[1:], start=1):
                if line.text == signer and lines[n - 1].text.endswith(","):
                    found.append((page.page_number, lines[: n - 1]))
    return found


def last_paragraph(lines: list[Line]) -> list[Line]:
    """The last paragraph of ``lines``: the lines set at the body's line pitch (the
    smallest distance between two lines) above the last one; a paragraph's margin, or a
    heading's, sets the one before it further up."""
    if len(lines) < 2:
        return lines
    pitch = min(b.top - a.top for a, b in itertools.pairwise(lines))
    start = len(lines) - 1
    while start > 0 and lines[start].top - lines[start - 1].top <= pitch + 1:
        start -= 1
    return lines[start:]


def closing_alone(above: list[Line]) -> bool:
    """The closing, with the paragraph right above it, has its page to itself: nothing of
    what it closes shares the page, unless that paragraph alone fills it well."""
    closing_paragraph = last_paragraph(above)
    return len(closing_paragraph) == len(above) and len(above) < LONG_PARAGRAPH


@pytest.mark.parametrize(("name", "locale"), SAMPLE_CASES)
def test_no_page_holds_only_the_closing(engine: Engine, name: str, locale: str) -> None:
    """A letter's closing (its last paragraph, the valediction and the signature) is never
    alone on its page: the claim decision's last page once held only "For questions about
    your claim, please contact ...", "Yours faithfully," and the signature."""
    signer = load_sample(name)["account_executive"]["name"]
    pages = closing_pages(rendered(engine, name, locale), signer)
    alone = [(page, [line.text for line in above]) for page, above in pages if closing_alone(above)]
    assert not alone, f"a closing alone on its page (page, lines above it): {alone}"
    if validate(load_sample(name)).kind.name != "premium_invoice":
        assert len(pages) == 1, "a letter has one closing, found on its page"


def test_a_closing_alone_on_its_page_is_found() -> None:
    """The search itself: a closing paragraph alone above the valediction is found; one
    below another paragraph (a wider gap between the two) is not."""
    contact = [Line("For questions, contact", 40.0), Line("Laura (+34 910 000 101).", 52.0)]
    assert closing_alone(contact)
    assert not closing_alone([Line("Complaints: DGSFP.", 20.0), *contact])
    assert not closing_alone([Line(f"line {n}", 40.0 + 12 * n) for n in range(LONG_PARAGRAPH)])


def test_an_email_keeps_plain_spaces_in_its_dates(engine: Engine) -> None:
    """The no-break spaces that hold a date together are for the page only: a plain-text
    email (``templates/*/email/``) keeps ordinary spaces, as a mail client wraps it."""
    from correspondence.formatting import Formatter
    from correspondence.mail.compose import content_of

    validated = engine.validate(load_sample("06_claim_decision_partial_es-ES.json"))
    paid_on = Formatter("es-ES", "Europe/Madrid").date_long(validated.doc.payment.date)
    context = engine.context(validated, locale="es-ES") | {"kind": validated.kind.name}
    mail = content_of(engine.env, context, "carta.pdf")
    assert paid_on in mail.subject and paid_on in mail.text and paid_on in mail.html
    assert paid_on.replace(" ", NBSP) in engine.html(validated, locale="es-ES")
