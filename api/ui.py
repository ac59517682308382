"""Staff preview UI under ``/ui``: server-rendered pages, no front-end build, no script.

Sign-in with argon2-hashed passwords, a signed session cookie and a CSRF token on every
form. Staff compose a payload (from a kind's sample or pasted JSON), see its validation
errors with their field paths, preview it as HTML (marked BORRADOR / DRAFT) in one locale
or Spanish and English side by side, open the draft PDF, search issued documents, open
their archived PDF, see their metadata and delivery attempts, and resend them by email.
"""

from datetime import date
from math import ceil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.ui_compose import build_compose_router
from api.ui_session import Signed, check_csrf, csrf, staff
from correspondence.errors import (
    InvalidPayload,
    NotFound,
    Problem,
    TooManyAttempts,
    Unauthenticated,
)
from correspondence.kinds import KINDS
from correspondence.pdf import load_assets
from correspondence.service import DocumentQuery, Service, Staff
from correspondence.templating import ASSET_ORIGIN

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def build_router(svc: Service) -> APIRouter:
    """The ``/ui`` routes over ``svc``."""
    env = _environment()
    assets = {url.removeprefix(ASSET_ORIGIN): data for url, data in load_assets().items()}
    router = APIRouter(prefix="/ui", include_in_schema=False)

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(f"ui/{name}").render(csrf=csrf(request), **context)
        return HTMLResponse(html, status_code=status)

    router.include_router(build_compose_router(svc, page=page, staff=staff, check_csrf=check_csrf))

    @router.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html", error=None, email="", staff=None)

    @router.post("/login")
    async def login(
        request: Request,
        email: Annotated[str, Form()],
        password: Annotated[str, Form()],
        token: Annotated[str, Form(alias="csrf")],
    ) -> Response:
        check_csrf(request, token)
        address = request.client.host if request.client else None
        try:
            who = await run_in_threadpool(
                svc.sign_in, email=email, password=password, address=address
            )
        except TooManyAttempts as error:
            response = page(
                request,
                "login.html",
                429,
                error=f"Too many failed sign-ins. Try again in {ceil(error.retry_after)} s.",
                email=email,
                staff=None,
            )
            response.headers["Retry-After"] = str(ceil(error.retry_after))
            return response
        except Unauthenticated:
            return page(
                request,
                "login.html",
                401,
                error="Wrong email or password.",
                email=email,
                staff=None,
            )
        request.session.clear()
        request.session["staff"] = who.id
        request.session["epoch"] = who.epoch
        return RedirectResponse("/ui/compose", status_code=303)

    @router.post("/logout")
    async def logout(
        request: Request, who: Signed, token: Annotated[str, Form(alias="csrf")]
    ) -> Response:
        """Sign out: every session of the account ends, server-side (a copy of the
        cookie is worth nothing after this)."""
        check_csrf(request, token)
        await run_in_threadpool(svc.sign_out, who)
        request.session.clear()
        return RedirectResponse("/ui/login", status_code=303)

    @router.get("/")
    async def home(who: Signed) -> Response:
        return RedirectResponse("/ui/compose", status_code=303)

    @router.get("/assets/{path:path}")
    async def asset(path: str, who: Signed) -> Response:
        if path not in assets:
            raise NotFound(f"no asset {path}")
        data, mime = assets[path]
        return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/documents")
    async def documents(
        request: Request,
        who: Signed,
        policy_number: str = "",
        policyholder: str = "",
        kind: str = "",
        issued_from: str = "",
        issued_to: str = "",
    ) -> HTMLResponse:
        def day(value: str) -> date | None:
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                return None

        query = DocumentQuery(
            policy_number=policy_number or None,
            policyholder=policyholder or None,
            kind=kind or None,
            issued_from=day(issued_from),
            issued_to=day(issued_to),
            limit=100,
        )
        found = await run_in_threadpool(svc.list, query, client=who.client)
        return page(
            request,
            "documents.html",
            staff=who,
            items=found.items,
            total=found.total,
            kinds=sorted(KINDS),
            q={
                "policy_number": policy_number,
                "policyholder": policyholder,
                "kind": kind,
                "issued_from": issued_from,
                "issued_to": issued_to,
            },
        )

    async def document_page(
        request: Request,
        who: Staff,
        document_id: str,
        *,
        sent: str = "",
        problems: list[Problem] | None = None,
    ) -> HTMLResponse:
        info = await run_in_threadpool(svc.get, document_id, client=who.client)
        deliveries = await run_in_threadpool(svc.deliveries, document_id, client=who.client)
        return page(
            request,
            "document.html",
            422 if problems else 200,
            staff=who,
            doc=info,
            deliveries=deliveries,
            problems=problems or [],
            sent=sent,
        )

    @router.get("/documents/{document_id}")
    async def document(
        request: Request, who: Signed, document_id: str, sent: str = ""
    ) -> HTMLResponse:
        return await document_page(request, who, document_id, sent=sent)

    @router.get("/documents/{document_id}/pdf")
    async def document_pdf(who: Signed, document_id: str) -> Response:
        info, data = await run_in_threadpool(svc.pdf, document_id, client=who.client)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{info.id}.pdf"'},
        )

    @router.post("/documents/{document_id}/resend")
    async def resend(
        request: Request,
        who: Signed,
        document_id: str,
        to: Annotated[str, Form()],
        token: Annotated[str, Form(alias="csrf")],
    ) -> Response:
        check_csrf(request, token)
        addresses = [a.strip() for a in to.replace(";", ",").split(",") if a.strip()]
        try:
            await run_in_threadpool(
                svc.deliver, document_id, {"email": {"to": addresses}}, client=who.client
            )
        except InvalidPayload as error:
            return await document_page(request, who, document_id, problems=list(error.problems))
        return RedirectResponse(f"/ui/documents/{document_id}?sent=1", status_code=303)

    @router.post("/documents/{document_id}/retry")
    async def retry(
        request: Request, who: Signed, document_id: str, token: Annotated[str, Form(alias="csrf")]
    ) -> Response:
        check_csrf(request, token)
        await run_in_threadpool(svc.retry, document_id, client=who.client)
        return RedirectResponse(f"/ui/documents/{document_id}", status_code=303)

    return router
