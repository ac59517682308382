"""Fixtures for every test: a warm engine, the project's sample payloads, PDF readers, and two
rules: any WeasyPrint warning fails the test that caused it, and so does opening any file
beside the checkout (the suite runs from a plain clone with nothing next to it)."""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from correspondence.config import PROJECT_ROOT, Settings
from correspondence.engine import Engine
from correspondence.kinds import SAMPLES_DIR

SAMPLES = SAMPLES_DIR
"""The project's own sample payloads: the fixtures of the suite."""

_INSIDE = os.path.join(str(PROJECT_ROOT), "")
_BESIDE = os.path.join(str(PROJECT_ROOT.parent), "")
_opened_beside: list[str] = []


def _outside_the_checkout(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: note every file opened next to the checkout (a sibling folder of
    reference material and the like). Anything else outside it (the interpreter,
    site-packages, /tmp, fonts) is the machine's."""
    if event != "open" or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path.startswith(_BESIDE) and not path.startswith(_INSIDE):
        _opened_beside.append(path)


sys.addaudithook(_outside_the_checkout)


@pytest.fixture(autouse=True)
def nothing_beside_the_checkout_is_read() -> Iterator[None]:
    """Fail any test during which this process opened a file beside the checkout."""
    del _opened_beside[:]
    yield
    opened, _opened_beside[:] = list(_opened_beside), []
    assert not opened, f"opened files outside the repository: {opened}"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_weasyprint_warnings() -> Iterator[None]:
    """Fail any test during which WeasyPrint logged a warning or an error."""
    capture = _Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(capture)
    try:
        yield
    finally:
        logger.removeHandler(capture)
    messages = [r.getMessage() for r in capture.records]
    assert not messages, f"WeasyPrint warned: {messages}"


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    return Engine(settings)


def load_sample(name: str) -> dict[str, Any]:
    """One of the project's sample payloads (``correspondence/kinds/samples``)."""
    loaded: dict[str, Any] = json.loads((SAMPLES / name).read_text("utf-8"))
    return loaded


@pytest.fixture()
def invoice_mx() -> dict[str, Any]:
    return copy.deepcopy(load_sample("02_premium_invoice_es-MX.json"))


def es_invoice() -> dict[str, Any]:
    """A Spanish premium invoice: the renewal sample's envelope plus its invoice section."""
    pack = load_sample("01_renewal_pack_es-ES.json")
    keys = ("document", "insurer", "policyholder", "account_executive", "broker", "policy")
    payload = copy.deepcopy({key: pack[key] for key in keys})
    payload["document"]["type"] = "premium_invoice"
    payload.update(copy.deepcopy(pack["premium_invoice"]))
    return payload


def pdf_reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def pdf_pages_text(data: bytes) -> list[str]:
    """The text of each page, as pypdf extracts it."""
    return [page.extract_text() for page in pdf_reader(data).pages]


def flat(text: str) -> str:
    """Collapse every run of whitespace (line breaks from layout, NBSP) to one space."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def pdf_text(data: bytes) -> str:
    """All page text, whitespace-collapsed, for phrase searches across line breaks."""
    return flat(" ".join(pdf_pages_text(data)))


PLACEHOLDER = {"es": "Texto en español.", "en": "Text in English."}


def in_language(payload: dict[str, Any], language: str) -> dict[str, Any]:
    """``payload`` with every free text it lacks in ``language`` given in it too, as
    ``{"es": …, "en": …}`` (a fixed sentence stands for the translation): what a caller
    sends to have a document rendered in a locale of another language."""
    from correspondence.kinds import validate
    from correspondence.language import untranslated

    payload = copy.deepcopy(payload)
    doc = validate(payload).doc
    for path in untranslated(doc, language, doc.document.language_of_text):
        *parents, last = path.split(".")
        node: Any = payload
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        key_or_index: Any = int(last) if isinstance(node, list) else last
        original = node[key_or_index]
        texts = (
            dict(original)
            if isinstance(original, dict)
            else {doc.document.language_of_text: original}
        )
        texts[language] = PLACEHOLDER[language]
        node[key_or_index] = texts
    return payload
