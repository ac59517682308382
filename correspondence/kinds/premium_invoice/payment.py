"""How the invoice is paid or credited: the accounts it names must be valid."""

from __future__ import annotations

from stdnum.eu import at_02

from correspondence import banking
from correspondence.checks import Reconciler
from correspondence.kinds.common import mask_account
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
    sepa = doc.document.jurisdiction == "ES" and pay.method == "direct_debit"
    for name in ("mandate_reference", "creditor_identifier"):
        if sepa and getattr(pay, name) is None:
            check.rule(
                f"payment.{name}", "a SEPA direct debit states it (Rulebook: pre-notification)"
            )
        elif not sepa and getattr(pay, name) is not None:
            check.rule(f"payment.{name}", "belongs only to a Spanish (SEPA) direct debit")

    creditor = pay.creditor_identifier
    if creditor is not None and not at_02.is_valid(creditor):
        check.rule(
            "payment.creditor_identifier", "has wrong SEPA creditor identifier check digits (AT-02)"
        )
    elif creditor is not None and creditor[7:] != banking.compact(doc.insurer.tax_id):
        check.rule(
            "payment.creditor_identifier",
            f"is not built on the insurer's tax ID {doc.insurer.tax_id}",
        )


def debtor_account(doc: PremiumInvoice) -> str | None:
    """The policyholder's account a direct debit is taken from, masked; a refund's too."""
    if doc.credit is not None and doc.credit.method == "refund_transfer":
        account = doc.credit.iban or doc.credit.clabe
    elif doc.payment.method == "direct_debit":
        account = doc.payment.iban or doc.payment.clabe
    else:
        account = None
    return mask_account(account) if account else None


def check_accounts(at: str, iban: str | None, clabe: str | None, check: Reconciler) -> None:
    if clabe is not None and (why := banking.clabe_problem(clabe)):
        check.rule(f"{at}.clabe", why)
    if iban is not None and (why := banking.iban_problem(iban)):
        check.rule(f"{at}.iban", why)
