"""Staff UI for review before issue (docs/review.md), under ``/ui/review``.

The queue of documents waiting for review; a review page with the draft (BORRADOR /
DRAFT) in a sandboxed frame, the draft PDF, the approve button and the reject form (its
reason required, its error next to it, what was typed kept); and ``POST
/ui/review/submit``, where a member of staff hands a composed payload in for another to
review. User-facing strings are wrapped in ``_()`` (an identity function until the staff
member's catalog is passed in).
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.ui import TEMPLATES
from api.ui_session import ASSET_BASE, Signed, check_csrf, csrf
from correspondence import bounded_json
from correspondence.errors import Conflict, Forbidden, InvalidPayload, Problem
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from correspondence.service import DocumentInfo, Service, Staff

QUEUE_PAGE = 50
DECIDED = {"approved": "Approved: it is being numbered, archived and sent.",
           "rejected": "Rejected: it will not be issued."}  # fmt: skip


def _identity(text: str, **values: Any) -> str:
    """The catalog's place: English as written, ``%(name)s`` filled."""
    return text % values if values else text


def when(moment: datetime | None) -> str:
    """A timestamp as staff read it (UTC)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _submitted_body(kind: str, locale: str, payload: str) -> dict[str, Any]:
    """The payload as typed, with the form's kind and locale: filled in where it states
    none, refused (naming both values) where it states another."""
    body = bounded_json.loads(payload, subject="the payload")
    if not isinstance(body, dict):
        raise InvalidPayload([Problem("payload", "must be a JSON object", "type")])
    header = body.setdefault("document", {})
    if not isinstance(header, dict):
        raise InvalidPayload([Problem("document", "must be an object", "type")])
    problems = []
    for name, chosen, allowed in (("type", kind, KINDS), ("locale", locale, SUPPORTED_LOCALES)):
        if chosen not in allowed:
            problems.append(Problem(name, f"{chosen!r} is not one of ours", "invalid"))
        elif header.setdefault(name, chosen) != chosen:
            stated = header[name]
            problems.append(
                Problem(
                    f"document.{name}", f"the form says {chosen}, the payload {stated}", "mismatch"
                )
            )
    if problems:
        raise InvalidPayload(problems)
    return body


def build_review_router(svc: Service) -> APIRouter:
    """The ``/ui/review`` routes over ``svc``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    router = APIRouter(prefix="/ui/review", include_in_schema=False)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(f"ui/{name}").render(
            csrf=csrf(request), _=_identity, when=when, **context
        )
        return HTMLResponse(html, status_code=status)

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
            notice=DECIDED.get(done, ""),
            ref=ref if done in DECIDED else "",
        )

    async def review_page(
        request: Request,
        who: Staff,
        document_id: str,
        *,
        status: int = 200,
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
        request: Request, who: Signed, document_id: str, token: Annotated[str, Form(alias="csrf")]
    ) -> Response:
        check_csrf(request, token)
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
        token: Annotated[str, Form(alias="csrf")],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, token)
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
    async def submit(
        request: Request,
        who: Signed,
        token: Annotated[str, Form(alias="csrf")],
        kind: Annotated[str, Form()] = "",
        locale: Annotated[str, Form()] = "",
        payload: Annotated[str, Form()] = "",
    ) -> Response:
        """A composed document handed in for review (the compose page's button)."""
        check_csrf(request, token)
        try:
            body = _submitted_body(kind, locale, payload)
            outcome = await run_in_threadpool(svc.submit_for_review, body, staff=who)
        except (InvalidPayload, Conflict) as error:
            problems = (
                list(error.problems)
                if isinstance(error, InvalidPayload)
                else [Problem("", str(error), "conflict")]
            )
            return page(
                request, "review.html", 422 if isinstance(error, InvalidPayload) else 409,
                staff=who, doc=None, actions=[], draft="", mine=False, approve_error="",
                reason="", reason_error="", submitted="", problems=problems,
                kind=kind, locale=locale, text=payload,
            )  # fmt: skip
        shown = "new" if outcome.created else "existing"
        return RedirectResponse(
            f"/ui/review/{outcome.document.id}?submitted={shown}", status_code=303
        )

    return router
