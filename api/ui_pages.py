"""What every page of the staff UI shares: the template environment, the session's member
of staff, the sign-in CSRF token, the one-time form tokens (:mod:`api.ui_tokens`) and the
words of the staff member's language (:mod:`api.ui_i18n`)."""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.ui_i18n import LANGUAGE_NAMES, best_language, texts
from api.ui_tokens import FIELD, FormTokens, Spend
from correspondence.service import Service, Staff
from correspondence.staff_languages import STAFF_LANGUAGES

TEMPLATES = Path(__file__).parent / "templates"
ASSET_BASE = "/ui/assets/"
"""Where the UI serves the packaged fonts and stylesheet that previews load."""
NOTICES = ("sent", "done", "expired")
"""The notices a page shows after a form (``?notice=…``): queued, already done, expired."""
_LOCAL_PATH = re.compile(r"/ui/[A-Za-z0-9/_.\-]*(\?[A-Za-z0-9_.\-=&%+]*)?")


class SignInRequired(Exception):
    """Raised by page dependencies when there is no staff session."""


def environment() -> Environment:
    """The UI's template environment: autoescaped, strict about undefined names."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def local_path(value: str, default: str = "/ui/documents") -> str:
    """``value`` if it is a path of the UI (where a form may send the browser back to),
    else ``default``: request data never becomes a URL elsewhere."""
    return value if _LOCAL_PATH.fullmatch(value) and "//" not in value else default


def with_notice(path: str, notice: str) -> str:
    """``path`` (a path of the UI) with a notice for the page it leads to."""
    return f"{path}{'&' if '?' in path else '?'}notice={notice}"


class Pages:
    """Renders the UI's pages for one service."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.env = environment()
        self.tokens = FormTokens(svc.use_cases.form_tokens)

    def csrf(self, request: Request) -> str:
        """The session's CSRF token (the sign-in and preview forms)."""
        token = request.session.get("csrf")
        if not token:
            token = secrets.token_urlsafe(32)
            request.session["csrf"] = token
        return str(token)

    def check_csrf(self, request: Request, token: str) -> None:
        """Refuse (back to sign-in) a form without the session's CSRF token."""
        expected = request.session.get("csrf", "")
        # compare bytes: compare_digest refuses str with non-ASCII characters (a 500)
        given = token.encode("utf-8", "surrogatepass")
        if not expected or not hmac.compare_digest(str(expected).encode("utf-8"), given):
            raise SignInRequired()

    async def spend(self, request: Request, token: str) -> Spend:
        """Spend a state-changing form's one-time token (:mod:`api.ui_tokens`; the
        registry's record of spent tokens is written off the event loop)."""
        return await run_in_threadpool(self.tokens.spend, request.session, token)

    async def staff(self, request: Request) -> Staff:
        """The session's member of staff, if the session is still valid server-side (a
        cookie kept after sign-out, a password change or disabling names an old epoch)."""
        staff_id, epoch = request.session.get("staff"), request.session.get("epoch")
        found = None
        if isinstance(staff_id, int) and isinstance(epoch, int):
            found = await run_in_threadpool(self.svc.staff, staff_id, epoch)
        if found is None:
            request.session.clear()
            raise SignInRequired()
        return found

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The template ``ui/{name}`` in the language of the page's member of staff (the
        browser's preferred one on the sign-in page)."""
        who = context.get("staff")
        language = (
            who.locale
            if isinstance(who, Staff)
            else best_language(request.headers.get("accept-language", ""))
        )
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        notice = context.pop("notice", request.query_params.get("notice", ""))
        html = self.env.get_template(f"ui/{name}").render(
            csrf=self.csrf(request),
            form_token=lambda: self.tokens.issue(request.session),
            token_field=FIELD,
            here=local_path(here),
            languages=[(code, LANGUAGE_NAMES[code]) for code in STAFF_LANGUAGES],
            notice=notice if notice in NOTICES else "",
            **texts(language).context(),
            **context,
        )
        return HTMLResponse(html, status_code=status)
