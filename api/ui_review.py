"""Staff UI for review before issue (docs/review.md), under ``/ui/review``.

The queue of documents waiting for review; a review page with the draft (BORRADOR /
DRAFT) in a sandboxed frame, the draft PDF, the approve button and the reject form (its
reason required, its error next to it, what was typed kept); and ``POST
/ui/review/submit``, where a member of staff hands a composed payload in for another to
review. The pages are the UI's own (:class:`api.ui_pages.Pages`): the staff member's
language, and a one-time token on every form that decides or submits.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.ui_compose import FORM_FIELDS_MAX, read_submission
from api.ui_pages import ASSET_BASE, Pages
from api.ui_tokens import FIELD, Spend
from correspondence.errors import Conflict, Forbidden, InvalidPayload, Problem
from correspondence.service import DocumentInfo, Service, Staff

QUEUE_PAGE = 50
DECIDED = ("approved", "rejected")


def when(moment: datetime | None) -> str:
    """A timestamp as staff read it (UTC)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def who_asked(actor: str | None, api_key: str) -> str:
    """An actor of the review record as staff read it: a staff member's address, or an
    API key's name followed by ``api_key`` (the words "API key" in the reader's language)."""
    if not actor:
        return ""
    kind, _sep, rest = actor.partition(":")
    if kind == "api_key":
        return f"{rest.partition(':')[2] or rest} ({api_key})"
    return rest if kind == "staff" else actor


def build_review_router(svc: Service, ui: Pages) -> APIRouter:
    """The ``/ui/review`` routes over ``svc``, drawn by the UI's pages ``ui``."""
    router = APIRouter(prefix="/review")
    Signed = Annotated[Staff, Depends(ui.staff)]

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return ui.page(request, name, status, when=when, who_asked=who_asked, **context)

    async def spent_already(
        request: Request, who: Staff, document_id: str, token: str
    ) -> Response | None:
        """``None`` if the form's one-time token is fresh (now spent), else the answer to
        a form sent twice (nothing done again) or too late (nothing done)."""
        spent = await ui.spend(request, token)
        if spent is Spend.FRESH:
            return None
        if spent is Spend.SPENT:
            return RedirectResponse(f"/ui/review/{document_id}?notice=done", status_code=303)
        return await review_page(request, who, document_id, status=409, notice="expired")

    @router.get("")
    async def queue(
        request: Request, who: Signed, offset: int = 0, done: str = "", ref: str = ""
    ) -> HTMLResponse:
        start = max(0, offset)
        found = await run_in_threadpool(svc.review_queue, staff=who, limit=QUEUE_PAGE, offset=start)
        return page(
            request,
            "review_queue.html",
            staff=who,
            items=found.items,
            total=found.total,
            offset=start,
            size=QUEUE_PAGE,
            decided=done if done in DECIDED else "",
            ref=ref if done in DECIDED else "",
        )

    async def review_page(
        request: Request,
        who: Staff,
        document_id: str,
        *,
        status: int = 200,
        notice: str = "",
        approve_error: str = "",
        reason: str = "",
        reason_error: str = "",
        submitted: str = "",
    ) -> HTMLResponse:
        doc: DocumentInfo = await run_in_threadpool(svc.get, document_id, client=who.client)
        actions = await run_in_threadpool(svc.review_actions, document_id, staff=who)
        draft, problems = "", []
        if doc.status == "in_review":
            payload = await run_in_threadpool(svc.review_draft, document_id, staff=who)
            try:
                rendered = await run_in_threadpool(
                    svc.preview, payload, client=who.client, locale=doc.locale, html=True,
                    asset_base=ASSET_BASE,
                )  # fmt: skip
                draft = str(rendered)
            except InvalidPayload as error:  # it validated when asked for; not today
                problems = list(error.problems)
        composed_here = bool(actions) and actions[0].actor == f"staff:{who.email}"
        return page(
            request,
            "review.html",
            status,
            staff=who,
            doc=doc,
            actions=actions,
            draft=draft,
            mine=composed_here,
            approve_error=approve_error,
            notice=notice,
            reason=reason,
            reason_error=reason_error,
            submitted=submitted,
            problems=problems,
            kind="",
            locale="",
            text="",
        )

    @router.get("/{document_id}")
    async def review(
        request: Request, who: Signed, document_id: str, submitted: str = ""
    ) -> HTMLResponse:
        shown = submitted if submitted in ("new", "existing") else ""
        return await review_page(request, who, document_id, submitted=shown)

    @router.get("/{document_id}/draft.pdf")
    async def draft_pdf(who: Signed, document_id: str) -> Response:
        doc = await run_in_threadpool(svc.get, document_id, client=who.client)
        if doc.status != "in_review":
            raise Conflict(f"document {document_id} is {doc.status}, not in review")
        payload = await run_in_threadpool(svc.review_draft, document_id, staff=who)
        pdf = await run_in_threadpool(
            svc.preview, payload, client=who.client, locale=doc.locale, html=False
        )
        assert isinstance(pdf, bytes)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="draft-{doc.id}.pdf"'},
        )

    @router.post("/{document_id}/approve")
    async def approve(
        request: Request,
        who: Signed,
        document_id: str,
        token: Annotated[str, Form(alias=FIELD)] = "",
    ) -> Response:
        if (answer := await spent_already(request, who, document_id, token)) is not None:
            return answer
        try:
            doc = await run_in_threadpool(svc.approve, document_id, staff=who)
        except (Forbidden, Conflict) as error:
            status = 403 if isinstance(error, Forbidden) else 409
            return await review_page(
                request, who, document_id, status=status, approve_error=str(error)
            )
        return RedirectResponse(
            f"/ui/review?done=approved&ref={quote(doc.business_reference)}", status_code=303
        )

    @router.post("/{document_id}/reject")
    async def reject(
        request: Request,
        who: Signed,
        document_id: str,
        token: Annotated[str, Form(alias=FIELD)] = "",
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        if (answer := await spent_already(request, who, document_id, token)) is not None:
            return answer
        try:
            doc = await run_in_threadpool(svc.reject, document_id, staff=who, reason=reason)
        except InvalidPayload as error:
            message = "; ".join(p.message for p in error.problems)
            return await review_page(
                request, who, document_id, status=422, reason=reason, reason_error=message
            )
        except Conflict as error:
            return await review_page(
                request, who, document_id, status=409, reason=reason, reason_error=str(error)
            )
        return RedirectResponse(
            f"/ui/review?done=rejected&ref={quote(doc.business_reference)}", status_code=303
        )

    @router.post("/submit")
    async def submit(request: Request, who: Signed) -> Response:
        """A composed document handed in for review: the compose page's "Submit for
        review" button, from either of its views (a second submit of the same form does
        nothing twice: its one-time token is spent)."""
        form = await request.form(max_fields=FORM_FIELDS_MAX)
        items = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        ui.check_csrf(request, items.get("csrf", ""))
        sub = read_submission(items)
        spent = await ui.spend(request, items.get(FIELD, ""))
        if spent is not Spend.FRESH:
            notice = "done" if spent is Spend.SPENT else "expired"
            return RedirectResponse(f"/ui/review?notice={notice}", status_code=303)
        try:
            if sub.problems:
                raise InvalidPayload(sub.problems)
            outcome = await run_in_threadpool(svc.submit_for_review, sub.payload, staff=who)
        except (InvalidPayload, Conflict) as error:
            problems = (
                list(error.problems)
                if isinstance(error, InvalidPayload)
                else [Problem("", str(error), "conflict")]
            )
            text = sub.text or json.dumps(sub.payload, ensure_ascii=False, indent=2)
            return page(
                request, "review.html", 422 if isinstance(error, InvalidPayload) else 409,
                staff=who, doc=None, actions=[], draft="", mine=False, approve_error="",
                reason="", reason_error="", submitted="", problems=problems,
                kind=sub.kind, locale="", text=text,
            )  # fmt: skip
        shown = "new" if outcome.created else "existing"
        return RedirectResponse(
            f"/ui/review/{outcome.document.id}?submitted={shown}", status_code=303
        )

    return router
