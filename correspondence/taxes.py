"""Which taxes each invoice line carries, by jurisdiction and line code (brief §3.b).

* MX [LAW-MX]: trade credit premiums and fees carry IVA at 16 % (LIVA art. 1; the art. 15
  fr. IX exemptions do not reach credit insurance). The 8 % border-region rate is not
  applied [VERIFY].
* ES [LAW-ES]: insurance operations are VAT-exempt (Ley 37/1992 art. 20.Uno.16.º) and
  premiums carry IPS at 8 % (Ley 13/1996 art. 12). Assessment and monitoring fees are
  treated as ancillary to the insurance, so also IPS and VAT-exempt [VERIFY].
* Debt collection is outside the financial-services exemption [LAW-EU art. 135(1)(d)],
  so collection fees carry VAT: 21 % in ES, 16 % in MX.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class TaxRule:
    """One tax a line carries: its type and rate (a fraction)."""

    type: str
    rate: Decimal


@dataclass(frozen=True)
class LineTaxation:
    """The taxes on one kind of line, and whether it carries the VAT-exemption legend."""

    taxes: tuple[TaxRule, ...]
    vat_exempt: bool


_IVA_MX = LineTaxation((TaxRule("IVA", Decimal("0.16")),), vat_exempt=False)
_IPS_ES = LineTaxation((TaxRule("IPS", Decimal("0.08")),), vat_exempt=True)
_IVA_ES = LineTaxation((TaxRule("IVA", Decimal("0.21")),), vat_exempt=False)

LINE_CODES = (
    "premium_deposit",
    "premium_minimum_instalment",
    "premium_adjustment",
    "policy_fee",
    "instalment_surcharge",
    "credit_assessment_fee",
    "monitoring_fee",
    "collection_fee",
)


def taxation(jurisdiction: str, code: str) -> LineTaxation:
    """The taxation of a line with ``code`` on a policy in ``jurisdiction``."""
    if jurisdiction == "MX":
        return _IVA_MX
    if jurisdiction == "ES":
        return _IVA_ES if code == "collection_fee" else _IPS_ES
    raise ValueError(f"no tax rules for jurisdiction {jurisdiction!r}")
