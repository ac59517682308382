"""The itemised premium invoice (brief §3.b): payload model, figures and rules.

The service computes every figure it can: line nets (quantity × unit price), the taxes of
each line from the jurisdiction's rules, totals, the due date, the payment deadline, the
suspension date (ES) or the noon cut-off of cover (MX), and the Mexican amount in words.
Stated figures must agree with the computed ones.
"""

from __future__ import annotations

import base64
import copy
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field

from correspondence import banking, legal
from correspondence.calendar import add_calendar_days, add_months
from correspondence.checks import Reconciler
from correspondence.formatting import JURISDICTION_TZ
from correspondence.kinds import Kind, NumberRequest
from correspondence.models import (
    AMOUNT_LIMIT,
    LINES_MAX,
    LIST_MAX,
    SERIES_MAX,
    Day,
    DecimalStr,
    Envelope,
    InvoiceNumber,
    Label,
    Model,
    Moment,
    Money,
    NonEmpty,
    Period,
    PlainText,
    Quantity,
    Rate,
    Text,
)
from correspondence.money import amount_in_words_mxn, apply_rate, minor_unit, quantize
from correspondence.rules import check_mx_instalment_length
from correspondence.taxes import LINE_CODES, taxation

InvoiceKind = Literal[
    "deposit_instalment", "minimum_premium_instalment", "adjustment", "fees", "credit_note"
]
LineCode = Literal[
    "premium_deposit",
    "premium_minimum_instalment",
    "premium_adjustment",
    "policy_fee",
    "instalment_surcharge",
    "credit_assessment_fee",
    "monitoring_fee",
    "collection_fee",
]
assert set(LineCode.__args__) == set(LINE_CODES)  # type: ignore[attr-defined]

#: Kinds whose due date is the start of the period they cover (MX LSCS art. 37) and
#: whose non-payment affects cover.
PREMIUM_KINDS = frozenset({"deposit_instalment", "minimum_premium_instalment"})
#: Line codes that are premium (what a schedule instalment states); surcharges and fees
#: ride on the same invoice but are not part of the instalment amount.
PREMIUM_LINE_CODES = frozenset(
    {"premium_deposit", "premium_minimum_instalment", "premium_adjustment"}
)
QR_PAYLOAD_MAX = 1000  # a version-40 QR code at level M holds 2,331 bytes
MX_COVER_CEASES_AT = time(12, 0)  # LSCS art. 40: noon on the last day of grace
#: A Spanish credit note is a rectifying invoice, numbered in its own series (RD 1619/2012
#: art. 15): series that start with R (R, R1…R5 as the AEAT's rectifying types) and only
#: those [ASSUMPTION on the naming; the separation is the law].
RECTIFYING_SERIES = re.compile(r"^R[0-9A-Z]*$")


class InvoiceHeader(Model):
    """``invoice``: number, dates and what the charge relates to."""

    number: InvoiceNumber | None = None
    series: str = Field(max_length=SERIES_MAX, pattern=r"^[A-Z0-9]{1,25}$")
    issue_date: Day
    operation_date: Day | None = None
    title: Label | None = None
    due_date: Day | None = None
    grace_days: int | None = Field(default=None, ge=0, le=365)  # law: legal.py
    payment_deadline: Day | None = None
    cover_ceases_if_unpaid: Moment | None = None
    suspension_date_if_unpaid: Day | None = None
    period: Period
    kind: InvoiceKind


class TaxLine(Model):
    """One tax on one line; ``base`` and ``amount`` are computed when omitted."""

    type: Literal["IPS", "IVA", "CCS_surcharge"]
    rate: Rate
    base: Money | None = None
    amount: Money | None = None


class MxLineCodes(Model):
    """SAT catalogue codes of a CFDI concept."""

    clave_prod_serv: NonEmpty
    clave_unidad: NonEmpty
    objeto_imp: NonEmpty


class InvoiceLine(Model):
    """One line: what is charged, for which period, quantity × unit price."""

    code: LineCode
    description: Text
    period: Period | None = None
    quantity: Quantity
    unit_price: Money
    net: Money | None = None
    tax: list[TaxLine] | None = Field(default=None, max_length=LIST_MAX)
    exemption_note: Text | None = None
    mx: MxLineCodes | None = None


class TaxTotal(Model):
    """A tax total per type and rate."""

    type: Literal["IPS", "IVA", "CCS_surcharge"]
    rate: Rate
    amount: Money


class Totals(Model):
    """Stated totals; each must equal the service's own."""

    net: Money | None = None
    taxes: list[TaxTotal] | None = Field(default=None, max_length=LIST_MAX)
    total: Money | None = None
    amount_in_words: PlainText | None = None


class Payment(Model):
    """How to pay: the account, the beneficiary and the reference to quote."""

    method: Literal["transfer", "direct_debit"]
    iban: Label | None = None
    bic: str | None = Field(default=None, max_length=11, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    clabe: Label | None = None
    bank_name: NonEmpty
    beneficiary: NonEmpty
    payment_reference: NonEmpty


class Fx(Model):
    """Exchange rate when the invoice currency differs from the local one."""

    rate: DecimalStr
    source: NonEmpty
    date: Day


class Related(Model):
    """The invoice a credit note or rectifying invoice corrects."""

    original_invoice: NonEmpty
    reason: Text


class CreditSettlement(Model):
    """How and when a credit note's amount reaches the policyholder: a transfer to its
    account, or an offset against the next invoice, by ``date``."""

    method: Literal["refund_transfer", "offset_next_invoice"]
    date: Day
    iban: Label | None = None
    clabe: Label | None = None


class Cfdi(Model):
    """The stamped CFDI 4.0 data printed on a Mexican invoice (representación impresa)."""

    version: Literal["4.0"]
    uuid: str = Field(
        max_length=36,
        pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    )
    serie: str | None = Field(default=None, max_length=25)
    folio: str | None = Field(default=None, max_length=40)
    fecha: Moment
    lugar_expedicion: str = Field(max_length=5, pattern=r"^\d{5}$")
    forma_pago: NonEmpty
    metodo_pago: Literal["PUE", "PPD"]
    uso_cfdi: NonEmpty
    exportacion: Literal["01"]
    moneda: Label | None = None
    tipo_cambio: DecimalStr | None = None
    regimen_fiscal_emisor: NonEmpty
    regimen_fiscal_receptor: NonEmpty
    domicilio_fiscal_receptor: str = Field(max_length=5, pattern=r"^\d{5}$")
    no_certificado_emisor: NonEmpty
    no_certificado_sat: NonEmpty
    sello_cfdi: NonEmpty
    sello_sat: NonEmpty
    cadena_original_tfd: NonEmpty
    fecha_timbrado: Moment
    rfc_prov_certif: NonEmpty
    qr_payload: str = Field(min_length=1, max_length=QR_PAYLOAD_MAX, pattern=r"^[!-~]+$")
    """The SAT verification URL: printable ASCII, well inside a QR code's capacity."""


class InvoiceFields(Model):
    """The invoice's own fields, without the envelope (a renewal pack carries them too)."""

    invoice: InvoiceHeader
    lines: list[InvoiceLine] = Field(max_length=LINES_MAX, min_length=1)
    totals: Totals | None = None
    payment: Payment
    late_payment_consequence: Text | None = None
    fx: Fx | None = None
    related: Related | None = None
    credit: CreditSettlement | None = None
    cfdi: Cfdi | None = None


class PremiumInvoice(Envelope, InvoiceFields):
    """The ``premium_invoice`` payload: the envelope and the invoice's fields."""


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxFigure:
    """A computed tax: on one line, or summed per type and rate."""

    type: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class LineFigure:
    """A computed line."""

    net: Decimal
    taxes: tuple[TaxFigure, ...]
    total: Decimal
    vat_exempt: bool


@dataclass(frozen=True)
class InvoiceFigures:
    """Everything the invoice template prints that the service computed."""

    currency: str
    lines: tuple[LineFigure, ...]
    taxes: tuple[TaxFigure, ...]
    net: Decimal
    tax_total: Decimal
    total: Decimal
    due_date: date
    payment_deadline: date
    grace_days: int | None
    suspension_date: date | None
    cover_ceases_at: datetime | None
    first_premium: bool
    premium: bool
    amount_in_words: str | None
    any_vat_exempt: bool
    qr: QrCode | None
    credit_note: bool = False
    premium_net: Decimal = Decimal(0)


def _lines(doc: PremiumInvoice, check: Reconciler) -> tuple[LineFigure, ...]:
    currency = doc.policy.currency
    jurisdiction = doc.document.jurisdiction
    figures = []
    for i, line in enumerate(doc.lines):
        at = f"lines.{i}"
        net = quantize(line.quantity * line.unit_price.amount, currency)
        if line.net is not None:
            check.same(
                f"{at}.net.amount",
                line.net.amount,
                net,
                why=f"{line.quantity} × {line.unit_price.amount}",
            )
        rules = taxation(jurisdiction, line.code)
        taxes = tuple(
            TaxFigure(rule.type, rule.rate, net, apply_rate(net, rule.rate, currency))
            for rule in rules.taxes
        )
        if line.tax is not None:
            _check_line_taxes(f"{at}.tax", line.tax, taxes, jurisdiction, check)
        if line.exemption_note and not rules.vat_exempt:
            check.rule(
                f"{at}.exemption_note",
                f"a {line.code} line on a {jurisdiction} policy is not VAT-exempt",
            )
        if line.period is not None and not (
            doc.invoice.period.start <= line.period.start
            and line.period.end <= doc.invoice.period.end
        ):
            check.rule(f"{at}.period", "falls outside invoice.period")
        total = net + sum((t.amount for t in taxes), Decimal(0))
        figures.append(LineFigure(net, taxes, total, rules.vat_exempt))
    return tuple(figures)


def _check_line_taxes(
    at: str,
    stated: Sequence[TaxLine],
    computed: Sequence[TaxFigure],
    jurisdiction: str,
    check: Reconciler,
) -> None:
    stated_kinds = [(t.type, t.rate) for t in stated]
    computed_kinds = [(t.type, t.rate) for t in computed]
    if stated_kinds != computed_kinds:

        def show(kinds: Sequence[tuple[str, Decimal]]) -> str:
            return ", ".join(f"{kind} {rate}" for kind, rate in kinds) or "no tax"

        check.rule(
            at,
            f"stated {show(stated_kinds)} but this line carries "
            f"{show(computed_kinds)} in {jurisdiction}",
        )
        return
    for j, (given, ours) in enumerate(zip(stated, computed, strict=True)):
        if given.base is not None:
            check.same(f"{at}.{j}.base.amount", given.base.amount, ours.base)
        if given.amount is not None:
            check.same(
                f"{at}.{j}.amount.amount",
                given.amount.amount,
                ours.amount,
                why=f"{ours.base} × {ours.rate}, rounded half-up",
            )


def _tax_summary(lines: Sequence[LineFigure]) -> tuple[TaxFigure, ...]:
    grouped: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in lines:
        for tax in line.taxes:
            base, amount = grouped.get((tax.type, tax.rate), (Decimal(0), Decimal(0)))
            grouped[(tax.type, tax.rate)] = (base + tax.base, amount + tax.amount)
    return tuple(TaxFigure(t, r, b, a) for (t, r), (b, a) in grouped.items())


def _check_totals(
    doc: PremiumInvoice,
    taxes: Sequence[TaxFigure],
    net: Decimal,
    total: Decimal,
    words: str | None,
    check: Reconciler,
) -> None:
    stated = doc.totals
    if stated is None:
        return
    check.same("totals.net.amount", stated.net.amount if stated.net else None, net)
    check.same("totals.total.amount", stated.total.amount if stated.total else None, total)
    if stated.taxes is not None:
        ours = {(t.type, t.rate): t.amount for t in taxes}
        for j, tax_total in enumerate(stated.taxes):
            key = (tax_total.type, tax_total.rate)
            if key not in ours:
                check.rule(
                    f"totals.taxes.{j}", f"no line carries {tax_total.type} at {tax_total.rate}"
                )
            else:
                check.same(f"totals.taxes.{j}.amount.amount", tax_total.amount.amount, ours[key])
        missing = set(ours) - {(t.type, t.rate) for t in stated.taxes}
        for kind, rate in sorted(missing):
            check.rule("totals.taxes", f"{kind} at {rate} is missing ({ours[(kind, rate)]})")
    if stated.amount_in_words is not None:
        if words is None:
            check.rule("totals.amount_in_words", "is only printed on Mexican peso invoices")
        else:
            check.same("totals.amount_in_words", " ".join(stated.amount_in_words.split()), words)


def _dates(
    doc: PremiumInvoice, check: Reconciler
) -> tuple[date, date, int | None, date | None, datetime | None, bool]:
    inv = doc.invoice
    jurisdiction = doc.document.jurisdiction
    premium = inv.kind in PREMIUM_KINDS
    first_premium = premium and inv.period.start == doc.policy.period.start
    if inv.kind == "credit_note":
        day = _credit_note(doc, check)
        return day, day, None, None, None, False
    if premium and jurisdiction == "MX":
        check_mx_instalment_length(
            "invoice.period", inv.period.start, inv.period.end, inv.issue_date, check
        )

    # Due date.
    due: date | None
    if premium and jurisdiction == "MX":
        due = inv.period.start  # LSCS art. 37: due at the start of the period covered
        check.same(
            "invoice.due_date",
            inv.due_date,
            due,
            why="an instalment falls due at the start of the period it covers",
        )
    elif premium:
        due = inv.due_date  # ES: the contractual due date of the schedule
        if due is None:
            check.rule("invoice.due_date", "is required: the schedule's contractual due date")
    elif doc.policy.payment_terms_days is not None:
        due = add_calendar_days(inv.issue_date, doc.policy.payment_terms_days)
        check.same(
            "invoice.due_date",
            inv.due_date,
            due,
            why=f"issue date + {doc.policy.payment_terms_days} days of payment terms",
        )
    else:
        due = inv.due_date
        if due is None:
            check.rule(
                "invoice.due_date", "is required, or policy.payment_terms_days to compute it"
            )
    if due is None:
        due = inv.issue_date  # only to carry on collecting problems; never rendered

    # Payment deadline, grace, suspension and cover cut-off.
    grace: int | None = None
    suspension: date | None = None
    ceases: datetime | None = None
    if jurisdiction == "MX" and premium:
        grace = _mx_grace(inv, check)
        deadline = add_calendar_days(due, grace)
        ceases = datetime.combine(
            deadline, MX_COVER_CEASES_AT, tzinfo=ZoneInfo(JURISDICTION_TZ["MX"])
        )
        if inv.cover_ceases_if_unpaid is not None:
            if inv.cover_ceases_if_unpaid.tzinfo is None:
                check.rule("invoice.cover_ceases_if_unpaid", "needs a UTC offset")
            else:
                check.same(
                    "invoice.cover_ceases_if_unpaid",
                    inv.cover_ceases_if_unpaid,
                    ceases,
                    show=lambda d: d.isoformat(),
                    why="noon, Mexico City time, on the last day of grace",
                )
        why = f"due date + {grace} days of grace"
    else:
        deadline = due
        why = "the due date"
        if inv.grace_days is not None:
            check.rule("invoice.grace_days", "applies only to Mexican premium invoices")
        if inv.cover_ceases_if_unpaid is not None:
            check.rule("invoice.cover_ceases_if_unpaid", "applies only to Mexican premium invoices")
    if jurisdiction == "ES" and premium and not first_premium:
        # LCS art. 15: suspended one month after the due date
        suspension = add_months(
            due, legal.months("premium.suspension_after_due", "ES", inv.issue_date)
        )
    if "suspension_date_if_unpaid" in inv.model_fields_set:
        stated = inv.suspension_date_if_unpaid
        if stated != suspension:
            check.rule(
                "invoice.suspension_date_if_unpaid",
                f"stated {stated} but the service computes {suspension} "
                "(ES: one month after the due date, none for the first premium)",
            )
    check.same("invoice.payment_deadline", inv.payment_deadline, deadline, why=why)
    if inv.issue_date > deadline:
        check.rule(
            "invoice.issue_date",
            f"{inv.issue_date} is after the date to pay by ({deadline}): the invoice would "
            "print a past deadline",
        )
    return due, deadline, grace, suspension, ceases, first_premium


def _mx_grace(inv: InvoiceHeader, check: Reconciler) -> int:
    """The agreed days of grace, within the law's range, or the law's default."""
    law = legal.rule("premium.grace", "MX", inv.issue_date)
    assert isinstance(law.value, legal.Range)
    grace = inv.grace_days if inv.grace_days is not None else law.value.default
    if not law.value.minimum <= grace <= law.value.maximum:
        check.rule(
            "invoice.grace_days",
            f"{grace} is outside {law.value.minimum}..{law.value.maximum} days ({law.source})",
        )
    return grace


def _credit_note(doc: PremiumInvoice, check: Reconciler) -> date:
    """A credit note pays nothing: it says what we credit, how and by when.

    It names the invoice it corrects and, in Spain, is numbered in a rectifying series of
    its own (RD 1619/2012 art. 15). None of the payment deadline fields apply to it.
    """
    inv = doc.invoice
    for name in (
        "due_date",
        "payment_deadline",
        "grace_days",
        "cover_ceases_if_unpaid",
        "suspension_date_if_unpaid",
    ):
        if getattr(inv, name) is not None:
            check.rule(
                f"invoice.{name}",
                "a credit note has no payment deadline: credit.date says when we credit it",
            )
    credit = doc.credit
    if credit is None:
        check.rule("credit", "a credit note says how (method) and when (date) we credit it")
        return inv.issue_date
    if credit.date < inv.issue_date:
        check.rule("credit.date", f"{credit.date} is before the issue date {inv.issue_date}")
    if credit.method == "refund_transfer":
        account = "clabe" if doc.document.jurisdiction == "MX" else "iban"
        if getattr(credit, account) is None:
            check.rule(f"credit.{account}", "a refund by transfer names the account it goes to")
    _check_accounts("credit", credit.iban, credit.clabe, check)
    return credit.date


def _check_payment(doc: PremiumInvoice, check: Reconciler) -> None:
    pay = doc.payment
    if doc.document.jurisdiction == "MX":
        if pay.clabe is None:
            check.rule("payment.clabe", "is required on a Mexican invoice")
    elif pay.iban is None:
        check.rule("payment.iban", "is required on a Spanish invoice")
    _check_accounts("payment", pay.iban, pay.clabe, check)


def _check_accounts(at: str, iban: str | None, clabe: str | None, check: Reconciler) -> None:
    if clabe is not None and (why := banking.clabe_problem(clabe)):
        check.rule(f"{at}.clabe", why)
    if iban is not None and (why := banking.iban_problem(iban)):
        check.rule(f"{at}.iban", why)


_NUMBER = re.compile(r"^(?P<series>[A-Z0-9]+)-(?P<year>\d{4})-(?P<seq>\d{6})$")


def _check_header(doc: PremiumInvoice, check: Reconciler) -> None:
    inv = doc.invoice
    match = _NUMBER.match(inv.number) if inv.number is not None else None
    if inv.number is None:
        pass  # allocated by the registry when the invoice is issued; drafts have none
    elif not match:
        check.rule("invoice.number", "must read {series}-{year}-{sequence of 6 digits}")
    else:
        if match["series"] != inv.series:
            check.rule("invoice.number", f"does not belong to series {inv.series}")
        if int(match["year"]) != inv.issue_date.year:
            check.rule(
                "invoice.number", f"carries year {match['year']}, issued in {inv.issue_date.year}"
            )
    check.same(
        "invoice.issue_date", inv.issue_date, doc.document.issue_date, why="document.issue_date"
    )
    if not (
        doc.policy.period.start <= inv.period.start and inv.period.end <= doc.policy.period.end
    ):
        check.rule("invoice.period", "falls outside policy.period")
    if inv.kind == "credit_note" and doc.related is None:
        check.rule("related", "a credit note must name the invoice it corrects")
    if inv.kind != "credit_note" and doc.credit is not None:
        check.rule("credit", "only a credit note credits an amount")
    if doc.document.jurisdiction == "ES" and inv.kind == "credit_note":
        original = _NUMBER.match(doc.related.original_invoice) if doc.related else None
        if not RECTIFYING_SERIES.match(inv.series):
            check.rule(
                "invoice.series",
                f"{inv.series!r} is an ordinary series: a credit note is a rectifying invoice "
                "in a series of its own, such as R (RD 1619/2012 arts. 6 and 15)",
            )
        elif original and original["series"] == inv.series:
            check.rule(
                "invoice.series",
                f"{inv.series!r} is the series of the invoice it corrects: a rectifying "
                "invoice has a series of its own (RD 1619/2012 arts. 6 and 15)",
            )
    if doc.related is not None and doc.related.original_invoice == inv.number:
        check.rule("related.original_invoice", "a credit note cannot correct itself")


def _check_cfdi(doc: PremiumInvoice, total: Decimal, check: Reconciler) -> None:
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


@dataclass(frozen=True)
class QrCode:
    """A QR code as a PNG of one pixel per module, quiet zone included.

    A raster of exact modules, drawn with ``image-rendering: pixelated`` (PDF
    ``/Interpolate false``, as PDF/A requires), stays sharp at any zoom and costs the
    renderer a few hundred bytes to embed; as an SVG of one path per run of dark modules
    it cost about 20 ms of path parsing and drawing per invoice (bench/history/qr_code.py).
    """

    png: bytes

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI: base64 of bytes we generated, never request text."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _qr(payload: str, quiet_zone: int = 4) -> QrCode:
    """Encode ``payload`` (error correction M) as a QR code."""
    import segno

    png = io.BytesIO()
    segno.make_qr(payload, error="m").save(png, kind="png", scale=1, border=quiet_zone)
    return QrCode(png.getvalue())


def derive(doc: PremiumInvoice) -> InvoiceFigures:
    """Compute the invoice's figures and refuse it if any stated figure disagrees."""
    check = Reconciler()
    currency = doc.policy.currency
    _check_header(doc, check)
    lines = _lines(doc, check)
    taxes = _tax_summary(lines)
    net = sum((line.net for line in lines), Decimal(0))
    tax_total = sum((t.amount for t in taxes), Decimal(0))
    total = net + tax_total
    if total >= AMOUNT_LIMIT:
        check.rule(
            "lines",
            f"add up to a total of {total}; the largest amount an invoice can carry is "
            f"{AMOUNT_LIMIT - minor_unit(currency)}",
        )
    words = _words(total, currency, check) if total < AMOUNT_LIMIT else None
    _check_totals(doc, taxes, net, total, words, check)
    due, deadline, grace, suspension, ceases, first = _dates(doc, check)
    _check_payment(doc, check)
    _check_cfdi(doc, total, check)
    check.raise_if_any()
    return InvoiceFigures(
        currency=currency,
        lines=lines,
        taxes=taxes,
        net=net,
        tax_total=tax_total,
        total=total,
        due_date=due,
        payment_deadline=deadline,
        grace_days=grace,
        suspension_date=suspension,
        cover_ceases_at=ceases,
        first_premium=first,
        premium=doc.invoice.kind in PREMIUM_KINDS,
        amount_in_words=words,
        any_vat_exempt=any(line.vat_exempt for line in lines),
        qr=_qr(doc.cfdi.qr_payload) if doc.cfdi else None,
        credit_note=doc.invoice.kind == "credit_note",
        premium_net=sum(
            (
                f.net
                for f, line in zip(lines, doc.lines, strict=True)
                if line.code in PREMIUM_LINE_CODES
            ),
            Decimal(0),
        ),
    )


def _words(total: Decimal, currency: str, check: Reconciler) -> str | None:
    """The Mexican amount in words; an amount beyond the words we write is refused."""
    if currency != "MXN":
        return None
    try:
        return amount_in_words_mxn(total)
    except ValueError as error:
        check.rule("totals.total", str(error))
        return None


def numbering(doc: PremiumInvoice) -> NumberRequest:
    """Invoices are numbered per series and year (RD 1619/2012 art. 6; Directive art. 226)."""
    inv = doc.invoice
    return NumberRequest(series=inv.series, year=inv.issue_date.year, stated=inv.number)


def with_number(payload: dict[str, Any], number: str) -> dict[str, Any]:
    """``payload`` with ``invoice.number`` set to the allocated number."""
    return {**payload, "invoice": {**payload["invoice"], "number": number}}


KIND = Kind(
    name="premium_invoice",
    model=PremiumInvoice,
    derive=derive,
    template="premium_invoice.html",
    sample_file="02_premium_invoice_es-MX.json",
    numbering=numbering,
    with_number=with_number,
)


def sample_with_lines(count: int) -> dict[str, Any]:
    """The es-MX sample with ``count`` monitoring-fee lines, for tests and benchmarks of
    long invoices. The service computes the totals; the CFDI QR code states the total it
    will compute (16 % IVA, rounded half-up per line)."""
    payload = copy.deepcopy(KIND.sample())
    template = payload["lines"][2]
    lines, total = [], Decimal(0)
    for i in range(count):
        price = quantize(Decimal("100.00") + Decimal(i) / 4, "MXN")
        quantity = 1 + i % 3
        line = copy.deepcopy(template)
        line["description"] = f"Cuota de monitoreo del comprador {i + 1:05d}, vigencia 2027"
        line["quantity"] = str(quantity)
        line["unit_price"]["amount"] = str(price)
        del line["net"], line["tax"]
        lines.append(line)
        net = price * quantity
        total += net + quantize(net * Decimal("0.16"), "MXN")
    payload["lines"] = lines
    del payload["totals"]
    cfdi = payload["cfdi"]
    cfdi["qr_payload"] = (
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
        f"?id={cfdi['uuid']}&re=FSC980615K25&rr=DNA150312AB0&tt={total}"
    )
    return payload
