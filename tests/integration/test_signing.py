"""PAdES signatures (issue 25): every signed kind in every locale of its sample is signed
with a CA the tests make and a timestamp authority on 127.0.0.1, and two independent
validators, poppler's ``pdfsig`` and pyHanko's, agree that it is valid; a tampered copy, an
update appended after signing and a signature by a key outside our PKI are reported
invalid by both."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader, PdfWriter

from correspondence import signing
from correspondence.config import Settings
from correspondence.engine import Engine, locales_of
from correspondence.errors import Unavailable
from correspondence.formatting import SUPPORTED_LOCALES
from correspondence.kinds import KINDS
from tests.conftest import flat, in_language
from tests.servers import free_port
from tests.signing_pki import (
    SIGNER_NAME,
    Pki,
    TimestampAuthority,
    make_pki,
    nss_database,
    pdfa_problems,
    pdfsig,
    pdfua_report,
    timestamp_authority,
)

SIGNED_KINDS = tuple(Settings().signing_kinds)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def nss(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> str:
    return nss_database(tmp_path_factory.mktemp("nss"), pki.ca_file)


@pytest.fixture(scope="module")
def tsa(pki: Pki) -> Iterator[TimestampAuthority]:
    with timestamp_authority(pki) as running:
        yield running


@pytest.fixture(scope="module")
def renders(engine: Engine) -> dict[tuple[str, str], bytes]:
    """The unsigned PDF of each signed kind's sample in every supported locale (its free
    text given in English too, so that it can be read in en-GB and en-US)."""
    out = {}
    for kind in SIGNED_KINDS:
        validated = engine.validate(in_language(KINDS[kind].sample(), "en"))
        for locale in locales_of(validated):
            out[kind, locale] = engine.render(validated, locale=locale).pdf
    return out


def _signer(pki: Pki, **extra: object) -> signing.PyHankoSigner:
    signer = signing.from_settings(Settings(**pki.settings(**extra)))  # type: ignore[arg-type]
    assert signer is not None
    return signer


def test_the_default_signed_kinds_are_the_decision_letters_and_invoices() -> None:
    assert set(SIGNED_KINDS) == {"claim_decision", "credit_limit_decision", "premium_invoice"}
    assert set(SIGNED_KINDS) <= set(KINDS)


def test_every_signed_kind_and_locale_is_valid_for_pdfsig_and_pyhanko(
    renders: dict[tuple[str, str], bytes],
    pki: Pki,
    tsa: TimestampAuthority,
    nss: str,
    tmp_path: Path,
) -> None:
    """PAdES B-T: pdfsig says valid, trusted, whole document, ETSI.CAdES.detached; pyHanko
    says intact, valid, trusted, timestamped; the unsigned PDF is the signed one's start."""
    signer = _signer(pki, tsa_url=tsa.url)
    calls_before = len(tsa.requests)
    assert set(renders) == {(k, loc) for k in SIGNED_KINDS for loc in SUPPORTED_LOCALES}
    for (kind, locale), unsigned in renders.items():
        signed = signer.sign(unsigned)
        assert signed.pdf.startswith(unsigned), (kind, locale)
        assert signed.level == "B-T" and SIGNER_NAME in signed.signer
        target = tmp_path / f"{kind}.{locale}.pdf"
        target.write_bytes(signed.pdf)
        assert pdfua_report(target) == [], (kind, locale)
        said = pdfsig(target, nss)
        for line in (
            "Signature Validation: Signature is Valid.",
            "Certificate Validation: Certificate is Trusted.",
            "Total document signed",
            "Signature Type: ETSI.CAdES.detached",
            f"Signer Certificate Common Name: {SIGNER_NAME}",
        ):
            assert line in said, (kind, locale, said)
        check = signing.check(signed.pdf, signer.trust_roots)
        assert check.ok, (kind, locale, check)
        assert check.level == "B-T" and check.signed_at == signed.signed_at
        assert check.timestamped_at is not None
        assert abs((check.timestamped_at - signed.signed_at).total_seconds()) < 120
        # The signature leaves the render's pages and metadata as they were.
        before, after = PdfReader(io.BytesIO(unsigned)), PdfReader(io.BytesIO(signed.pdf))
        assert len(after.pages) == len(before.pages)
        assert after.metadata == before.metadata
        assert after.xmp_metadata is not None and before.xmp_metadata is not None
        assert after.trailer["/Root"]["/Metadata"].get_object().get_data() == (
            before.trailer["/Root"]["/Metadata"].get_object().get_data()
        )
        # And PDF/A-3a and PDF/UA-1 hold for the revision it adds (the tagged widget...).
        assert pdfa_problems(signed.pdf, unsigned) == [], (kind, locale)
    # One call to the timestamp authority per signature (no trial signature to size it).
    assert len(tsa.requests) - calls_before == len(renders)


def test_without_a_timestamp_authority_the_signature_is_b_b(
    renders: dict[tuple[str, str], bytes], pki: Pki, nss: str, tmp_path: Path
) -> None:
    signer = _signer(pki)
    kind, locale = sorted(renders)[0]
    signed = signer.sign(renders[kind, locale])
    target = tmp_path / "bb.pdf"
    target.write_bytes(signed.pdf)
    assert "Signature is Valid." in pdfsig(target, nss)
    check = signing.check(signed.pdf, signer.trust_roots)
    assert check.ok and check.level == "B-B" and check.timestamped_at is None


def test_a_visible_signature_block_is_optional(
    renders: dict[tuple[str, str], bytes], pki: Pki, nss: str, tmp_path: Path
) -> None:
    """Invisible by default (a zero-size widget); with a box, a widget of that size on the
    last page."""
    unsigned = renders[sorted(renders)[0]]
    for box, size in ((None, (0, 0)), ((36, 24, 236, 64), (200, 40))):
        signed = _signer(pki, signing_visible_box=box).sign(unsigned)
        reader = PdfReader(io.BytesIO(signed.pdf))
        widgets = [
            annot.get_object()
            for page in reader.pages
            for annot in page.get("/Annots", [])
            if annot.get_object().get("/FT") == "/Sig"
        ]
        assert len(widgets) == 1
        x1, y1, x2, y2 = (float(v) for v in widgets[0]["/Rect"])
        assert (round(x2 - x1), round(y2 - y1)) == size
        if box is not None:
            last = reader.pages[-1]
            assert any(a.get_object() == widgets[0] for a in last.get("/Annots", []))
        target = tmp_path / f"visible-{box is not None}.pdf"
        target.write_bytes(signed.pdf)
        assert "Signature is Valid." in pdfsig(target, nss)
        assert signing.check(signed.pdf, _signer(pki).trust_roots).ok


def test_the_visible_block_keeps_pdf_a_and_pdf_ua_in_every_kind_and_locale(
    renders: dict[tuple[str, str], bytes], pki: Pki, nss: str, tmp_path: Path
) -> None:
    """The block's text is set in the packaged Noto Sans, embedded as a subset, in the
    document's language; its widget is a /Form element of the structure tree described in
    that language, like the invisible one's; pdfsig still finds the signature valid."""
    visible = _signer(pki, signing_visible_box=(36, 24, 236, 64))
    invisible = _signer(pki)
    for (kind, locale), unsigned in renders.items():
        for signer in (visible, invisible):
            signed = signer.sign(unsigned).pdf
            assert pdfa_problems(signed, unsigned) == [], (kind, locale)
            pdf = pikepdf.open(io.BytesIO(signed))
            widget = pdf.Root.AcroForm.Fields[0]
            words = "Firma digital de" if locale.startswith("es") else "Digital signature of"
            assert str(widget.TU) == f"{words} {SIGNER_NAME}", (kind, locale)
            form = pdf.Root.StructTreeRoot.K[0].K[-1]  # last in the document's structure
            assert form.S == "/Form" and form.K.Obj.objgen == widget.objgen
            assert str(form.Alt) == str(widget.TU)
            if signer is invisible:
                assert [float(v) for v in widget.Rect] == [0, 0, 0, 0]
                continue
            fonts = widget.AP.N.Resources.Font
            assert [str(f.BaseFont).split("+")[1] for f in fonts.values()] == [
                "NotoSans-Regular-Identity-H"
            ]
            # poppler draws the widget's appearance: the block's words, through the
            # embedded subset's /ToUnicode.
            target = tmp_path / f"{kind}.{locale}.pdf"
            target.write_bytes(signed)
            text = flat(_pdftotext(target))
            said = "Firmado digitalmente por" if locale.startswith("es") else "Digitally signed by"
            assert f"{said} {SIGNER_NAME}" in text, (kind, locale, text[-200:])
            assert "Signature is Valid." in pdfsig(target, nss), (kind, locale)
            assert pdfua_report(target) == [], (kind, locale)


def _pdftotext(pdf: Path) -> str:
    done = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_a_tampered_copy_is_invalid_for_both(
    renders: dict[tuple[str, str], bytes], pki: Pki, nss: str, tmp_path: Path
) -> None:
    """One byte changed inside a content stream of the signed bytes."""
    signer = _signer(pki)
    unsigned = renders[sorted(renders)[0]]
    signed = signer.sign(unsigned).pdf
    at = signed.index(b"stream", len(unsigned) // 3) + 40
    assert at < len(unsigned)
    tampered = bytearray(signed)
    tampered[at] ^= 0x01
    target = tmp_path / "tampered.pdf"
    target.write_bytes(bytes(tampered))
    said = pdfsig(target, nss)
    assert "Digest Mismatch" in said and "Signature is Valid." not in said
    check = signing.check(bytes(tampered), signer.trust_roots)
    assert check.signed and not check.intact and not check.ok
    assert check.problem is not None and "digest" in check.problem


def test_an_update_appended_after_signing_is_invalid_for_both(
    renders: dict[tuple[str, str], bytes], pki: Pki, nss: str, tmp_path: Path
) -> None:
    """The signed bytes are intact but the file goes on: a new title appended as an
    incremental update is not covered by the signature."""
    signer = _signer(pki)
    signed = signer.sign(renders[sorted(renders)[0]]).pdf
    writer = PdfWriter(io.BytesIO(signed), incremental=True)
    writer.add_metadata({"/Title": "Altered"})
    out = io.BytesIO()
    writer.write(out)
    changed = out.getvalue()
    assert changed.startswith(signed)
    assert PdfReader(io.BytesIO(changed)).metadata.title == "Altered"  # type: ignore[union-attr]
    target = tmp_path / "appended.pdf"
    target.write_bytes(changed)
    said = pdfsig(target, nss)
    assert "Not total document signed" in said and "Total document signed" not in said
    check = signing.check(changed, signer.trust_roots)
    assert check.intact and not check.whole_file and not check.ok
    assert check.problem == "the file was changed after it was signed"


def test_a_signature_outside_our_pki_is_untrusted_for_both(
    renders: dict[tuple[str, str], bytes],
    pki: Pki,
    nss: str,
    tmp_path: Path,
) -> None:
    """A key and certificate of another CA, with our signer's very name."""
    other = make_pki(tmp_path / "other")
    forged = _signer(other).sign(renders[sorted(renders)[0]]).pdf
    target = tmp_path / "forged.pdf"
    target.write_bytes(forged)
    said = pdfsig(target, nss)
    assert "Signature is Valid." in said  # intact: the forger's own signature checks out
    # Its chain ends at a root the NSS database does not trust (poppler 22.12 words that
    # "Unknown issue with Certificate"; later ones "Certificate issuer isn't Trusted").
    assert "Certificate Validation:" in said and "Certificate is Trusted." not in said
    check = signing.check(forged, _signer(pki).trust_roots)
    assert check.intact and not check.trusted and not check.ok
    assert check.signer is not None and SIGNER_NAME in check.signer


def test_no_key_no_signing_and_half_a_configuration_is_refused(pki: Pki) -> None:
    assert signing.from_settings(Settings()) is None
    with pytest.raises(signing.SigningError, match="both"):
        signing.from_settings(Settings(signing_key_file=pki.key_file))
    with pytest.raises(signing.SigningError, match="cannot"):
        signing.from_settings(Settings(signing_key_file=pki.ca_file, signing_cert_file=pki.ca_file))
    signer = _signer(pki, signing_kinds=["claim_decision"])
    assert signer.signs("claim_decision") and not signer.signs("premium_invoice")


def test_an_unreachable_timestamp_authority_is_a_dependency_outage(
    renders: dict[tuple[str, str], bytes], pki: Pki
) -> None:
    """Nothing listens: Unavailable (the issuer tries the document again later)."""
    signer = _signer(pki, tsa_url=f"http://127.0.0.1:{free_port()}/tsa", tsa_timeout_seconds=2)
    with pytest.raises(Unavailable, match="timestamp authority") as outage:
        signer.sign(renders[sorted(renders)[0]])
    assert outage.value.dependency == "timestamp_authority"  # the metric's label


def test_an_unsigned_pdf_is_reported_as_unsigned(renders: dict[tuple[str, str], bytes]) -> None:
    check = signing.check(renders[sorted(renders)[0]])
    assert not check.signed and not check.ok and check.problem == "the PDF carries no signature"
    assert not signing.check(b"not a pdf").signed
