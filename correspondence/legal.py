"""Rules that law sets, as one versioned table by jurisdiction and effective date.

Deadlines and routes change with the law (Spain's Ley 10/2025 on customer service
departments changes complaint handling), so none of them lives in a template or a kind:
each is a :class:`LegalRule` here, with the date it takes effect and its legal source.
A document uses, and prints, the rule in force on its issue date (:func:`rule`).

``verify`` holds the question counsel must answer before go-live; the list is
published in ``docs/rules/legal-rules.md``, and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

DurationUnit = Literal["days", "business_days", "months", "years"]


@dataclass(frozen=True)
class Duration:
    """A legal period: a number of calendar days, business days, months or years."""

    value: int
    unit: DurationUnit


@dataclass(frozen=True)
class Range:
    """Bounds a party may agree within, and the value when nothing was agreed."""

    minimum: int
    maximum: int
    default: int
    unit: DurationUnit


@dataclass(frozen=True)
class Route:
    """A complaint body, named in each language the letters are written in; a locale key
    (``en-US``) gives a region's own spelling of that name."""

    names: Mapping[str, str]

    def name(self, locale: str) -> str:
        """The body's name in ``locale`` (``en-US``), else in its language (``en``)."""
        if locale in self.names:
            return self.names[locale]
        return self.names[locale.split("-")[0]]


RuleValue = Duration | Range | Decimal | Route | None


@dataclass(frozen=True)
class LegalRule:
    """One rule, in force from ``effective_from`` until the next version of its key."""

    key: str
    jurisdiction: Literal["ES", "MX"]
    effective_from: date
    value: RuleValue
    source: str
    verify: str | None = None
    note: str = field(default="", compare=False)


_EPOCH = date(2000, 1, 1)
"""Rules in force long before any document we issue start here."""

# Ley 10/2025 (servicios de atención a la clientela): in force 28 December 2025, with
# entities to adapt by 28 December 2026 (its transitional provision).
LEY_10_2025_ADAPTED = date(2026, 12, 28)

_DGSFP = Route(
    MappingProxyType(
        {
            "es": "Servicio de Reclamaciones de la Dirección General de Seguros y Fondos de "
            "Pensiones (DGSFP)",
            "en": "Complaints Service of the Directorate-General for Insurance and Pension "
            "Funds (DGSFP)",
        }
    )
)
_CONDUSEF = Route(
    MappingProxyType(
        {
            "es": "Comisión Nacional para la Protección y Defensa de los Usuarios de Servicios "
            "Financieros (CONDUSEF), www.condusef.gob.mx",
            "en": "the National Commission for the Protection and Defence of Users of "
            "Financial Services (CONDUSEF), www.condusef.gob.mx",
            "en-US": "the National Commission for the Protection and Defense of Users of "
            "Financial Services (CONDUSEF), www.condusef.gob.mx",
        }
    )
)

RULES: tuple[LegalRule, ...] = (
    # --- complaint routes and deadlines ------------------------------------------------
    LegalRule(
        "complaints.first_level.answer_within",
        "ES",
        _EPOCH,
        Duration(2, "months"),
        "Orden ECO/734/2004, art. 10.3 (servicio de atención al cliente)",
    ),
    LegalRule(
        "complaints.first_level.answer_within",
        "ES",
        LEY_10_2025_ADAPTED,
        Duration(15, "business_days"),
        "Ley 10/2025, de 26 de diciembre, de servicios de atención a la clientela "
        "(plazo general de respuesta; adaptación hasta el 28-12-2026)",
        verify="Whether Ley 10/2025's 15 business days bind an insurer's SAC towards business "
        "policyholders (it applies to financial services supplementarily and mainly to "
        "consumers), and from which date: in force 28-12-2025, adaptation by 28-12-2026.",
    ),
    LegalRule(
        "complaints.first_level.answer_within",
        "MX",
        _EPOCH,
        Duration(30, "business_days"),
        "LPDUSF art. 50 Bis (Unidad Especializada de Atención a Usuarios)",
    ),
    LegalRule(
        "complaints.second_level",
        "ES",
        _EPOCH,
        _DGSFP,
        "Ley 44/2002 art. 30 and Orden ECO/734/2004 art. 10: only after the SAC has "
        "answered or its time has passed",
        verify="Whether the Autoridad de Defensa del Cliente Financiero has replaced the "
        "DGSFP Servicio de Reclamaciones on the date of use.",
    ),
    LegalRule(
        "complaints.second_level",
        "MX",
        _EPOCH,
        _CONDUSEF,
        "LPDUSF arts. 60–68 (conciliación); a complaint interrupts prescription (art. 66)",
    ),
    # --- statutory notice periods -------------------------------------------------------
    LegalRule(
        "renewal.modification_notice",
        "ES",
        _EPOCH,
        Duration(2, "months"),
        "LCS (Ley 50/1980) art. 22.3: changes notified at least two months before the period ends",
        verify="Gran riesgo: whether the policy wording displaces LCS art. 22.",
    ),
    LegalRule(
        "renewal.modification_notice",
        "MX",
        _EPOCH,
        Duration(2, "months"),
        "No statutory notice found; the Spanish period is used [ASSUMPTION]",
        verify="Confirm there is no Mexican statutory renewal notice period.",
    ),
    LegalRule(
        "renewal.policyholder_objection",
        "ES",
        _EPOCH,
        Duration(1, "months"),
        "LCS art. 22.2: the policyholder objects at least one month before the period ends",
        verify="Gran riesgo: whether the policy wording displaces LCS art. 22.",
    ),
    # --- grace periods ------------------------------------------------------------------
    LegalRule(
        "premium.grace",
        "MX",
        _EPOCH,
        Range(3, 30, 30, "days"),
        "LSCS art. 40: 3 to 30 calendar days, 30 if nothing was agreed; cover ceases at "
        "noon on the last day (art. 40), agreements to the contrary are void (art. 41)",
    ),
    LegalRule(
        "premium.suspension_after_due",
        "ES",
        _EPOCH,
        Duration(1, "months"),
        "LCS art. 15.2: cover is suspended one month after a later premium falls due",
        verify="Gran riesgo: whether the policy wording displaces LCS art. 15.",
    ),
    LegalRule(
        "premium.minimum_instalment_period",
        "MX",
        _EPOCH,
        Duration(1, "months"),
        "LSCS art. 38: instalments cannot cover periods shorter than one month; each falls "
        "due at the start of its period (art. 37)",
    ),
    # --- minimum indemnity --------------------------------------------------------------
    LegalRule(
        "claim.minimum_indemnity_pct",
        "ES",
        _EPOCH,
        Decimal("0.50"),
        "LCS art. 71: the agreed percentage of the final loss may not be below 50 %",
        verify="Gran riesgo: whether the policy wording displaces LCS art. 71.",
    ),
    LegalRule(
        "claim.minimum_indemnity_pct",
        "MX",
        _EPOCH,
        None,
        "No statutory minimum found in the LSCS for credit insurance",
        verify="Confirm the LSCS sets no minimum indemnity percentage for credit insurance.",
    ),
    # --- claim payment ------------------------------------------------------------------
    LegalRule(
        "claim.payment_due",
        "ES",
        _EPOCH,
        Duration(40, "days"),
        "LCS art. 18: the undisputed minimum within 40 days of the claim declaration",
        verify="Gran riesgo, and whether art. 18's 40 days run from complete documents.",
    ),
    LegalRule(
        "claim.payment_due",
        "MX",
        _EPOCH,
        Duration(30, "days"),
        "LSCS art. 71: 30 days after the insurer receives the documents; mora under LISF art. 276",
    ),
)


def rule(key: str, jurisdiction: str, on: date) -> LegalRule:
    """The version of ``key`` in force in ``jurisdiction`` on ``on``."""
    versions = [r for r in RULES if r.key == key and r.jurisdiction == jurisdiction]
    if not versions:
        raise KeyError(f"no legal rule {key!r} for {jurisdiction}")
    in_force = [r for r in versions if r.effective_from <= on]
    if not in_force:
        raise KeyError(f"no version of {key!r} for {jurisdiction} in force on {on}")
    return max(in_force, key=lambda r: r.effective_from)


def duration(key: str, jurisdiction: str, on: date) -> Duration:
    """A rule whose value is a :class:`Duration`."""
    value = rule(key, jurisdiction, on).value
    assert isinstance(value, Duration), key
    return value


def months(key: str, jurisdiction: str, on: date) -> int:
    """A rule whose value is a number of months."""
    value = duration(key, jurisdiction, on)
    assert value.unit == "months", key
    return value.value


def minimum_indemnity(jurisdiction: str, on: date) -> Decimal | None:
    """The statutory minimum indemnity percentage, or None where the law sets none."""
    value = rule("claim.minimum_indemnity_pct", jurisdiction, on).value
    assert value is None or isinstance(value, Decimal)
    return value
