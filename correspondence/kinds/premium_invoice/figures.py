"""The invoice's computed figures: each line's net and taxes, the tax summary, the
totals against the stated ones, the Mexican amount in words and the CFDI QR code."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

from correspondence.checks import Reconciler
from correspondence.kinds.premium_invoice.model import (
    PremiumInvoice,
    TaxLine,
)
from correspondence.kinds.premium_invoice.sat import LineKeys, SatEntry
from correspondence.money import amount_in_words_mxn, apply_rate, quantize
from correspondence.taxes import taxation


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
    sat_codes: Mapping[str, SatEntry] = field(default_factory=dict)
    """The printed CFDI's codes with their SAT catalogue entries: by CFDI attribute
    (``UsoCFDI``…) and by line (``0.clave_prod_serv``…)."""
    sat_lines: tuple[LineKeys, ...] = ()
    """The lines' SAT keys, one row per combination (ClaveProdServ, ClaveUnidad, ObjetoImp)."""
    customer_account: str | None = None
    """The policyholder's own account (debited, or refunded into), masked for print."""


@dataclass(frozen=True)
class QrCode:
    """The QR code of ``payload`` (error correction M) as a PNG of one pixel per module,
    quiet zone included.

    A raster of exact modules, drawn with ``image-rendering: pixelated`` (PDF
    ``/Interpolate false``, as PDF/A requires), stays sharp at any zoom and costs the
    renderer a few hundred bytes to embed; as an SVG of one path per run of dark modules
    it cost about 20 ms of path parsing and drawing per invoice (bench/history/qr_code.py).

    Encoded when first drawn, not when the invoice is validated: segno's search for the
    best mask took 20 of a CFDI invoice's 24 ms of validation, and an issued invoice is
    validated twice (on acceptance, then before it is numbered) and its figures derived a
    third time (once numbered) for one render. Any payload the model accepts fits
    (``QR_PAYLOAD_MAX``: 1,000 printable characters, where a version-40 code at level M
    holds 2,331 bytes), so encoding it late cannot fail where validating would have passed.
    """

    payload: str
    quiet_zone: int = 4

    @cached_property
    def png(self) -> bytes:
        import segno

        png = io.BytesIO()
        segno.make_qr(self.payload, error="m").save(
            png, kind="png", scale=1, border=self.quiet_zone
        )
        return png.getvalue()

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:`` URI: base64 of bytes we generated, never request text."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def line_figures(doc: PremiumInvoice, check: Reconciler) -> tuple[LineFigure, ...]:
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


def tax_summary(lines: Sequence[LineFigure]) -> tuple[TaxFigure, ...]:
    grouped: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in lines:
        for tax in line.taxes:
            base, amount = grouped.get((tax.type, tax.rate), (Decimal(0), Decimal(0)))
            grouped[(tax.type, tax.rate)] = (base + tax.base, amount + tax.amount)
    return tuple(TaxFigure(t, r, b, a) for (t, r), (b, a) in grouped.items())


def check_totals(
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


def amount_in_words(total: Decimal, currency: str, check: Reconciler) -> str | None:
    """The Mexican amount in words; an amount beyond the words we write is refused."""
    if currency != "MXN":
        return None
    try:
        return amount_in_words_mxn(total)
    except ValueError as error:
        check.rule("totals.total", str(error))
        return None
