"""Compose and preview under ``/ui``: a form generated from the kind's JSON Schema
(:mod:`api.ui_forms`), the raw JSON as an advanced view, validation errors beside their
fields and in a summary at the top, and the draft previewed on demand, in one locale or
Spanish and English side by side, or as a PDF.

The page works without script: the two views, "Add another" and "Remove" are submit buttons
and the server draws the form again from the payload they carry; the error summary takes
the focus (``autofocus``) and its links move it to their fields (fragment links).
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.kind_schemas import kind_schema
from api.ui_form_lists import add_item, remove_item
from api.ui_forms import (
    Field,
    field_id,
    form_fields,
    items_of,
    payload_from_form,
)
from api.ui_pages import ASSET_BASE
from correspondence import bounded_json
from correspondence.errors import InvalidPayload, Problem
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from correspondence.service import Service, Staff

STYLESHEET = Path(__file__).parent / "static" / "compose.css"
DEFAULT_KIND = "premium_invoice"
FORM_FIELDS_MAX = 20_000
"""The most items a submitted compose form may have (a renewal pack has about 600)."""


def gettext(text: str, **values: Any) -> str:
    """The UI's text in the staff member's language: for now the English text itself
    (the catalogs replace this function)."""
    return text % values if values else text


_ = gettext


def pair_locales(locale: str, jurisdiction: str) -> tuple[str, str]:
    """The Spanish and the English locale shown side by side for a payload in ``locale``."""
    spanish = locale if locale.startswith("es") else f"es-{jurisdiction}"
    english = locale if locale.startswith("en") else "en-GB"
    return spanish, english


@dataclass(frozen=True)
class Shown:
    """One validation message as the page shows it: in the summary, linked to ``anchor``,
    and beside the field at ``path``."""

    path: str
    anchor: str
    label: str
    message: str


def _index(fields: tuple[Field, ...] | list[Field]) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for each in fields:
        found[each.path] = each
        found.update(_index(each.children))
    return found


def first_input(field: Field | None) -> str:
    """The id of the first input of ``field`` (where the focus goes in a new list item)."""
    if field is None:
        return ""
    if field.texts:
        return field_id(f"{field.path}.{field.texts[0][0]}")
    if field.kind in ("group", "list"):
        return next((found for c in field.children if (found := first_input(c))), "")
    return "" if field.kind == "const" else field.id


def shown_problems(problems: list[Problem], fields: list[Field] | None) -> list[Shown]:
    """``problems`` placed on the form: each at the field of its path, or of the nearest
    path above it that has one (a missing group's field); the JSON view links them all to
    its text box."""
    if fields is None:
        return [Shown("", "payload", p.field or _("Payload"), p.message) for p in problems]
    index = _index(fields)
    shown = []
    for problem in problems:
        path = problem.field
        while path and path not in index:
            path = path.rpartition(".")[0]
        if not path:
            shown.append(Shown("", "fields", problem.field or _("Payload"), problem.message))
            continue
        target = index[path]
        anchor = field_id(f"{path}.{target.texts[0][0]}") if target.texts else target.id
        rest = problem.field[len(path) :].lstrip(".")
        message = f"{rest}: {problem.message}" if rest else problem.message
        shown.append(Shown(path, anchor, target.label, message))
    return shown


def _kind_of(payload: Any, fallback: str) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("document"), dict):
        kind = str(payload["document"].get("type", fallback))
        return kind if kind in KINDS else fallback
    return fallback


@dataclass
class Submitted:
    """What a compose form carried: its kind and view, the payload, and what is wrong with
    the form itself (a JSON view that is not JSON, a whole number that is not one)."""

    kind: str
    view: str
    payload: Any
    text: str
    problems: list[Problem]


def read_submission(items: Mapping[str, str]) -> Submitted:
    """The payload of a submitted compose form, from whichever view it was in."""
    kind = items.get("kind", DEFAULT_KIND)
    kind = kind if kind in KINDS else DEFAULT_KIND
    if items.get("view") == "json":
        text = items.get("payload", "")
        try:
            payload = bounded_json.loads(text, subject="the payload")
        except InvalidPayload as error:
            return Submitted(kind, "json", None, text, list(error.problems))
        return Submitted(_kind_of(payload, kind), "json", payload, text, [])
    payload, problems = payload_from_form(kind_schema(KINDS[kind]), items)
    return Submitted(kind, "form", payload, "", problems)


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """The paths where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [*a, *(k for k in b if k not in a)]
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}.{i}")]
    return [] if a == b else [path.lstrip(".")]


def unshown(kind: str, payload: Any) -> list[Problem]:
    """What of ``payload`` the form of ``kind`` would lose (a field no schema has, a value
    of the wrong shape): to be edited in the JSON view."""
    if not isinstance(payload, dict):
        return [Problem("", "the payload is not a JSON object; the form cannot show it")]
    schema = kind_schema(KINDS[kind])
    back, _problems = payload_from_form(schema, items_of(form_fields(schema, payload)))
    return [
        Problem(path, "the form cannot show this value; edit it in the JSON view")
        for path in _differences(payload, back)[:10]
    ]


def build_compose_router(
    svc: Service,
    *,
    page: Callable[..., HTMLResponse],
    staff: Callable[..., Any],
    check_csrf: Callable[[Request, str], None],
) -> APIRouter:
    """The compose routes; ``page``, ``staff`` and ``check_csrf`` are the UI's own (the
    page renderer, the session's staff dependency and the CSRF check of ``api.ui``)."""
    router = APIRouter()
    Signed = Annotated[Staff, Depends(staff)]

    def compose_page(
        request: Request,
        who: Staff,
        sub: Submitted,
        *,
        locale: str,
        problems: list[Problem] | None = None,
        previews: list[tuple[str, str]] | None = None,
        focus: str = "",
    ) -> HTMLResponse:
        fields = None
        if sub.view == "form" and isinstance(sub.payload, dict):
            fields = form_fields(kind_schema(KINDS[sub.kind]), sub.payload)
        shown = shown_problems(problems or [], fields)
        errors: dict[str, list[str]] = {}
        for each in shown:
            errors.setdefault(each.path, []).append(each.message)
        if focus and fields is not None:
            added = _index(fields).get(focus)
            focus = first_input(added.children[-1] if added and added.children else None)
        return page(
            request,
            "compose.html",
            422 if shown else 200,
            staff=who,
            kinds=sorted(KINDS),
            locales=SUPPORTED_LOCALES,
            kind=sub.kind,
            locale=locale,
            view="form" if fields is not None else "json",
            fields=fields or [],
            text=sub.text if fields is None else "",
            problems=shown,
            errors=errors,
            previews=previews or [],
            focus=focus,
        )

    async def form_items(request: Request) -> dict[str, str]:
        form = await request.form(max_fields=FORM_FIELDS_MAX)
        items = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        check_csrf(request, items.get("csrf", ""))
        return items

    async def previews_of(
        who: Staff, payload: Any, locale: str, side: bool
    ) -> list[tuple[str, str]]:
        locales = [locale]
        if side and isinstance(payload, dict):
            document = payload.get("document")
            header = document if isinstance(document, dict) else {}
            locales = list(
                pair_locales(
                    str(header.get("locale", locale)), str(header.get("jurisdiction", "ES"))
                )
            )
        previews = []
        for each in locales:
            html = await run_in_threadpool(
                partial(svc.preview, client=who.client, locale=each, asset_base=ASSET_BASE),
                payload,
                html=True,
            )
            assert isinstance(html, str)
            previews.append((each, html))
        return previews

    @router.get("/compose.css")
    async def stylesheet(who: Signed) -> Response:
        return Response(
            STYLESHEET.read_bytes(),
            media_type="text/css",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @router.get("/compose")
    async def compose(
        request: Request, who: Signed, kind: str = DEFAULT_KIND, locale: str = ""
    ) -> HTMLResponse:
        kind = kind if kind in KINDS else DEFAULT_KIND
        sample = KINDS[kind].sample()
        chosen = locale if locale in SUPPORTED_LOCALES else sample["document"]["locale"]
        return compose_page(request, who, Submitted(kind, "form", sample, "", []), locale=chosen)

    @router.post("/compose")
    async def preview(request: Request, who: Signed) -> HTMLResponse:
        items = await form_items(request)
        sub = read_submission(items)
        chosen = items.get("locale", "")
        locale = chosen if chosen in SUPPORTED_LOCALES else "es-MX"  # the select's choice
        action = items.get("action", "preview")
        if sub.problems and not (action == "view:json" and sub.view == "form"):
            return compose_page(request, who, sub, locale=locale, problems=sub.problems)
        if action in ("view:json", "view:form"):
            sub.text = json.dumps(sub.payload, ensure_ascii=False, indent=2)
            if sub.view == "json" and action == "view:form":
                lost = unshown(sub.kind, sub.payload)
                if lost:  # the JSON view keeps what the form cannot show
                    return compose_page(request, who, sub, locale=locale, problems=lost)
            sub.view = action.removeprefix("view:")
            return compose_page(request, who, sub, locale=locale)
        verb, _sep, path = action.partition(":")
        if verb in ("add", "remove") and sub.view == "form":
            change = add_item if verb == "add" else remove_item
            sub.payload = change(kind_schema(KINDS[sub.kind]), sub.payload, path)
            focus = path if verb == "add" else ""
            return compose_page(request, who, sub, locale=locale, focus=focus)
        try:
            if not chosen:
                raise InvalidPayload([Problem("locale", "is missing", "missing")])
            # an unknown locale is the service's to refuse, naming the field
            previews = await previews_of(who, sub.payload, chosen, side=action == "side")
        except InvalidPayload as error:
            return compose_page(request, who, sub, locale=locale, problems=list(error.problems))
        return compose_page(request, who, sub, locale=locale, previews=previews)

    @router.post("/preview.pdf")
    async def preview_pdf(request: Request, who: Signed) -> Response:
        items = await form_items(request)
        sub = read_submission(items)
        chosen = items.get("locale", "")
        locale = chosen if chosen in SUPPORTED_LOCALES else "es-MX"  # the select's choice
        try:
            if sub.problems:
                raise InvalidPayload(sub.problems)
            if not chosen:
                raise InvalidPayload([Problem("locale", "is missing", "missing")])
            pdf = await run_in_threadpool(
                svc.preview, sub.payload, client=who.client, locale=chosen, html=False
            )
        except InvalidPayload as error:
            return compose_page(request, who, sub, locale=locale, problems=list(error.problems))
        assert isinstance(pdf, bytes)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": 'inline; filename="draft.pdf"'},
        )

    return router
