"""The staff UI's session helpers, shared by its routers (:mod:`api.ui`,
:mod:`api.ui_review`): the CSRF token of the session's forms, and the signed-in member of
staff (the service is the application's own, ``request.app.state.service``)."""

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from correspondence.service import Service, Staff

ASSET_BASE = "/ui/assets/"
"""Where the UI serves the packaged fonts and stylesheet that previews load."""


class SignInRequired(Exception):
    """Raised by page dependencies when there is no staff session."""


def csrf(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, token: str) -> None:
    """Refuse a form whose token is not the session's (the visitor signs in again)."""
    expected = request.session.get("csrf", "")
    # compare bytes: compare_digest refuses str with non-ASCII characters (a 500)
    given = token.encode("utf-8", "surrogatepass")
    if not expected or not hmac.compare_digest(str(expected).encode("utf-8"), given):
        raise SignInRequired()


async def staff(request: Request) -> Staff:
    """The session's member of staff, if the session is still valid server-side (a
    cookie kept after sign-out, a password change or disabling names an old epoch)."""
    svc: Service = request.app.state.service
    staff_id, epoch = request.session.get("staff"), request.session.get("epoch")
    found = None
    if isinstance(staff_id, int) and isinstance(epoch, int):
        found = await run_in_threadpool(svc.staff, staff_id, epoch)
    if found is None:
        request.session.clear()
        raise SignInRequired()
    return found


Signed = Annotated[Staff, Depends(staff)]
"""A page's signed-in member of staff (or a redirect to sign in)."""
