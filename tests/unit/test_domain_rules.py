"""Domain rules that hold on every input (issue 20), one section per class of defect.

Each property generates payloads from the kinds' own samples with duplicates, signs,
currencies, date orders and regions, and checks that each one is either refused naming
the field or computed as the rules say. Expected values come from independent sources
where one exists: ``holidays`` and ISO 3166-2 (``pycountry``) for calendars, the Mexican
stock exchange's calendar for the banking one, ``python-stdnum`` for check digits, and a
parser of Spanish number words for the amount in words.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import holidays
import pycountry
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban

from correspondence import legal
from correspondence.calendar import BusinessCalendar
from correspondence.checks import Reconciler
from correspondence.claims import ClaimInput, InvoiceIn, RecoveryIn, calculate
from correspondence.errors import InvalidPayload
from correspondence.kinds import KINDS, validate
from correspondence.kinds.claim_decision import ClaimFigures
from correspondence.kinds.collection_update import UpdateFigures
from correspondence.kinds.credit_limit_change_notice import ChangeFigures
from correspondence.kinds.premium_invoice import InvoiceFigures
from correspondence.kinds.renewal_pack import send_by_date
from correspondence.money import amount_in_words_mxn
from correspondence.regions import es_subdivision
from correspondence.rules import check_mx_due_at_start, check_mx_instalment_length
from tests.conftest import in_language, pdf_text

FAST = settings(max_examples=40, deadline=None)


# --- helpers -------------------------------------------------------------------------------------


def sample(kind: str) -> dict[str, Any]:
    return copy.deepcopy(KINDS[kind].sample())


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidPayload) as caught:
        validate(payload)
    return {p.field: p.message for p in caught.value.problems}


def outcome(payload: dict[str, Any]) -> tuple[object | None, dict[str, str]]:
    """(figures, {}) when accepted, (None, problems) when refused."""
    try:
        return validate(payload).figures, {}
    except InvalidPayload as refused:
        return None, {p.field: p.message for p in refused.problems}


def money_paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every ``{"amount", "currency"}`` object in a JSON payload, by path."""
    if isinstance(node, dict):
        if set(node) == {"amount", "currency"}:
            yield path
        for key, value in node.items():
            yield from money_paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from money_paths(value, (*path, i))


def at(payload: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        payload = payload[part]
    return payload


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shift_dates(node: Any, days: int) -> Any:
    """Every ISO date (and date-time) in a payload moved by ``days``: relations between the
    dates a payload states are kept."""
    if isinstance(node, dict):
        return {k: shift_dates(v, days) for k, v in node.items()}
    if isinstance(node, list):
        return [shift_dates(v, days) for v in node]
    if isinstance(node, str) and _ISO_DATE.match(node[:10]):
        try:
            day = dt.date.fromisoformat(node[:10])
        except ValueError:
            return node
        return (day + dt.timedelta(days=days)).isoformat() + node[10:]
    return node


def es_invoice() -> dict[str, Any]:
    """The renewal pack's envelope and invoice section as a Spanish premium invoice."""
    pack = sample("renewal_pack")
    keys = ("document", "insurer", "policyholder", "account_executive", "broker", "policy")
    payload = {key: pack[key] for key in keys if key in pack}
    payload["document"]["type"] = "premium_invoice"
    payload.update(pack["premium_invoice"])
    return payload


ALL_KINDS = sorted(KINDS)


def claim_input(
    invoices: list[InvoiceIn], recoveries: list[RecoveryIn], *, vat_covered: bool
) -> ClaimInput:
    """A claim with no cap that binds: limit and maximum liability far above the debt,
    90 % cover, no deductible, no threshold."""
    big = Decimal(10**9)
    return ClaimInput(
        "EUR",
        invoices,
        recoveries,
        vat_covered,
        big,
        Decimal(0),
        None,
        Decimal("0.9"),
        "after_percentage",
        Decimal(0),
        Decimal(0),
        big,
    )


# --- 1. identity of things inside a payload ------------------------------------------------------


def _two_invoices_one_number(same_year: bool) -> dict[str, Any]:
    """The claim sample with its second invoice renumbered as the first: a year earlier
    (numbering restarts each year) or in the same year (a duplicate)."""
    payload = sample("claim_decision")
    first, second = payload["invoices"][0], payload["invoices"][1]
    second["number"] = first["number"]
    if not same_year:
        for key in ("invoice_date", "due_date"):
            day = dt.date.fromisoformat(second[key])
            second[key] = day.replace(year=day.year - 1).isoformat()
    payload["calculation"].pop("steps", None)
    for key in ("claimed_gross", "eligible_outstanding", "insured_loss", "payable"):
        payload["calculation"].pop(key, None)
    payload["calculation"]["deductible"].pop("applied", None)
    payload["calculation"]["deductible"].pop("afl_remaining_after", None)
    payload["calculation"].pop("indemnity_before_deductible", None)
    payload["calculation"].pop("ineligible_total", None)
    payload.pop("outcome", None)
    for recovery in payload["pre_loss_recoveries"]:
        recovery.pop("allocated_to", None)
    return payload


def test_invoices_sharing_a_number_in_different_years_are_two_invoices() -> None:
    """Numbering restarts each year: the same number a year apart is another invoice, and
    the claim computes as if the numbers differed (no recovery deducted twice)."""
    shared = _two_invoices_one_number(same_year=False)
    distinct = copy.deepcopy(shared)
    distinct["invoices"][1]["number"] = "OTHER-0001"
    ours = validate(shared).figures
    theirs = validate(distinct).figures
    assert isinstance(ours, ClaimFigures) and isinstance(theirs, ClaimFigures)
    assert ours.calc.payable == theirs.calc.payable
    assert ours.calc.eligible_outstanding == theirs.calc.eligible_outstanding
    recovered = sum(r.recovered_gross for r in ours.calc.invoices)
    assert recovered == sum(Decimal(r["gross"]["amount"]) for r in shared["pre_loss_recoveries"])


def test_the_same_number_twice_in_one_year_is_refused() -> None:
    found = problems(_two_invoices_one_number(same_year=True))
    assert "repeats the number and year" in found["invoices.1.number"]


@FAST
@given(st.permutations(range(4)), st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_claim_identity_is_position_not_number(order: list[int], renames: list[int]) -> None:
    """Engine property: numbers are labels. Giving invoices colliding numbers (in any
    order) changes no figure of the calculation."""
    base = [
        InvoiceIn(
            f"F-{k}",
            dt.date(2024 + k % 2, 3, 1 + k),
            dt.date(2025, 5, 1 + 7 * k),
            Decimal(1000 * (k + 1)),
            Decimal(210 * (k + 1)),
            True,
        )
        for k in order
    ]
    renamed = [
        InvoiceIn(f"F-{renames[k % len(renames)]}", i.invoice_date, i.due_date, i.net, i.vat, True)
        for k, i in enumerate(base)
    ]

    def run(invoices: list[InvoiceIn]) -> Any:
        return calculate(
            claim_input(
                invoices, [RecoveryIn(dt.date(2025, 9, 1), Decimal("3719.00"))], vat_covered=False
            )
        )

    a, b = run(base), run(renamed)
    assert (a.payable, a.eligible_outstanding, a.steps) == (
        b.payable,
        b.eligible_outstanding,
        b.steps,
    )


@pytest.mark.parametrize(
    ("kind", "listing", "field"),
    [
        ("collection_update", "cases", "case_number"),
        ("collection_update", "remittances", "reference"),
        ("claim_filing_guide", "documents_required", "code"),
    ],
)
def test_duplicate_identities_are_refused(kind: str, listing: str, field: str) -> None:
    payload = sample(kind)
    items = payload[listing]
    items.append(copy.deepcopy(items[0]))
    found = problems(payload)
    assert f"{listing}.{len(items) - 1}.{field}" in found


def test_duplicate_instalment_numbers_are_refused() -> None:
    payload = sample("renewal_pack")
    instalments = payload["schedule"]["premium"]["instalments"]
    instalments[1]["number"] = instalments[0]["number"]
    assert "schedule.premium.instalments.1.number" in problems(payload)


# --- 2. sign, currency and range of every amount, in every kind ----------------------------------


@FAST
@given(st.sampled_from(ALL_KINDS), st.data(), st.sampled_from(["USD", "GBP", "CHF"]))
def test_an_amount_in_another_currency_is_refused_in_every_kind(
    kind: str, data: st.DataObject, foreign: str
) -> None:
    """Any amount anywhere in any kind, in a currency that is not the policy's: refused,
    naming that amount's currency."""
    payload = sample(kind)
    paths = list(money_paths(payload))
    path = data.draw(st.sampled_from(paths))
    assume(foreign != payload["policy"]["currency"])
    at(payload, path)["currency"] = foreign
    found = problems(payload)
    assert f"{dotted(path)}.currency" in found, found


@FAST
@given(st.sampled_from(ALL_KINDS), st.data(), st.decimals("0.01", "99999.99", places=2))
def test_a_negative_amount_is_refused_unless_declared_signed(
    kind: str, data: st.DataObject, magnitude: Decimal
) -> None:
    """Every amount declares whether it may be negative: only deduction lines of a claim
    calculation may; any other negative amount is refused naming it."""
    payload = sample(kind)
    path = data.draw(st.sampled_from(list(money_paths(payload))))
    at(payload, path)["amount"] = str(-magnitude)
    figures, found = outcome(payload)
    name = dotted(path)
    if re.fullmatch(r"calculation\.steps\.\d+\.amount", name):
        assert f"{name}.amount" not in found  # signed; any other disagreement is named
    else:
        assert figures is None
        assert found[f"{name}.amount"].startswith("must not be negative")


def test_the_usd_limit_on_a_eur_policy_is_refused_not_read_as_euros() -> None:
    payload = sample("credit_limit_change_notice")
    payload["limit"]["new"]["currency"] = "USD"
    assert "limit.new.currency" in problems(payload)


@FAST
@given(st.decimals("0.01", "200000.00", places=2))
def test_recoveries_larger_than_the_debt_are_refused(gross: Decimal) -> None:
    payload = sample("claim_decision")
    debt = sum(
        Decimal(i["net"]["amount"]) + Decimal(i["vat"]["amount"]) for i in payload["invoices"]
    )
    recovery = payload["pre_loss_recoveries"][0]
    recovery["gross"]["amount"] = str(gross)
    for key in ("net", "vat_share", "allocated_to"):
        recovery.pop(key, None)
    payload["calculation"].pop("steps")
    for key in list(payload["calculation"]):
        if key not in (
            "indemnity_pct",
            "deductible",
            "max_liability_remaining_before",
            "covered_costs",
            "claim_threshold",
        ):
            payload["calculation"].pop(key)
    payload["calculation"]["deductible"].pop("applied", None)
    payload["calculation"]["deductible"].pop("afl_remaining_after", None)
    payload.pop("outcome", None)
    _, found = outcome(payload)
    if gross > debt:
        assert "pre_loss_recoveries.0.gross.amount" in found
    else:
        assert "pre_loss_recoveries.0.gross.amount" not in found


def test_remittances_beyond_what_was_recovered_are_refused() -> None:
    payload = sample("collection_update")
    remittance = payload["remittances"][0]
    case = next(c for c in payload["cases"] if c["case_number"] == remittance["case_number"])
    recovered = Decimal(case["recovered_before"]["amount"]) + sum(
        Decimal(r["amount"]["amount"]) for r in case["recoveries"]
    )
    remittance["amount"]["amount"] = str(recovered + Decimal("0.01"))
    assert "remittances.0.amount" in problems(payload)


# --- 3. dates that must be ordered ---------------------------------------------------------------


@FAST
@given(st.integers(-200, 200))
def test_a_recovery_after_the_date_of_loss_is_refused(offset: int) -> None:
    """Post-loss recoveries are shared, not deducted first: a 'pre-loss' recovery dated
    after the date of loss is refused; on or before it, it is deducted."""
    payload = sample("claim_decision")
    loss = dt.date.fromisoformat(payload["claim"]["date_of_loss"])
    day = loss + dt.timedelta(days=offset)
    first_invoice = min(dt.date.fromisoformat(i["invoice_date"]) for i in payload["invoices"])
    assume(day >= first_invoice)
    payload["pre_loss_recoveries"][0]["date"] = day.isoformat()
    figures, found = outcome(payload)
    if offset > 0:
        assert "after the date of loss" in found["pre_loss_recoveries.0.date"]
    else:
        assert isinstance(figures, ClaimFigures), found


@FAST
@given(st.integers(-60, 60))
def test_an_invoice_issued_after_its_pay_by_date_is_refused(offset: int) -> None:
    payload = es_invoice()
    issued = dt.date.fromisoformat(payload["invoice"]["issue_date"])
    payload["invoice"]["due_date"] = (issued + dt.timedelta(days=offset)).isoformat()
    for key in ("payment_deadline", "suspension_date_if_unpaid"):
        payload["invoice"].pop(key, None)
    figures, found = outcome(payload)
    if offset < 0:
        assert "past deadline" in found["invoice.issue_date"]
    else:
        assert isinstance(figures, InvoiceFigures), found
        assert figures.payment_deadline >= issued


@FAST
@given(
    st.dates(dt.date(2026, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 120), st.integers(-20, 20)
)
def test_mx_instalments_fall_due_at_the_start_and_cover_a_month(
    start: dt.date, length: int, due_offset: int
) -> None:
    """LSCS arts. 37-38, the one rule used by both the invoice and the renewal schedule."""
    end = start + dt.timedelta(days=length)
    due = start + dt.timedelta(days=due_offset)
    check = Reconciler()
    check_mx_due_at_start("due", start, due, check)
    check_mx_instalment_length("end", start, end, start, check)
    fields = {p.field for p in check.problems}
    assert ("due" in fields) == (due != start)
    shortest_end = start + relativedelta(months=1) - dt.timedelta(days=1)
    assert ("end" in fields) == (end < shortest_end)


def test_a_fifteen_day_mexican_invoice_is_refused(invoice_mx: dict[str, Any]) -> None:
    invoice_mx["invoice"]["period"]["end"] = "2027-01-15"
    for line in invoice_mx["lines"]:
        line.pop("period", None)
    assert "LSCS art. 38" in problems(invoice_mx)["invoice.period"]


def _mx_pack() -> dict[str, Any]:
    """A Mexican renewal pack: the Spanish pack's renewal and schedule in pesos, around the
    Mexican invoice sample (premium 62,500.00 plus an instalment surcharge and a policy fee)
    as instalment 1 of four quarterly deposit instalments, each due when its quarter starts."""
    pack = sample("renewal_pack")
    invoice = sample("premium_invoice")
    for path in money_paths(pack):
        at(pack, path)["currency"] = "MXN"
    for key in ("document", "insurer", "policyholder", "account_executive", "policy"):
        pack[key] = invoice[key]
    pack.pop("broker", None)
    pack["document"]["type"] = "renewal_pack"
    section = {k: invoice[k] for k in ("invoice", "lines", "totals", "payment", "cfdi")}
    pack["premium_invoice"] = section
    premium = pack["schedule"]["premium"]
    premium.pop("ips_rate", None)
    premium["payment_method"] = invoice["payment"]["method"]
    premium["deposit_premium"] = {"amount": "250000.00", "currency": "MXN"}
    for inst in premium["instalments"]:
        inst["due_date"] = inst["period_start"]
        inst["amount"]["amount"] = "62500.00"
    return pack


def test_a_mexican_pack_with_surcharge_and_policy_fee_is_accepted(engine: Any) -> None:
    """Class 12: the premium line is compared with instalment 1, not the whole net."""
    payload = _mx_pack()
    net = Decimal(payload["premium_invoice"]["totals"]["net"]["amount"])
    assert net != Decimal("62500.00")  # the surcharge and the fee ride on the invoice
    html = engine.html(engine.validate(payload), link_css=False)
    assert "76,067.00" in html


@FAST
@given(st.integers(0, 3), st.integers(-10, 10), st.integers(0, 40))
def test_a_mexican_schedule_with_a_late_or_short_instalment_is_refused(
    n: int, due_offset: int, cut: int
) -> None:
    """Class 3: an instalment due after (or before) its period starts, or covering less than
    a month, is refused as on the invoice (LSCS arts. 37-38); with instalment 1, the
    invoice's own disagreements are reported with it, all at once."""
    payload = _mx_pack()
    instalments = payload["schedule"]["premium"]["instalments"]
    inst = instalments[n]
    start = dt.date.fromisoformat(inst["period_start"])
    inst["due_date"] = (start + dt.timedelta(days=due_offset)).isoformat()
    if cut:  # shorten this instalment and lengthen the next (or the previous) one
        end = dt.date.fromisoformat(inst["period_end"]) - dt.timedelta(days=cut)
        if n < 3:
            inst["period_end"] = end.isoformat()
            instalments[n + 1]["period_start"] = (end + dt.timedelta(days=1)).isoformat()
            instalments[n + 1]["due_date"] = instalments[n + 1]["period_start"]
    figures, found = outcome(payload)
    at_ = f"schedule.premium.instalments.{n}"
    short = (
        cut
        and n < 3
        and (
            dt.date.fromisoformat(inst["period_end"])
            < start + relativedelta(months=1) - dt.timedelta(days=1)
        )
    )
    assert (f"{at_}.due_date" in found) == (due_offset != 0)
    assert (f"{at_}.period_end" in found) == bool(short)
    if not due_offset and not short and not (cut and n == 0):
        assert figures is not None, found
    if n == 0 and due_offset:
        assert "premium_invoice.invoice.due_date" in found  # the invoice's own, with it


# --- 4. credit notes -----------------------------------------------------------------------------


def _credit_note(payload: dict[str, Any], series: str) -> dict[str, Any]:
    inv = payload["invoice"]
    inv["kind"] = "credit_note"
    inv["series"] = series
    if inv.get("number"):
        inv["number"] = re.sub(r"^[A-Z0-9]+-", f"{series}-", inv["number"])
    for key in (
        "due_date",
        "payment_deadline",
        "grace_days",
        "cover_ceases_if_unpaid",
        "suspension_date_if_unpaid",
    ):
        inv.pop(key, None)
    payload["related"] = {"original_invoice": "PR-2026-000001", "reason": "Prima cobrada dos veces"}
    payload["credit"] = {
        "method": "offset_next_invoice",
        "date": (dt.date.fromisoformat(inv["issue_date"]) + dt.timedelta(days=10)).isoformat(),
    }
    return payload


def test_a_spanish_credit_note_in_the_ordinary_series_is_refused() -> None:
    payload = _credit_note(es_invoice(), "PR")
    assert "RD 1619/2012 arts. 6 and 15" in problems(payload)["invoice.series"]


def test_a_credit_note_cannot_share_the_series_of_the_invoice_it_corrects() -> None:
    payload = _credit_note(es_invoice(), "R")
    payload["related"]["original_invoice"] = "R-2026-000001"
    assert "series of the invoice it corrects" in problems(payload)["invoice.series"]


def test_a_credit_note_needs_how_and_when() -> None:
    payload = _credit_note(es_invoice(), "R")
    del payload["credit"]
    assert "credit" in problems(payload)
    payload = _credit_note(es_invoice(), "R")
    payload["credit"] = {"method": "refund_transfer", "date": payload["credit"]["date"]}
    assert "credit.iban" in problems(payload)


@pytest.mark.parametrize("which", ["es", "mx"])
def test_a_credit_note_says_what_we_credit_never_what_to_pay(
    engine: Any, invoice_mx: dict[str, Any], which: str
) -> None:
    payload = _credit_note(es_invoice(), "R") if which == "es" else _credit_note(invoice_mx, "NC")
    if which == "mx":
        payload["cfdi"]["serie"] = "NC"
    validated = engine.validate(payload)
    html = engine.html(validated, link_css=False)
    for forbidden in ("Total a pagar", "Fecha límite de pago", "Qué se le cobra", "Cómo pagar"):
        assert forbidden not in html
    assert "Total a abonar" in html and "Qué le abonamos" in html
    assert "lo descontaremos de su próxima factura" in html
    if which == "es":  # and the PDF says the same
        text = pdf_text(engine.render(validated).pdf)
        assert "Total a abonar" in text and "Total a pagar" not in text


def test_a_credit_notes_email_says_credited_not_due(engine: Any) -> None:
    from correspondence.mail.compose import Envelope as MailEnvelope
    from correspondence.mail.compose import compose

    validated = engine.validate(_credit_note(es_invoice(), "R"))
    context = engine.context(validated)
    context.update(kind="premium_invoice", link=None, link_expires=None)
    envelope = MailEnvelope(
        sender="a@example.com",
        to=("b@example.com",),
        cc=(),
        message_id="<x@example.com>",
        date=dt.datetime.now(dt.UTC),
    )
    message = compose(engine.env, context, envelope, pdf=b"%PDF-1.7", filename="x.pdf")
    text = message.get_body(("plain",)).get_content()
    assert "a su favor" in text and "a pagar" not in text


# --- 5. regional calendars -----------------------------------------------------------------------

_ES_SUBDIVISIONS = [s for s in pycountry.subdivisions if s.country_code == "ES"]


@given(st.sampled_from(_ES_SUBDIVISIONS), st.sampled_from(["code", "bare", "name"]))
def test_every_community_and_province_resolves_to_its_community(sub: Any, form: str) -> None:
    """ISO 3166-2 codes (with and without ES-) and official names, independently checked
    against pycountry's province → community link and holidays' subdivisions."""
    community = (sub.parent_code or sub.code).removeprefix("ES-")
    region = {
        "code": sub.code,
        "bare": sub.code.removeprefix("ES-"),
        "name": sub.name.split(" [")[0],
    }[form]
    assert es_subdivision(region) == community
    assert community in holidays.ES.subdivisions


@pytest.mark.parametrize(
    ("region", "community"),
    [
        ("Comunidad de Madrid", "MD"),
        ("Catalunya", "CT"),
        ("Cataluña", "CT"),
        ("Bizkaia", "PV"),
        ("Vizcaya", "PV"),
        ("Gipuzkoa", "PV"),
        ("Guipúzcoa", "PV"),
        ("Araba/Álava", "PV"),
        ("Alacant", "VC"),
        ("Comunitat Valenciana", "VC"),
        ("A Coruña", "GA"),
        ("La Coruña", "GA"),
        ("Ourense", "GA"),
        ("Orense", "GA"),
        ("Girona", "CT"),
        ("Gerona", "CT"),
        ("Lleida", "CT"),
        ("Lérida", "CT"),
        ("Illes Balears", "IB"),
        ("Islas Baleares", "IB"),
        ("Euskadi", "PV"),
        ("Nafarroa", "NC"),
        ("Principado de Asturias", "AS"),
        ("Región de Murcia", "MC"),
        ("castilla-la mancha", "CM"),
        ("Sevilla", "AN"),
        ("Las Palmas", "CN"),
    ],
)
def test_common_spanish_and_co_official_names(region: str, community: str) -> None:
    assert es_subdivision(region) == community


@FAST
@given(
    st.text(
        # one line the fonts draw (issue 17 refuses the rest before any region rule)
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, categories=("L", "N", "P", "Zs")),
        min_size=1,
        max_size=30,
    ).filter(lambda t: t.strip())
)
def test_an_unknown_spanish_region_is_refused(region: str) -> None:
    assume(es_subdivision(region) is None)
    payload = sample("credit_limit_change_notice")
    payload["insurer"]["address"]["region"] = region
    figures, found = outcome(payload)
    assert figures is None  # never computed with national holidays only
    message = found["insurer.address.region"]
    assert "not a Spanish autonomous community or province" in message, message


@FAST
@given(
    st.sampled_from(sorted(h for h in holidays.ES.subdivisions if len(h) == 2)),
    st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 1)),
)
def test_appeal_answer_dates_count_the_regions_holidays(community: str, notice: dt.date) -> None:
    """The appeal's answer date is the deadline plus N business days of the insurer's
    community, counted here with holidays directly."""
    payload = shift_dates(
        sample("credit_limit_change_notice"),
        (
            notice
            - dt.date.fromisoformat(sample("credit_limit_change_notice")["document"]["issue_date"])
        ).days,
    )
    payload["insurer"]["address"]["region"] = f"ES-{community}"
    figures = validate(payload).figures
    assert isinstance(figures, ChangeFigures) and figures.appeal is not None
    days = payload["appeal"]["response_target_days"]
    calendar = holidays.ES(subdiv=community, years=range(notice.year, notice.year + 2))
    day, left = figures.appeal.deadline, days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in calendar:
            left -= 1
    assert figures.appeal.answer_by_if_sent_on_deadline == day
    assert figures.appeal.calendar == f"ES-{community}"


@FAST
@given(st.dates(dt.date(2015, 1, 1), dt.date(2039, 12, 31)))
def test_the_mexican_banking_calendar_is_the_exchanges(day: dt.date) -> None:
    """LFT art. 74 plus Holy Thursday, Good Friday, 2 November and 12 December: the days the
    Mexican exchange (XMEX, on the CNBV banking calendar) closes."""
    banking = BusinessCalendar("MX", banking=True)
    lft = BusinessCalendar("MX")
    xmex = holidays.financial_holidays("XMEX", years=day.year)
    assert banking.is_business_day(day) == (day.weekday() < 5 and day not in xmex)
    if (day.month, day.day) in ((11, 2), (12, 12)) and day.weekday() < 5:
        assert lft.is_business_day(day) and not banking.is_business_day(day)


def test_remittances_count_on_the_banking_calendar() -> None:
    """A remittance across Holy Week is late on the banking calendar even when the LFT
    calendar would call it on time; the letter then says it was late."""
    payload = sample("collection_update")
    remittance = payload["remittances"][0]
    remittance["recovered_on"] = "2026-03-27"  # Friday before Holy Week 2026
    promised = payload["collections"]["remittance_days"]
    lft = BusinessCalendar("MX").add(dt.date(2026, 3, 27), promised)
    remittance["remitted_on"] = lft.isoformat()
    figures = validate(payload).figures
    assert isinstance(figures, UpdateFigures)
    banking_days = BusinessCalendar("MX", banking=True).between(dt.date(2026, 3, 27), lft)
    assert figures.remittances[0].days == banking_days == promised - 2
    assert figures.remittances[0].calendar == "MX-BANKING"
    remittance["remitted_on"] = (
        BusinessCalendar("MX", banking=True).add(dt.date(2026, 3, 27), promised + 1).isoformat()
    )
    figures = validate(payload).figures
    assert isinstance(figures, UpdateFigures) and not figures.remittances[0].on_time


# --- 6. the Spanish 50 % minimum indemnity, wherever a percentage is stated ----------------------

PCT_FIELDS = [
    ("claim_decision", ("calculation", "indemnity_pct")),
    ("claim_filing_guide", ("policy_params", "indemnity_pct")),
    ("credit_limit_decision", ("decision", "conditions", "indemnity_pct_override")),
    ("renewal_pack", ("schedule", "cover", "indemnity_pct", "approved_limit")),
    ("renewal_pack", ("schedule", "cover", "indemnity_pct", "discretionary_limit")),
]


@FAST
@given(
    st.sampled_from(PCT_FIELDS),
    st.decimals("0.01", "1.00", places=2),
    st.sampled_from(["ES", "MX"]),
)
def test_minimum_indemnity_wherever_a_percentage_is_stated(
    where: tuple[str, tuple[str, ...]], pct: Decimal, jurisdiction: str
) -> None:
    kind, path = where
    payload = sample(kind)
    payload["document"]["jurisdiction"] = jurisdiction
    node = payload
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = str(pct)
    _, found = outcome(payload)
    field = dotted(path)
    if jurisdiction == "ES" and pct < Decimal("0.50"):
        assert "statutory minimum" in found[field]
    else:
        assert field not in found


# --- 7. bank identifiers and tax IDs -------------------------------------------------------------


@FAST
@given(st.text("0123456789", min_size=20, max_size=20))
def test_spanish_ibans_need_their_national_check_digits(bban: str) -> None:
    """Any ES IBAN with right mod-97 digits: accepted exactly when stdnum accepts its
    national (CCC) check digits; a 23-character one is always refused."""
    iban = "ES" + stdnum_iban.calc_check_digits("ES00" + bban) + bban
    payload = es_invoice()
    payload["payment"]["iban"] = iban
    _, found = outcome(payload)
    assert ("payment.iban" in found) == (not stdnum_iban.is_valid(iban))
    payload["payment"]["iban"] = iban[:-1]
    assert "payment.iban" in problems(payload)


@FAST
@given(st.sampled_from(ALL_KINDS), st.integers(0, 11), st.sampled_from("ABCXYZ0123456789"))
def test_a_wrong_tax_id_is_refused_naming_the_party(kind: str, position: int, char: str) -> None:
    payload = sample(kind)
    tax_id = payload["policyholder"]["tax_id"]
    assume(position < len(tax_id) and tax_id[position] != char)
    changed = tax_id[:position] + char + tax_id[position + 1 :]
    payload["policyholder"]["tax_id"] = changed
    from correspondence.rules import tax_id_problem

    country = payload["policyholder"]["address"]["country"]
    _, found = outcome(payload)
    assert ("policyholder.tax_id" in found) == (tax_id_problem(changed, country) is not None)


# --- 8. CFDI exchange rate -----------------------------------------------------------------------


def _usd_invoice(invoice_mx: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(invoice_mx)
    for path in money_paths(payload):
        at(payload, path)["currency"] = "USD"
    payload["policy"]["currency"] = "USD"
    payload["totals"].pop("amount_in_words", None)
    payload["cfdi"]["moneda"] = "USD"
    return payload


def test_a_cfdi_in_another_currency_carries_its_exchange_rate(invoice_mx: dict[str, Any]) -> None:
    payload = _usd_invoice(invoice_mx)
    assert "TipoCambio" in problems(payload)["cfdi.tipo_cambio"]
    payload["cfdi"]["tipo_cambio"] = "17.2345"
    assert isinstance(validate(payload).figures, InvoiceFigures)
    payload["fx"] = {"rate": "17.5000", "source": "DOF", "date": "2026-12-14"}
    assert "cfdi.tipo_cambio" in problems(payload)


# --- 9. large amounts in words -------------------------------------------------------------------

_WORD_VALUES = {
    "CERO": 0,
    "UN": 1,
    "UNO": 1,
    "DOS": 2,
    "TRES": 3,
    "CUATRO": 4,
    "CINCO": 5,
    "SEIS": 6,
    "SIETE": 7,
    "OCHO": 8,
    "NUEVE": 9,
    "DIEZ": 10,
    "ONCE": 11,
    "DOCE": 12,
    "TRECE": 13,
    "CATORCE": 14,
    "QUINCE": 15,
    "DIECISÉIS": 16,
    "DIECISIETE": 17,
    "DIECIOCHO": 18,
    "DIECINUEVE": 19,
    "VEINTE": 20,
    "VEINTIÚN": 21,
    "VEINTIUNO": 21,
    "VEINTIDÓS": 22,
    "VEINTITRÉS": 23,
    "VEINTICUATRO": 24,
    "VEINTICINCO": 25,
    "VEINTISÉIS": 26,
    "VEINTISIETE": 27,
    "VEINTIOCHO": 28,
    "VEINTINUEVE": 29,
    "TREINTA": 30,
    "CUARENTA": 40,
    "CINCUENTA": 50,
    "SESENTA": 60,
    "SETENTA": 70,
    "OCHENTA": 80,
    "NOVENTA": 90,
    "CIEN": 100,
    "CIENTO": 100,
    "DOSCIENTOS": 200,
    "TRESCIENTOS": 300,
    "CUATROCIENTOS": 400,
    "QUINIENTOS": 500,
    "SEISCIENTOS": 600,
    "SETECIENTOS": 700,
    "OCHOCIENTOS": 800,
    "NOVECIENTOS": 900,
}
_WORD_SCALES = {
    "MILLÓN": 10**6,
    "MILLONES": 10**6,
    "BILLÓN": 10**12,
    "BILLONES": 10**12,
    "TRILLÓN": 10**18,
    "TRILLONES": 10**18,
}


def parse_words(text: str) -> Decimal:
    """An independent reading of ``(… PESOS NN/100 M.N.)`` back into a number."""
    match = re.fullmatch(r"\((.+) PESOS? (\d\d)/100 M\.N\.\)", text)
    assert match, text
    words = match[1].removesuffix(" DE").split()
    total, group, small = 0, 0, 0
    for word in words:
        if word == "Y":
            continue
        if word == "MIL":
            group += (small or 1) * 1000
            small = 0
        elif word in _WORD_SCALES:
            scale = _WORD_SCALES[word]
            total += (group + small) * scale
            group = small = 0
        else:
            small += _WORD_VALUES[word]
    # scales are written largest first, each count below a million
    total += group + small
    return Decimal(total) + Decimal(match[2]) / 100


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**24 - 1), st.integers(0, 99))
def test_amount_in_words_reads_back_for_every_amount(pesos: int, cents: int) -> None:
    amount = Decimal(pesos) + Decimal(cents) / 100
    words = amount_in_words_mxn(amount)
    assert parse_words(words) == amount
    assert words.endswith(f" DE PESOS {cents:02d}/100 M.N.)") == (
        pesos >= 10**6 and pesos % 10**6 == 0
    )


def test_a_trillion_pesos_is_written_not_crashed() -> None:
    assert amount_in_words_mxn(Decimal(10**12)) == "(UN BILLÓN DE PESOS 00/100 M.N.)"
    with pytest.raises(ValueError, match="too large"):
        amount_in_words_mxn(Decimal(10**24))


# --- 10. rounding of slices ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.decimals("100.00", "99999.99", places=2),
    st.sampled_from(["0.21", "0.16", "0.10"]),
    st.lists(st.integers(1, 1000), min_size=1, max_size=6),
)
def test_an_invoice_paid_in_slices_leaves_nothing_eligible(
    net: Decimal, rate: str, weights: list[int]
) -> None:
    """Recoveries that add up to the gross leave 0.00 eligible: the last slice of the net
    share takes the remainder."""
    vat = (net * Decimal(rate)).quantize(Decimal("0.01"))
    gross = net + vat
    total = sum(weights)
    parts = [(gross * w / total).quantize(Decimal("0.01")) for w in weights]
    parts[-1] = gross - sum(parts[:-1])
    assume(all(p > 0 for p in parts))
    calc = calculate(
        claim_input(
            [InvoiceIn("F-1", dt.date(2025, 1, 1), dt.date(2025, 3, 1), net, vat, True)],
            [RecoveryIn(dt.date(2025, 4, 1 + k), p) for k, p in enumerate(parts)],
            vat_covered=False,
        )
    )
    assert calc.eligible_outstanding == 0
    assert sum(s.net for a in calc.allocations for s in a) == net


# --- 11. crashes become refusals, and every problem is reported at once --------------------------


def test_an_es_claim_guide_without_a_sac_is_refused_not_crashed() -> None:
    # Its texts in Spanish too: the sample words some of them per English region.
    payload = in_language(sample("claim_filing_guide"), "es")
    payload["document"]["jurisdiction"] = "ES"
    payload["document"]["locale"] = "es-ES"
    payload["insurer"]["complaints"].pop("sac", None)
    assert "insurer.complaints.sac" in problems(payload)


def test_a_pack_reports_its_invoices_problems_with_its_own() -> None:
    payload = sample("renewal_pack")
    payload["renewal"]["send_by_date"] = "2020-01-01"  # a pack problem
    payload["premium_invoice"]["payment"]["iban"] = "ES7899990001410123456788"  # an invoice one
    found = problems(payload)
    assert "renewal.send_by_date" in found and "premium_invoice.payment.iban" in found


# --- 12. not too strict: the premium lines are compared with the instalment ----------------------


def test_a_surcharge_and_a_fee_beside_the_premium_are_accepted() -> None:
    payload = sample("renewal_pack")
    lines = payload["premium_invoice"]["lines"]
    for code, price in (("instalment_surcharge", "45.00"), ("policy_fee", "30.00")):
        extra = copy.deepcopy(lines[0])
        extra.update(
            code=code,
            description=f"{code} 2027",
            quantity="1",
            unit_price={"amount": price, "currency": "EUR"},
        )
        for key in ("net", "tax", "period"):
            extra.pop(key, None)
        lines.append(extra)
    payload["premium_invoice"].pop("totals", None)
    validate(payload)
    lines[0]["unit_price"]["amount"] = "1.00"
    lines[0].pop("net", None)
    lines[0].pop("tax", None)
    assert "premium_invoice.lines" in problems(payload)


# --- decide and document -------------------------------------------------------------------------


def test_oldest_invoice_first_means_earliest_due_date() -> None:
    """The later-issued invoice that falls due first takes the recovery."""
    early_issue = InvoiceIn(
        "A", dt.date(2025, 1, 1), dt.date(2025, 6, 1), Decimal(1000), Decimal(0), True
    )
    early_due = InvoiceIn(
        "B", dt.date(2025, 2, 1), dt.date(2025, 3, 1), Decimal(1000), Decimal(0), True
    )
    calc = calculate(
        claim_input(
            [early_issue, early_due],
            [RecoveryIn(dt.date(2025, 7, 1), Decimal(600))],
            vat_covered=True,
        )
    )
    assert [s.invoice for s in calc.allocations[0]] == ["B"]


def test_stop_deliveries_uses_the_delivery_date_when_stated() -> None:
    payload = sample("claim_decision")
    mep_end = dt.date.fromisoformat(payload["claim"]["mep_end"])
    invoice = payload["invoices"][0]
    invoice["delivery_date"] = (mep_end + dt.timedelta(days=1)).isoformat()
    assert "delivered on" in problems(payload)["invoices.0.ineligible_reason"]
    invoice["delivery_date"] = mep_end.isoformat()
    assert isinstance(validate(payload).figures, ClaimFigures)


def test_a_reduction_the_policyholder_asked_for_has_no_appeal() -> None:
    payload = sample("credit_limit_change_notice")
    payload["change"]["initiated_by"] = "policyholder"
    payload.pop("appeal", None)
    figures = validate(payload).figures
    assert isinstance(figures, ChangeFigures)
    assert not figures.needs_appeal and figures.appeal is None


def test_send_by_for_a_period_ending_29_february() -> None:
    """Two months back from the last day, date to date: 29 December, not the 31st."""
    assert send_by_date(dt.date(2028, 2, 29), "ES", dt.date(2027, 6, 1)) == dt.date(2027, 12, 29)
    assert send_by_date(dt.date(2027, 2, 28), "ES", dt.date(2026, 6, 1)) == dt.date(2026, 12, 28)


def test_spanish_four_digit_grouping_per_document_class(engine: Any) -> None:
    """Prose letters write 4860,00 € (RAE, CLDR); invoices and tables write 4.860,00 €."""
    letter = sample("credit_limit_change_notice")
    letter["limit"]["new"]["amount"] = "4860.00"
    for key in ("exposure_treatment",):
        letter.pop(key, None)
    html = engine.html(engine.validate(letter), link_css=False)
    assert "4860,00\u00a0€" in html and "4.860,00" not in html
    invoice = engine.html(engine.validate(es_invoice()), link_css=False)
    assert re.search(r"\d\.\d{3},\d\d\u00a0€", invoice)
    assert not KINDS["credit_limit_change_notice"].group_four_digits
    assert KINDS["premium_invoice"].group_four_digits and KINDS["claim_decision"].group_four_digits


# --- legal rules as data -------------------------------------------------------------------------


def test_the_rule_in_force_changes_with_the_issue_date() -> None:
    before = legal.rule("complaints.first_level.answer_within", "ES", dt.date(2026, 12, 27))
    after = legal.rule("complaints.first_level.answer_within", "ES", dt.date(2026, 12, 28))
    assert before.value == legal.Duration(2, "months") and "ECO/734/2004" in before.source
    assert after.value == legal.Duration(15, "business_days") and "10/2025" in after.source


@pytest.mark.parametrize(
    ("issued", "printed"), [("2026-12-27", "dos meses"), ("2026-12-28", "15 días hábiles")]
)
def test_a_letter_prints_the_rule_in_force_on_its_issue_date(
    engine: Any, issued: str, printed: str
) -> None:
    """Spain's Ley 10/2025: the same letter issued a day apart prints another deadline."""
    payload = sample("credit_limit_change_notice")
    days = (
        dt.date.fromisoformat(issued) - dt.date.fromisoformat(payload["document"]["issue_date"])
    ).days
    payload = shift_dates(payload, days)
    html = engine.html(engine.validate(payload), link_css=False)
    assert f"plazo máximo de {printed}" in html


def test_every_rule_has_a_source_and_is_listed_in_the_docs() -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "rules" / "legal-rules.md").read_text("utf-8")
    for rule in legal.RULES:
        assert rule.source
        row = f"`{rule.key}` | {rule.jurisdiction} | {rule.effective_from.isoformat()}"
        assert row in page, row
        if rule.verify:
            line = next(line for line in page.splitlines() if row in line)
            assert "VERIFY" in line
