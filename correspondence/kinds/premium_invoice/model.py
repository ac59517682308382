"""The premium invoice's payload model: header, lines, taxes, totals, payment, CFDI data."""

from __future__ import annotations

import re
from datetime import time
from typing import Literal

from pydantic import Field

from correspondence.models import (
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
from correspondence.taxes import LINE_CODES

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
    """How to pay. By transfer: the insurer's account (``iban``/``clabe``), the
    beneficiary and the reference to quote. By direct debit: ``iban``/``clabe`` is the
    policyholder's account we debit (printed masked); a Spanish (SEPA) direct debit also
    states the mandate reference and the insurer's creditor identifier."""

    method: Literal["transfer", "direct_debit"]
    mandate_reference: str | None = Field(
        default=None, max_length=35, pattern=r"^[A-Za-z0-9+?/:().,' -]{1,35}$"
    )
    creditor_identifier: str | None = Field(
        default=None, max_length=35, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$"
    )
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
