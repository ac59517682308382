"""Staff preview UI under ``/ui``: server-rendered pages, no front-end build, no script.

Sign-in with argon2-hashed passwords, a signed session cookie, a CSRF token on the sign-in
and preview forms and a one-time token on every state-changing form (:mod:`api.ui_tokens`).
Staff compose a payload (from a kind's sample or pasted JSON), see its validation
errors with their field paths, preview it as HTML (marked BORRADOR / DRAFT) in one locale
or Spanish and English side by side, open the draft PDF, search issued documents, open
their archived PDF, see their metadata and delivery attempts, and resend them by email
(:mod:`api.ui_documents`), in English or Spanish (:mod:`api.ui_i18n`).
"""

from math import ceil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import ui_documents
from api.ui_compose import build_compose_router
from api.ui_pages import Pages, SignInRequired, local_path, with_notice
from api.ui_review import build_review_router
from api.ui_tokens import FIELD, Spend
from correspondence.errors import (
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from correspondence.pdf import load_assets
from correspondence.service import Service, Staff
from correspondence.templating import ASSET_ORIGIN

ASSET_BASE = "/ui/assets/"
STYLESHEET = Path(__file__).parent / "static" / "ui.css"
__all__ = ["SignInRequired", "build_router"]


def build_router(svc: Service) -> APIRouter:
    """The ``/ui`` routes over ``svc``."""
    ui = Pages(svc)
    assets = {url.removeprefix(ASSET_ORIGIN): data for url, data in load_assets().items()}
    stylesheet = STYLESHEET.read_bytes()
    router = APIRouter(prefix="/ui", include_in_schema=False)
    check_csrf, page = ui.check_csrf, ui.page
    Signed = Annotated[Staff, Depends(ui.staff)]

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
                error="throttled",
                wait=ceil(error.retry_after),
                email=email,
                staff=None,
            )
            response.headers["Retry-After"] = str(ceil(error.retry_after))
            return response
        except Unauthenticated:
            return page(request, "login.html", 401, error="wrong", email=email, staff=None)
        request.session.clear()
        request.session["staff"] = who.id
        request.session["epoch"] = who.epoch
        return RedirectResponse("/ui/compose", status_code=303)

    @router.post("/logout")
    async def logout(
        request: Request, who: Signed, token: Annotated[str, Form(alias=FIELD)] = ""
    ) -> Response:
        """Sign out: every session of the account ends, server-side (a copy of the
        cookie is worth nothing after this). A second submission finds nothing to end."""
        spent = await ui.spend(request, token)
        if spent is Spend.UNKNOWN:  # an expired form: say so rather than seem signed out
            return RedirectResponse(with_notice("/ui/documents", "expired"), status_code=303)
        if spent is Spend.FRESH:
            await run_in_threadpool(svc.sign_out, who)
            request.session.clear()
        return RedirectResponse("/ui/login", status_code=303)

    @router.post("/language")
    async def language(
        request: Request,
        who: Signed,
        language: Annotated[str, Form()],
        token: Annotated[str, Form(alias=FIELD)] = "",
        back: Annotated[str, Form(alias="next")] = "",
    ) -> Response:
        """Switch the UI's language for this member of staff, and go back to the page."""
        spent = await ui.spend(request, token)
        if spent is Spend.FRESH:
            await run_in_threadpool(svc.set_staff_locale, email=who.email, locale=language)
        target = local_path(back)
        if spent is Spend.UNKNOWN:
            target = with_notice(target.partition("?")[0], "expired")
        return RedirectResponse(target, status_code=303)

    @router.get("/")
    async def home(who: Signed) -> Response:
        return RedirectResponse("/ui/compose", status_code=303)

    @router.get("/ui.css")
    async def css() -> Response:
        """The UI's stylesheet (no credentials: the sign-in page needs it; it holds no data)."""
        return Response(
            stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=300"}
        )

    @router.get("/assets/{path:path}")
    async def asset(path: str, who: Signed) -> Response:
        if path not in assets:
            raise NotFound(f"no asset {path}")
        data, mime = assets[path]
        return Response(data, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})

    router.include_router(
        build_compose_router(svc, page=ui.page, staff=ui.staff, check_csrf=ui.check_csrf)
    )
    router.include_router(ui_documents.build_router(ui))
    router.include_router(build_review_router(svc, ui))
    return router
