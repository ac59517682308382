"""What signing does to be cheap (issue 25's signing cost) changes nothing it writes: the
reader signing uses (``correspondence/signing_reader.py``) reads exactly what pyHanko's
own reader reads: the same cross-reference sections, and the same object for every object
number, in rendered PDFs (a letter; an invoice long enough to be laid out in sections and
joined) and in signed ones (two revisions); the CMS object, with its signing-certificate
attribute built once per signer, is byte for byte pyHanko's own signer's; and a long
invoice signed with both is valid for pdfsig and pyHanko and keeps PDF/A and PDF/UA."""

from __future__ import annotations

import asyncio
import hashlib
import io
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils import xref as pyhanko_xref
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from correspondence import signing, signing_reader
from correspondence.config import Settings
from correspondence.engine import Engine
from correspondence.kinds import KINDS
from tests.factories import sample_with_lines
from tests.signing_pki import Pki, make_pki, nss_database, pdfa_problems, pdfsig


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def pdfs(engine: Engine, pki: Pki) -> dict[str, bytes]:
    signer = signing.from_settings(Settings(**pki.settings()))  # type: ignore[arg-type]
    assert signer is not None
    letter = engine.render(engine.validate(KINDS["credit_limit_decision"].sample())).pdf
    invoice = engine.render(engine.validate(sample_with_lines(120))).pdf
    return {
        "letter": letter,
        "invoice": invoice,
        "signed letter": signer.sign(letter).pdf,
        "signed invoice": signer.sign(invoice).pdf,
    }


def _sections(reader: Any) -> list[tuple[Any, ...]]:
    return [
        (
            section.meta_info,
            section.xref_data.standard_xrefs,
            section.xref_data.xrefs_in_objstm,
            section.xref_data.freed,
            section.xref_data.explicit_refs_in_revision,
            section.xref_data.obj_streams_used,
        )
        for section in reader.xrefs._xref_sections
    ]


def _pyhanko_reader(pdf: bytes) -> PdfFileReader:
    """pyHanko's own reader: any reader but ours reads with pyHanko's code."""
    return PdfFileReader(io.BytesIO(pdf), strict=False)


def test_the_cross_reference_sections_are_pyhankos(pdfs: dict[str, bytes]) -> None:
    for name, pdf in pdfs.items():
        theirs = _pyhanko_reader(pdf)
        ours = signing_reader.Reader(io.BytesIO(pdf))
        assert pyhanko_xref.XRefBuilder._read_xref_stream is signing_reader._read_xref_stream
        assert len(ours.xrefs._xref_sections) == (2 if name.startswith("signed") else 1)
        assert _sections(ours) == _sections(theirs), name
        assert max(len(s[2]) for s in _sections(ours)) > 100, name  # in object streams
        assert ours.trailer.flatten() == theirs.trailer.flatten(), name


def _bulk_reads(read: Callable[[], object]) -> int:
    """How many columns of a cross-reference stream ``read`` took in bulk."""
    calls = 0

    def watch(frame: FrameType, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call" and frame.f_code is signing_reader._column.__code__:
            calls += 1

    sys.setprofile(watch)
    try:
        read()
    finally:
        sys.setprofile(None)
    return calls


def test_only_our_reader_reads_in_bulk(pdfs: dict[str, bytes]) -> None:
    """pyHanko's validator, in the same process, reads with pyHanko's own code: the
    comparisons above are against pyHanko, not against ourselves."""
    pdf = pdfs["signed letter"]
    assert _bulk_reads(lambda: signing_reader.Reader(io.BytesIO(pdf))) >= 2
    assert _bulk_reads(lambda: _pyhanko_reader(pdf)) == 0
    assert _bulk_reads(lambda: signing.check(pdf)) == 0  # verify reads as pyHanko does


def test_every_object_reads_as_pyhanko_reads_it(pdfs: dict[str, bytes]) -> None:
    for name in ("letter", "signed letter"):
        pdf = pdfs[name]
        theirs = _pyhanko_reader(pdf)
        ours = signing_reader.Reader(io.BytesIO(pdf))
        numbers = {n for section in _sections(theirs) for n in (*section[1], *section[2])}
        assert len(numbers) > 200
        for number in sorted(numbers):  # generation 0: none is reused in our PDFs
            mine = ours.get_object(generic.Reference(number, 0, ours))
            expected = theirs.get_object(generic.Reference(number, 0, theirs))
            assert repr(mine) == repr(expected), (name, number)


def test_a_signed_long_invoice_is_valid_and_keeps_pdf_a_and_pdf_ua(
    pdfs: dict[str, bytes], pki: Pki, tmp_path: Path
) -> None:
    target = tmp_path / "invoice.pdf"
    target.write_bytes(pdfs["signed invoice"])
    assert pdfa_problems(pdfs["signed invoice"], pdfs["invoice"]) == []
    said = pdfsig(target, nss_database(tmp_path / "nss", pki.ca_file))
    assert "Signature is Valid." in said and "Certificate is Trusted." in said
    signer = signing.from_settings(Settings(**pki.settings()))  # type: ignore[arg-type]
    assert signer is not None
    assert signing.check(pdfs["signed invoice"], signer.trust_roots).ok


def test_the_cms_object_is_byte_for_byte_pyhankos(pki: Pki) -> None:
    ours = signing.from_settings(Settings(**pki.settings()))  # type: ignore[arg-type]
    assert ours is not None
    theirs = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(pki.key_file), str(pki.cert_file), ca_chain_files=[str(pki.ca_file)]
    )
    assert theirs is not None
    for text in (b"first: the attribute is built", b"then: it is kept"):
        digest = hashlib.sha256(text).digest()  # RSA PKCS #1 v1.5 signatures: deterministic
        mine = asyncio.run(ours._signer.async_sign(digest, "sha256", use_pades=True))
        expected = asyncio.run(theirs.async_sign(digest, "sha256", use_pades=True))
        assert mine.dump() == expected.dump()
    assert ours._signer._signing_certificate_v2 is not None


def test_the_last_page_is_the_one_pyhanko_finds(pdfs: dict[str, bytes]) -> None:
    for name, pdf in pdfs.items():
        source = io.BytesIO(pdf)
        ours = signing._classes()[2](source, prev=signing_reader.Reader(source))
        theirs = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pages = int(theirs.root["/Pages"]["/Count"])
        assert pages >= 2, name
        for index in (-1, pages - 1, 0):
            mine = ours.find_page_for_modification(index)
            expected = theirs.find_page_for_modification(index)  # type: ignore[no-untyped-call]
            assert mine[0].reference == expected[0].reference, (name, index)
            assert repr(mine[1]) == repr(expected[1]), (name, index)
