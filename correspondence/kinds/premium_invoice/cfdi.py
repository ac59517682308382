"""The stamped CFDI 4.0 data a Mexican invoice prints (representación impresa): it must
agree with the invoice, the parties and the QR code's verification URL."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from correspondence.checks import Reconciler
from correspondence.kinds.premium_invoice import sat
from correspondence.kinds.premium_invoice.model import (
    PremiumInvoice,
)
from correspondence.kinds.premium_invoice.sat import SatEntry


def check_cfdi(doc: PremiumInvoice, total: Decimal, check: Reconciler) -> None:
    cfdi = doc.cfdi
    if doc.document.jurisdiction != "MX":
        if cfdi is not None:
            check.rule("cfdi", "is only printed on Mexican invoices")
        return
    if cfdi is None:
        check.rule("cfdi", "a Mexican invoice prints its stamped CFDI 4.0 data")
        return
    ph, ins, inv = doc.policyholder, doc.insurer, doc.invoice
    check.same("cfdi.serie", cfdi.serie, inv.series)
    if inv.number is None:
        check.rule("invoice.number", "a stamped CFDI already carries its number: state it")
    elif cfdi.serie and cfdi.folio:
        check.same(
            "cfdi.folio",
            f"{cfdi.serie}-{cfdi.folio}",
            inv.number,
            why="serie-folio is the invoice number",
        )
    check.same("cfdi.moneda", cfdi.moneda, doc.policy.currency)
    # CFDI 4.0 (Anexo 20): TipoCambio is required whenever Moneda is not MXN.
    if doc.policy.currency != "MXN":
        if cfdi.tipo_cambio is None:
            check.rule(
                "cfdi.tipo_cambio",
                f"a CFDI in {doc.policy.currency} carries its exchange rate to MXN (TipoCambio)",
            )
        elif cfdi.tipo_cambio <= 0:
            check.rule("cfdi.tipo_cambio", "must be greater than zero")
        elif doc.fx is not None:
            check.same("cfdi.tipo_cambio", cfdi.tipo_cambio, doc.fx.rate, why="fx.rate")
    elif cfdi.tipo_cambio is not None and cfdi.tipo_cambio != 1:
        check.rule("cfdi.tipo_cambio", "a CFDI in MXN has no exchange rate other than 1")
    for field, stated, master, source in (
        ("cfdi.uso_cfdi", cfdi.uso_cfdi, ph.cfdi_use, "policyholder.cfdi_use"),
        (
            "cfdi.regimen_fiscal_receptor",
            cfdi.regimen_fiscal_receptor,
            ph.tax_regime,
            "policyholder.tax_regime",
        ),
        (
            "cfdi.regimen_fiscal_emisor",
            cfdi.regimen_fiscal_emisor,
            ins.tax_regime,
            "insurer.tax_regime",
        ),
    ):
        if master is not None:
            check.same(field, stated, master, why=source)
    check.same(
        "cfdi.domicilio_fiscal_receptor",
        cfdi.domicilio_fiscal_receptor,
        ph.address.postal_code,
        why="policyholder.address.postal_code",
    )
    check.same(
        "cfdi.lugar_expedicion",
        cfdi.lugar_expedicion,
        ins.address.postal_code,
        why="insurer.address.postal_code",
    )
    check.same("cfdi.fecha", cfdi.fecha.date(), inv.issue_date, why="invoice.issue_date")
    if cfdi.metodo_pago == "PPD" and cfdi.forma_pago != "99":
        check.rule("cfdi.forma_pago", "must be 99 (por definir) when metodo_pago is PPD")
    query = parse_qs(urlsplit(cfdi.qr_payload).query)

    def qr(key: str) -> str | None:
        values = query.get(key)
        return values[0] if values else None

    check.same("cfdi.qr_payload", (qr("id") or "").upper(), cfdi.uuid.upper(), why="id = uuid")
    check.same("cfdi.qr_payload", qr("re"), ins.tax_id, why="re = insurer RFC")
    check.same("cfdi.qr_payload", qr("rr"), ph.tax_id, why="rr = policyholder RFC")
    stated_total = qr("tt")
    try:
        tt = Decimal(stated_total) if stated_total is not None else None
    except ArithmeticError:
        tt = Decimal(-1)
    check.same("cfdi.qr_payload", tt, total, why="tt = invoice total")


#: Where each printed code sits in the payload, and its SAT catalogue.
CODED_FIELDS = (
    ("UsoCFDI", "cfdi.uso_cfdi", "c_UsoCFDI"),
    ("RegimenFiscalEmisor", "cfdi.regimen_fiscal_emisor", "c_RegimenFiscal"),
    ("RegimenFiscalReceptor", "cfdi.regimen_fiscal_receptor", "c_RegimenFiscal"),
    ("FormaPago", "cfdi.forma_pago", "c_FormaPago"),
    ("MetodoPago", "cfdi.metodo_pago", "c_MetodoPago"),
    ("Exportacion", "cfdi.exportacion", "c_Exportacion"),
)
LINE_CODES = (
    ("clave_prod_serv", "c_ClaveProdServ"),
    ("clave_unidad", "c_ClaveUnidad"),
    ("objeto_imp", "c_ObjetoImp"),
)


def _known(check: Reconciler, field: str, catalogue: str, code: str) -> SatEntry | None:
    known = sat.entry(catalogue, code)
    if known is None:
        expected = ", ".join(sat.codes(catalogue))
        check.rule(field, f"{code!r} is not a {catalogue} code we print; expected {expected}")
    return known


def cfdi_codes(doc: PremiumInvoice, check: Reconciler) -> dict[str, SatEntry]:
    """Each code the printed CFDI shows, with its catalogue entry: TipoDeComprobante
    (I, an income; E, a credit note), Moneda and the stated codes. A code outside the
    packaged table is refused, naming the field."""
    cfdi = doc.cfdi
    if cfdi is None:
        return {}
    kind = "E" if doc.invoice.kind == "credit_note" else "I"
    wanted = [
        ("TipoDeComprobante", "invoice.kind", "c_TipoDeComprobante", kind),
        ("Moneda", "cfdi.moneda", "c_Moneda", cfdi.moneda or doc.policy.currency),
    ]
    for name, field, catalogue in CODED_FIELDS:
        wanted.append((name, field, catalogue, getattr(cfdi, field.removeprefix("cfdi."))))
    for i, line in enumerate(doc.lines):
        if line.mx is not None:
            for attribute, catalogue in LINE_CODES:
                code = getattr(line.mx, attribute)
                wanted.append((f"{i}.{attribute}", f"lines.{i}.mx.{attribute}", catalogue, code))
    found = {}
    for name, field, catalogue, code in wanted:
        if (known := _known(check, field, catalogue, code)) is not None:
            found[name] = known
    return found
