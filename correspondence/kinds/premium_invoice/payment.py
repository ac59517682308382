"""How the invoice is paid or credited: the accounts it names must be valid."""

from __future__ import annotations

from correspondence import banking
from correspondence.checks import Reconciler
from correspondence.kinds.premium_invoice.model import (
    PremiumInvoice,
)


def check_payment(doc: PremiumInvoice, check: Reconciler) -> None:
    pay = doc.payment
    if doc.document.jurisdiction == "MX":
        if pay.clabe is None:
            check.rule("payment.clabe", "is required on a Mexican invoice")
    elif pay.iban is None:
        check.rule("payment.iban", "is required on a Spanish invoice")
    check_accounts("payment", pay.iban, pay.clabe, check)


def check_accounts(at: str, iban: str | None, clabe: str | None, check: Reconciler) -> None:
    if clabe is not None and (why := banking.clabe_problem(clabe)):
        check.rule(f"{at}.clabe", why)
    if iban is not None and (why := banking.iban_problem(iban)):
        check.rule(f"{at}.iban", why)
