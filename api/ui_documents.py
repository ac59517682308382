"""The issued documents in the staff UI: the list (searched, paged, counted by the registry),
a document's page (customer, kind, dates, amounts, status and deliveries first; hashes and
versions in a details element), its archived PDF, and the resend and retry forms (one-time
tokens: a double submit does nothing twice)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.ui_i18n import N_, money
from api.ui_pages import NOTICES, Pages
from api.ui_tokens import FIELD, Spend
from correspondence.errors import InvalidPayload, Problem
from correspondence.kinds import KINDS
from correspondence.service import DocumentInfo, DocumentQuery, Staff

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

EFFECTIVE = {
    "premium_invoice": (N_("Due"), ("invoice", "due_date")),
    "renewal_pack": (N_("Effective"), ("renewal", "new_period", "start")),
    "credit_limit_change_notice": (N_("Effective"), ("change", "effective_date")),
    "credit_limit_decision": (N_("Effective"), ("decision", "effective_date")),
    "claim_decision": (N_("Payment date"), ("payment", "date")),
    "collection_update": (N_("Next update"), ("next_update",)),
}
"""Per kind, the date after the issue date that matters most, and where the payload has it."""
AMOUNT = {
    "premium_invoice": (N_("Total"), ("totals", "total")),
    "renewal_pack": (N_("Total"), ("premium_invoice", "totals", "total")),
    "credit_limit_change_notice": (N_("New credit limit"), ("limit", "new")),
    "credit_limit_decision": (N_("Amount approved"), ("decision", "amount_approved")),
    "claim_decision": (N_("Payable"), ("calculation", "payable")),
}
"""Per kind that has one, the amount that sums it up, and where the payload has it."""


@dataclass(frozen=True)
class Summary:
    """The document page's leading figures: labels are untranslated message ids."""

    effective: tuple[str, date] | None
    amount: tuple[str, str] | None


def _at(payload: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    found: Any = payload
    for key in path:
        found = found.get(key) if isinstance(found, Mapping) else None
    return found


def summary(info: DocumentInfo, payload: Mapping[str, Any]) -> Summary:
    """The effective date and the summing-up amount of a document, where its kind has them
    (an amount written as the document's locale writes it)."""
    effective = amount = None
    if info.kind in EFFECTIVE:
        label, path = EFFECTIVE[info.kind]
        day = _day(str(_at(payload, path)))
        effective = (label, day) if day is not None else None
    if info.kind in AMOUNT:
        label, path = AMOUNT[info.kind]
        value = _at(payload, path)
        if isinstance(value, Mapping):
            written = money(value.get("amount"), value.get("currency"), info.locale)
            amount = (label, written) if written is not None else None
    return Summary(effective, amount)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _number(value: str, default: int, low: int, high: int) -> int:
    return min(max(int(value), low), high) if value.isdigit() and len(value) < 9 else default


def build_router(ui: Pages) -> APIRouter:
    """The documents' routes of the UI (under the ``/ui`` router that includes them)."""
    svc = ui.svc
    router = APIRouter()
    Signed = Annotated[Staff, Depends(ui.staff)]

    @router.get("/documents")
    async def documents(
        request: Request,
        who: Signed,
        policy_number: str = "",
        policyholder: str = "",
        kind: str = "",
        issued_from: str = "",
        issued_to: str = "",
        page: str = "1",
        size: str = "",
    ) -> HTMLResponse:
        limit = _number(size, PAGE_SIZE, 1, MAX_PAGE_SIZE)
        number = _number(page, 1, 1, 10**6)
        filters = {
            "policy_number": policy_number[:200],
            "policyholder": policyholder[:200],
            "kind": kind if kind in KINDS else "",
            "issued_from": issued_from if _day(issued_from) else "",
            "issued_to": issued_to if _day(issued_to) else "",
        }

        def query(at: int) -> DocumentQuery:
            return DocumentQuery(
                policy_number=filters["policy_number"] or None,
                policyholder=filters["policyholder"] or None,
                kind=filters["kind"] or None,
                issued_from=_day(issued_from),
                issued_to=_day(issued_to),
                limit=limit,
                offset=(at - 1) * limit,
            )

        found = await run_in_threadpool(svc.list, query(number), client=who.client)
        pages = max(1, -(-found.total // limit))
        if number > pages:  # past the end (the list shrank): show the last page
            number = pages
            found = await run_in_threadpool(svc.list, query(number), client=who.client)
        kept = {k: v for k, v in filters.items() if v}
        if size:
            kept["size"] = str(limit)

        def link(at: int) -> str:
            return "/ui/documents?" + urlencode({**kept, "page": str(at)})

        return ui.page(
            request,
            "documents.html",
            staff=who,
            items=found.items,
            total=found.total,
            first=found.offset + 1 if found.items else 0,
            last=found.offset + len(found.items),
            page_number=number,
            pages=pages,
            previous=link(number - 1) if number > 1 else None,
            next=link(number + 1) if number < pages else None,
            kinds=sorted(KINDS),
            q=filters,
        )

    async def document_page(
        request: Request,
        who: Staff,
        document_id: str,
        *,
        notice: str = "",
        problems: list[Problem] | None = None,
        typed: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        info = await run_in_threadpool(svc.get, document_id, client=who.client)
        deliveries = await run_in_threadpool(svc.deliveries, document_id, client=who.client)
        payload = await run_in_threadpool(svc.payload, info.id)
        policyholder = payload.get("policyholder")
        legal_name = (
            str(policyholder.get("legal_name") or info.policyholder_name)
            if isinstance(policyholder, Mapping)
            else info.policyholder_name
        )
        return ui.page(
            request,
            "document.html",
            422 if problems else status,
            staff=who,
            doc=info,
            customer=legal_name,
            summary=summary(info, payload),
            # the review workflow's reason for rejecting a document, once it records one
            reason=next(
                (
                    getattr(info, name)
                    for name in ("rejection_reason", "review_reason", "reason")
                    if getattr(info, name, None)
                ),
                None,
            ),
            deliveries=deliveries,
            problems=problems or [],
            notice=notice if notice in NOTICES else "",
            typed=typed,
        )

    @router.get("/documents/{document_id}")
    async def document(
        request: Request, who: Signed, document_id: str, notice: str = "", sent: str = ""
    ) -> HTMLResponse:
        return await document_page(
            request, who, document_id, notice="sent" if sent and not notice else notice
        )

    @router.get("/documents/{document_id}/pdf")
    async def document_pdf(who: Signed, document_id: str) -> Response:
        info, data = await run_in_threadpool(svc.pdf, document_id, client=who.client)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{info.id}.pdf"'},
        )

    def back(document_id: str, notice: str) -> Response:
        return RedirectResponse(f"/ui/documents/{document_id}?notice={notice}", status_code=303)

    @router.post("/documents/{document_id}/resend")
    async def resend(
        request: Request,
        who: Signed,
        document_id: str,
        to: Annotated[str, Form()] = "",
        token: Annotated[str, Form(alias=FIELD)] = "",
    ) -> Response:
        addresses = [a.strip() for a in to.replace(";", ",").split(",") if a.strip()]
        if not addresses:
            problem = Problem("email.to", N_("Enter at least one email address."), "missing")
            return await document_page(request, who, document_id, problems=[problem], typed=to)
        spent = await ui.spend(request, token)
        if spent is Spend.SPENT:
            return back(document_id, "done")
        if spent is Spend.UNKNOWN:
            return await document_page(
                request, who, document_id, notice="expired", typed=to, status=409
            )
        try:
            await run_in_threadpool(
                svc.deliver, document_id, {"email": {"to": addresses}}, client=who.client
            )
        except InvalidPayload as error:
            return await document_page(
                request, who, document_id, problems=list(error.problems), typed=to
            )
        return back(document_id, "sent")

    @router.post("/documents/{document_id}/retry")
    async def retry(
        request: Request,
        who: Signed,
        document_id: str,
        token: Annotated[str, Form(alias=FIELD)] = "",
    ) -> Response:
        spent = await ui.spend(request, token)
        if spent is Spend.FRESH:
            await run_in_threadpool(svc.retry, document_id, client=who.client)
            return RedirectResponse(f"/ui/documents/{document_id}", status_code=303)
        return back(document_id, "done" if spent is Spend.SPENT else "expired")

    return router
