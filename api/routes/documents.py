"""``/v1/documents``: issue, list, read, download and retry documents."""

from __future__ import annotations

from datetime import date
from math import ceil
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api import schemas
from api.context import (
    AUTH,
    BODY,
    MAX_OFFSET,
    Authenticated,
    call,
    errors,
    read_object,
    service,
    settings,
)
from api.kind_schemas import DOCUMENT_BODY
from api.pdfs import pdf_response, pdf_responses
from api.revisions import refuse_if_changed
from api.schemas import Document, DocumentPage, KindName, Locale, PageLinks, Status
from correspondence import signing
from correspondence.service import DocumentQuery

router = APIRouter(tags=["documents"])

IDEMPOTENCY = (
    "Replays of a request with the same key and body answer as the first did (same status "
    "and document); the same key with another body is refused (422)."
)

ISSUE_DESCRIPTION = """Issue a document from a payload of one kind (see `GET /v1/kinds`).

- **201** the document was issued now (or the request replays an `Idempotency-Key`).
- **200** a document with this kind and `document.our_reference` exists and was issued from
  this same body: it is returned as it is (an idempotent replay; nothing is issued again).
- **202** `Prefer: respond-async`, or the archive is briefly down: the document is accepted
  and will be issued; poll its `Location` (after `Retry-After` seconds).
  Also when the document waits for review (`"review": {"required": true}`, or the server's
  settings): status `in_review`, no number until a member of staff approves it; it ends
  `issued` or `rejected` (see `review`).
- **409** a document with this business reference exists and this body differs from it: the
  message names the existing document and the fields that differ. Add `"reissue": true` to
  issue a new version from the new body.
"""


def _retry_after(request: Request) -> str:
    return str(max(1, ceil(settings(request).worker_poll_seconds)))


@router.post(
    "/v1/documents",
    status_code=201,
    response_model=Document,
    description=ISSUE_DESCRIPTION,
    responses={
        200: {"model": Document, "description": "The existing document for this same body"},
        202: {"model": Document, "description": "Accepted; issued later (poll Location)"},
        **errors(*AUTH, *BODY, 409),
    },
    openapi_extra={"requestBody": DOCUMENT_BODY},
)
async def issue_document(
    request: Request,
    who: Authenticated,
    idempotency_key: Annotated[str | None, Header(max_length=200, description=IDEMPOTENCY)] = None,
    prefer: Annotated[
        str | None, Header(description="`respond-async`: answer 202 at once, issue later")
    ] = None,
) -> Response:
    svc = service(request)
    body = await read_object(request, settings(request).max_body_bytes)
    asynchronous = "respond-async" in (prefer or "").lower()
    outcome = await call(
        svc.issue, body, client=who, idempotency_key=idempotency_key, asynchronous=asynchronous
    )
    doc = outcome.document
    if not outcome.created and not outcome.replayed:
        await call(refuse_if_changed, svc, doc, body)
    location = {"Location": f"/v1/documents/{doc.id}"}
    content = Document.of(doc).model_dump(mode="json")
    if doc.status in ("new", "in_review", "queued", "issuing"):
        headers = {**location, "Retry-After": _retry_after(request)}
        if asynchronous:
            headers["Preference-Applied"] = "respond-async"
        return JSONResponse(content, status_code=202, headers=headers)
    status = 201 if outcome.created or outcome.replayed else 200
    return JSONResponse(content, status_code=status, headers=location)


@router.get(
    "/v1/documents",
    response_model=DocumentPage,
    response_model_exclude_unset=True,  # links.next only when there is a next page
    responses=errors(*AUTH),
)
async def list_documents(
    request: Request,
    who: Authenticated,
    policy_number: Annotated[str | None, Query(max_length=200)] = None,
    kind: KindName | None = None,
    locale: Locale | None = None,
    status: Status | None = None,
    policyholder: Annotated[
        str | None,
        Query(
            max_length=300,
            description="part of the name or tax ID, as typed: `%` and `_` match themselves, "
            "never taken as wildcards",
        ),
    ] = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DocumentPage:
    """Documents, newest first, filtered and paginated; `links.next` is the next page."""
    query = DocumentQuery(
        policy_number=policy_number,
        kind=kind,
        locale=locale,
        status=status,
        policyholder=policyholder,
        issued_from=issued_from,
        issued_to=issued_to,
        limit=limit,
        offset=offset,
    )
    page = await call(service(request).list, query, client=who)
    following = None
    if offset + limit < page.total:
        params = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        rest = "".join(f"&{k}={v}" for k, v in params.items())
        following = f"/v1/documents?limit={limit}&offset={offset + limit}{rest}"
    return DocumentPage(
        items=[Document.of(d) for d in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
        links=PageLinks(next=following) if following else PageLinks(),
    )


@router.get("/v1/documents/{document_id}", response_model=Document, responses=errors(*AUTH, 404))
async def get_document(request: Request, document_id: str, who: Authenticated) -> Document:
    """One document's metadata (and its status, for asynchronous requests)."""
    return Document.of(await call(service(request).get, document_id, client=who))


PDF_ROUTE = {
    "response_class": Response,
    "responses": {**pdf_responses("The archived PDF"), **errors(*AUTH, 404, 409)},
}


@router.get("/v1/documents/{document_id}/pdf", **PDF_ROUTE)  # type: ignore[arg-type]
async def get_pdf(request: Request, document_id: str, who: Authenticated) -> Response:
    """The archived PDF, byte for byte; never re-rendered. 409 while it is not issued.
    `If-None-Match` with its ETag answers 304; one `Range` of bytes answers 206."""
    info, data = await call(service(request).pdf, document_id, client=who)
    name = f"{info.kind}-{info.number or info.business_reference}.pdf"
    return pdf_response(
        request,
        data,
        f'"{info.sha256}"',
        {"Content-Disposition": f'inline; filename="{ascii_name(name)}"'},
    )


@router.head("/v1/documents/{document_id}/pdf", **PDF_ROUTE)  # type: ignore[arg-type]
async def head_pdf(request: Request, document_id: str, who: Authenticated) -> Response:
    """The PDF's headers (ETag, Content-Length) without its bytes."""
    return await get_pdf(request, document_id, who)


@router.post(
    "/v1/documents/{document_id}/retry",
    response_model=Document,
    responses=errors(*AUTH, 404, 409),
)
async def retry_document(request: Request, document_id: str, who: Authenticated) -> Document:
    """Queue a failed document again."""
    return Document.of(await call(service(request).retry, document_id, client=who))


@router.get(
    "/v1/verify/{sha256}",
    tags=["verification"],
    response_model=schemas.Verification,
    response_model_exclude_unset=True,  # `signature` only when we issued the PDF
    responses=errors(*AUTH),
)
async def verify(
    request: Request,
    sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")],
    who: Authenticated,
) -> schemas.Verification:
    """Whether we issued the PDF with this sha256, which document it is, and what its
    signature says (validity, signer, time), validated against our configured roots."""
    svc = service(request)
    found = await call(svc.verify, sha256, client=who)
    if found is None:
        return schemas.Verification(issued=False, document=None)
    _, data = await call(svc.pdf, found.id, client=who)
    roots = signing.trust_roots(settings(request))
    check = await call(signing.check, data, roots)
    return schemas.Verification(
        issued=True, document=Document.of(found), signature=schemas.SignatureReport.of(check)
    )


def ascii_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
