"""The premium invoice rendered to real PDFs by WeasyPrint and read back with pypdf."""

from __future__ import annotations

import copy
import gc
import json
import socket
import types
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from weasyprint.images import RasterImage

from correspondence.config import Settings
from correspondence.engine import PAYLOAD_ATTACHMENT, Engine
from correspondence.formatting import Formatter
from tests.conftest import flat, in_language, pdf_pages_text, pdf_reader, pdf_text

NBSP = "\u00a0"


def render(engine: Engine, payload: dict[str, Any], locale: str | None = None) -> bytes:
    """The PDF in ``locale``, from a payload that gives its free text in that language."""
    if locale is not None:
        payload = in_language(payload, locale.split("-")[0])
    return engine.render(engine.validate(payload), locale=locale).pdf


def test_mx_sample_renders_with_total_deadline_words_and_contact(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """Page 1 answers what to pay, for what and by when; the contact is on it."""
    pages = pdf_pages_text(render(engine, invoice_mx))
    page1 = flat(pages[0])
    everything = flat(" ".join(pages))
    # Mexican cover ends at noon of the last day (art. 40 LSCS): the headline says so.
    assert (
        "Pague $76,067.00 MXN antes de las 12:00 horas (mediodía, hora del centro de México) "
        "del 31 de enero de 2027 por la prima de depósito" in page1
    )
    assert invoice_mx["totals"]["amount_in_words"] in everything
    aex = invoice_mx["account_executive"]
    for value in (aex["name"], aex["email"], aex["phone"]):
        assert value in page1
    assert "Fecha límite de pago: 31 de enero de 2027" in page1
    assert (
        "Si la prima no está pagada a las 12:00 horas (mediodía, hora del centro de México) del "
        "31 de enero de 2027, los efectos del contrato cesarán automáticamente en ese momento"
        in everything
    )
    assert "Página 1 de 2" in page1
    assert invoice_mx["cfdi"]["uuid"] in everything


@pytest.mark.parametrize(
    ("locale", "total", "deadline", "sentence"),
    [
        (
            "en-GB",
            f"MXN{NBSP}76,067.00",
            "31 January 2027",
            "Please pay MXN 76,067.00 before noon (Mexico City time) on 31 January 2027",
        ),
        (
            "en-US",
            f"MXN{NBSP}76,067.00",
            "January 31, 2027",
            "Please pay MXN 76,067.00 before noon (Mexico City time) on January 31, 2027,",
        ),
        (
            "es-ES",
            f"76.067,00{NBSP}MXN",
            "31 de enero de 2027",
            "Pague 76.067,00 MXN antes de las 12:00 horas (mediodía, hora del centro de México) "
            "del 31 de enero de 2027",
        ),
    ],
)
def test_mx_sample_renders_in_other_locales(
    engine: Engine,
    invoice_mx: dict[str, Any],
    locale: str,
    total: str,
    deadline: str,
    sentence: str,
) -> None:
    """The same payload in another locale uses that locale's exact formats."""
    validated = engine.validate(in_language(invoice_mx, locale[:2]))
    html = engine.html(validated, locale=locale)
    assert total in html and deadline in flat(html)  # a date is set with no-break spaces
    assert f'<html lang="{locale}">' in html
    text = pdf_text(engine.render(validated, locale=locale).pdf)
    assert sentence in text
    rate = f"16{NBSP}%" if locale == "es-ES" else "16%"
    assert f"IVA {rate}" in html or f"VAT (IVA) {rate}" in html


def test_es_ES_vocabulary_comes_from_the_regional_catalog(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """es-ES says 'prima provisional' where es-MX says 'prima de depósito'."""
    validated = engine.validate(invoice_mx)
    es_es = pdf_text(engine.render(validated, locale="es-ES").pdf)
    es_mx = pdf_text(engine.render(validated).pdf)
    assert "por la prima provisional" in es_es and "póngase en contacto con" in es_es
    assert "por la prima de depósito" in es_mx and "comuníquese con" in es_mx


def _many_lines(payload: dict[str, Any], count: int) -> dict[str, Any]:
    template = payload["lines"][2]
    lines = []
    for i in range(count):
        line = copy.deepcopy(template)
        price = Decimal("100.00") + Decimal(i) / 4
        line["description"] = f"Cuota de monitoreo, comprador {i + 1:03d}"
        line["quantity"] = str(1 + i % 3)
        line["unit_price"]["amount"] = str(price.quantize(Decimal("0.01")))
        del line["net"], line["tax"]
        lines.append(line)
    payload["lines"] = lines
    del payload["totals"]
    payload["cfdi"]["qr_payload"] = (
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
    )
    return payload


def test_300_line_invoice_breaks_across_pages_with_repeated_headers(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """Every page of the line table repeats its header; the total is the sum of the lines."""
    payload = _many_lines(invoice_mx, 300)
    nets = [Decimal(x["quantity"]) * Decimal(x["unit_price"]["amount"]) for x in payload["lines"]]
    ivas = [(n * Decimal("0.16")).quantize(Decimal("0.01"), ROUND_HALF_UP) for n in nets]
    expected_total = sum(nets) + sum(ivas)
    payload["cfdi"]["qr_payload"] += (
        f"?id={payload['cfdi']['uuid']}&re=FSC980615K25&rr=DNA150312AB0&tt={expected_total}"
    )
    pages = [flat(p) for p in pdf_pages_text(render(engine, payload))]
    assert len(pages) >= 5
    table_pages = [p for p in pages if "Cuota de monitoreo, comprador" in p]
    assert len(table_pages) >= 4
    for page in table_pages:
        assert "Concepto Periodo Cant. Valor unitario Importe neto Impuesto Total" in page
    for i in (1, 150, 300):
        assert f"comprador {i:03d}" in " ".join(table_pages)
    money = (
        Formatter("es-MX", "America/Mexico_City").money(expected_total, "MXN").replace(NBSP, " ")
    )
    assert f"Pague {money}" in pages[0]
    assert f"Total a pagar {money}" in " ".join(pages)


def test_two_renders_are_byte_identical(settings: Settings, invoice_mx: dict[str, Any]) -> None:
    """Same payload, same templates: the same bytes, even from a fresh engine."""
    first = render(Engine(settings), invoice_mx)
    second = render(Engine(settings), copy.deepcopy(invoice_mx))
    assert first == second


def test_fonts_are_embedded_and_payload_attached(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """Only the packaged font family is used, embedded as subsets; the payload rides along."""
    reader = pdf_reader(render(engine, invoice_mx))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            fonts.add(str(font["/BaseFont"]).split("+", 1)[1])
    assert fonts == {"Doc-Sans", "Doc-Sans-Bold"}
    attached = reader.attachments[PAYLOAD_ATTACHMENT][0]
    assert json.loads(attached) == invoice_mx


def test_pdf_is_pdfa3_with_metadata(engine: Engine, invoice_mx: dict[str, Any]) -> None:
    """PDF/A-3a with title, author, subject, language and the issue date as creation date."""
    reader = pdf_reader(render(engine, invoice_mx, locale="en-GB"))
    xmp = reader.xmp_metadata
    assert xmp is not None and (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("3", "A")
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Invoice PRI-2026-001874"
    assert meta.author == invoice_mx["insurer"]["legal_name"]
    assert (
        meta.subject is not None
        and "MXN" in meta.subject
        and "31 January 2027" in flat(meta.subject)
    )
    assert meta["/CreationDate"] == "D:20261215"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"


@pytest.fixture()
def listener() -> Iterator[socket.socket]:
    """A real TCP server on 127.0.0.1 that records whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def test_markup_in_a_description_is_printed_as_text(
    engine: Engine, invoice_mx: dict[str, Any], listener: socket.socket
) -> None:
    """Request data never becomes markup: no image is fetched and the tags print literally."""
    port = listener.getsockname()[1]
    hostile = f'<b>x</b><img src="http://127.0.0.1:{port}/x">'
    invoice_mx["lines"][0]["description"] = hostile
    validated = engine.validate(invoice_mx)
    assert "&lt;b&gt;x&lt;/b&gt;&lt;img" in engine.html(validated)
    text = pdf_text(engine.render(validated).pdf)
    assert "<b>x</b><img src=" in text
    assert _connections(listener) == 0
    assert engine.pdf.fetcher.refused == []


def test_cfdi_qr_code_decodes_to_the_stated_payload_and_is_not_interpolated(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """The printed QR code, read back from the PDF by an independent decoder (ZXing),
    carries the CFDI verification URL; its image is drawn with /Interpolate false, which
    PDF/A requires and which keeps its modules sharp."""
    import zxingcpp
    from PIL import Image

    reader = pdf_reader(render(engine, invoice_mx))
    (page,) = [p for p in reader.pages if "Comprobante fiscal digital" in p.extract_text()]
    (image,) = page.images
    (xobject,) = [x.get_object() for x in page["/Resources"]["/XObject"].values()]
    assert xobject["/Interpolate"].value is False
    modules = image.image
    assert modules is not None
    scaled = modules.convert("L").resize((modules.width * 8, modules.height * 8), Image.NEAREST)
    decoded = zxingcpp.read_barcodes(scaled)
    assert [d.text for d in decoded] == [invoice_mx["cfdi"]["qr_payload"]]


def _holds_an_image(root: object) -> bool:
    """Whether an image WeasyPrint decoded, or a data: URI, is reachable from ``root``
    (not through code, classes or modules, which reach everything)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(item))
        if isinstance(item, RasterImage) or (isinstance(item, str) and item.startswith("data:")):
            return True
        todo.extend(gc.get_referents(item))
    return False


def test_generated_images_do_not_stay_in_the_image_cache(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """Each invoice's QR code is a new data: image; a worker keeps none of them once the
    render is done instead of growing by them for the rest of its life."""
    first = render(engine, invoice_mx)
    other = copy.deepcopy(invoice_mx)
    other["cfdi"]["qr_payload"] = other["cfdi"]["qr_payload"].replace("&fe=", "&fe=A")
    second = render(engine, other)
    assert first != second
    assert not _holds_an_image(engine)


@pytest.mark.parametrize("locale", ["es-MX", "en-US"])
def test_cfdi_prints_each_sat_code_with_its_description(
    engine: Engine, invoice_mx: dict[str, Any], locale: str
) -> None:
    """Issue 19 point 6: TipoDeComprobante, Moneda and Exportación are printed; every
    code is followed by its catalogue description (the packaged table); the line keys
    are grouped; dates read as dates, not ISO timestamps."""
    from datetime import datetime

    from correspondence.kinds.premium_invoice import sat

    payload = in_language(invoice_mx, locale[:2])
    text = flat(pdf_text(engine.render(engine.validate(payload), locale=locale).pdf))
    cfdi = payload["cfdi"]
    language = locale[:2]
    for catalogue, code in (
        ("c_TipoDeComprobante", "I"),
        ("c_Moneda", cfdi["moneda"]),
        ("c_Exportacion", cfdi["exportacion"]),
        ("c_UsoCFDI", cfdi["uso_cfdi"]),
        ("c_RegimenFiscal", cfdi["regimen_fiscal_emisor"]),
        ("c_FormaPago", cfdi["forma_pago"]),
        ("c_MetodoPago", cfdi["metodo_pago"]),
        ("c_ClaveProdServ", payload["lines"][0]["mx"]["clave_prod_serv"]),
        ("c_ClaveUnidad", payload["lines"][0]["mx"]["clave_unidad"]),
        ("c_ObjetoImp", payload["lines"][0]["mx"]["objeto_imp"]),
    ):
        entry = sat.entry(catalogue, code)
        assert entry is not None and entry.shown(language) in text
    for stamp in (cfdi["fecha"], cfdi["fecha_timbrado"]):  # only inside the sealed string
        assert text.count(stamp) == cfdi["cadena_original_tfd"].count(stamp)
    issued = datetime.fromisoformat(cfdi["fecha"])
    assert Formatter(locale, "UTC").date_long(issued.date()) in text
    assert f"1–{len(payload['lines'])}" in text  # one row for lines sharing their keys


def test_a_sat_code_outside_the_table_is_refused(
    engine: Engine, invoice_mx: dict[str, Any]
) -> None:
    """A code we have no description for would print bare: refused, naming the field."""
    from correspondence.errors import InvalidPayload

    payload = copy.deepcopy(invoice_mx)
    payload["cfdi"]["uso_cfdi"] = "P01"
    payload["policyholder"]["cfdi_use"] = "P01"
    payload["lines"][1]["mx"]["clave_unidad"] = "XXX"
    with pytest.raises(InvalidPayload) as caught:
        engine.validate(payload)
    fields = {p.field: p.message for p in caught.value.problems}
    assert "c_UsoCFDI" in fields["cfdi.uso_cfdi"]
    assert "c_ClaveUnidad" in fields["lines.1.mx.clave_unidad"]


def test_line_key_runs() -> None:
    """Line numbers that share keys print as runs."""
    from correspondence.kinds.premium_invoice.sat import _runs

    assert _runs([1, 2, 3, 5, 7, 8]) == "1–3, 5, 7–8"
    assert _runs([4]) == "4"
