"""Previews: a payload rendered as a draft, with no number, registry row or archive."""

from __future__ import annotations

from correspondence.errors import InvalidPayload, Problem
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import validate
from correspondence.renderers import EnginePool, Renderers
from correspondence.results import Client
from correspondence.templating import ASSET_ORIGIN


class Previews:
    """Renders drafts: PDFs through the render pool, HTML on an in-process engine."""

    def __init__(self, *, renderers: Renderers, engines: EnginePool) -> None:
        self.renderers = renderers
        self.engines = engines

    def preview(
        self,
        payload: object,
        *,
        client: Client,
        locale: str | None,
        html: bool,
        asset_base: str | None = None,
    ) -> bytes | str:
        """Render without numbering, registry or archive, marked as a draft.

        HTML inlines the stylesheet unless ``asset_base`` says where the assets are served."""
        client.require("previews")
        if locale is not None and locale not in SUPPORTED_LOCALES:
            raise InvalidPayload(
                [
                    Problem(
                        "locale",
                        f"{locale[:20]!r} is not a locale we write in; "
                        f"choose one of {', '.join(SUPPORTED_LOCALES)}",
                        "locale",
                    )
                ]
            )
        validated = validate(payload)
        if not html:
            return self.renderers.render(validated, locale=locale, draft=True).document.pdf
        with self.engines.lease() as engine:
            return engine.html(
                validated,
                locale=locale,
                draft=True,
                inline_css=asset_base is None,
                asset_base=asset_base or ASSET_ORIGIN,
            )
