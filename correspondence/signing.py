"""PAdES signatures of issued PDFs: the port (:class:`Signer`) and its pyHanko adapter.

An issued PDF of a kind in ``signing_kinds`` is signed once its bytes are final and before
it is archived (``issuing/artefacts.py``): the archive and the registry hold the signed
bytes, and the registry also records who signed and when. The signature is PAdES B-B
(``ETSI.CAdES.detached``), B-T when a timestamp authority is configured, written as an
incremental update: the unsigned PDF is, byte for byte, the start of the signed one, so
whatever the render wrote (PDF/A conformance included) stays as it was, and a re-render
is compared with the unsigned bytes (``reissue-check``).

With no key configured :func:`from_settings` answers ``None`` and nothing is signed.
Only this module, :mod:`correspondence.signature_field` (the signature field, tagged
for PDF/UA, in the signing revision) and :mod:`correspondence.signing_reader` (pyHanko's
reader, made cheap on large tagged PDFs) import pyHanko.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from correspondence.config import Settings
from correspondence.errors import CorrespondenceError, Unavailable

FIELD_NAME = "Signature"
"""The name of the signature field the service adds."""

# Room for the CMS object (in bytes of DER) beyond the certificates it embeds: the
# signature and its signed attributes, and (B-T) the timestamp token with the authority's
# own certificates. Reserving it up front spares pyHanko a trial signature (and a trial
# call to the timestamp authority) to size it.
_RESERVED_BB = 2_048
_RESERVED_BT = 10_240


class SigningError(CorrespondenceError):
    """The signing key or certificate cannot be used, or signing failed."""


@dataclass(frozen=True)
class Signed:
    """A signed PDF, who signed it and when (the time the signature states)."""

    pdf: bytes
    signer: str
    signed_at: datetime
    level: str
    """``B-B``, or ``B-T`` when a timestamp authority vouched for the time."""


class Signer(Protocol):
    """Signs issued PDFs of the kinds it is configured for."""

    def signs(self, kind: str) -> bool:
        """Whether PDFs of ``kind`` are signed."""
        ...

    def sign(self, pdf: bytes) -> Signed:
        """``pdf`` with a signature appended as an incremental update."""
        ...

    def read(self, pdf: bytes) -> Signed | None:
        """What an intact signature by this signer over the whole of ``pdf`` says, or
        ``None`` if it carries none (a retry finds an earlier attempt's signature)."""
        ...


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says, as an outside validator would read it."""

    signed: bool
    intact: bool = False
    """The signed bytes hash to the digest in the signature."""
    valid: bool = False
    """``intact`` and the cryptographic signature over it checks out."""
    trusted: bool = False
    """The signer's certificate chains to a trusted root (the configured chain)."""
    whole_file: bool = False
    """Nothing was added to the file after the signature."""
    signer: str | None = None
    signed_at: datetime | None = None
    timestamped_at: datetime | None = None
    """The time a timestamp authority vouched for (B-T), if any."""
    level: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted, and covering the whole file."""
        return self.signed and self.intact and self.valid and self.trusted and self.whole_file


def _load_certs(path: Path) -> list[Any]:
    from pyhanko.keys.pemder import load_certs_from_pemder

    try:
        return list(load_certs_from_pemder([str(path)]))  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as error:
        raise SigningError(f"cannot read certificates from {path}: {error}") from None


class PyHankoSigner:
    """:class:`Signer` with pyHanko: a PEM key and certificate (and chain), PAdES B-B, or
    B-T with an RFC 3161 timestamp authority called over HTTP."""

    def __init__(
        self,
        *,
        key_file: Path,
        cert_file: Path,
        chain_file: Path | None = None,
        passphrase: bytes | None = None,
        kinds: Sequence[str] = (),
        tsa_url: str | None = None,
        tsa_timeout: float = 5.0,
        visible_box: tuple[int, int, int, int] | None = None,
    ) -> None:
        from pyhanko.sign import signers

        chain = [str(chain_file)] if chain_file is not None else []
        try:
            loaded = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
                str(key_file), str(cert_file), ca_chain_files=chain, key_passphrase=passphrase
            )
        except (OSError, ValueError, TypeError) as error:
            raise SigningError(f"cannot load the signing key or certificate: {error}") from None
        if loaded is None:
            raise SigningError(f"cannot load the signing key {key_file} with {cert_file}")
        signer = _classes()[1](
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
        )
        self._signer = signer
        self.kinds = frozenset(kinds)
        self.name: str = signer.signing_cert.subject.human_friendly
        subject = signer.signing_cert.subject.native
        self._common_name: str = str(subject.get("common_name") or self.name)
        self.level = "B-T" if tsa_url else "B-B"
        self.trust_roots = _load_certs(chain_file) if chain_file else [signer.signing_cert]
        self._timestamper: Any = None
        self._tsa_url = tsa_url
        if tsa_url:
            from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

            self._timestamper = RequestsHTTPTimeStamper(  # type: ignore[no-untyped-call]
                tsa_url, timeout=tsa_timeout
            )
        self._visible_box = visible_box
        embedded = [signer.signing_cert, *signer.cert_registry]
        extra = _RESERVED_BT if tsa_url else _RESERVED_BB
        # pyHanko counts the placeholder in hex digits: two per byte.
        self._reserved = 2 * (sum(len(cert.dump()) for cert in embedded) + extra)

    def signs(self, kind: str) -> bool:
        return kind in self.kinds

    def sign(self, pdf: bytes) -> Signed:
        from pyhanko.sign import fields, signers
        from pyhanko.sign.timestamps.common_utils import TimestampRequestError

        from correspondence import signature_field
        from correspondence.signing_reader import Reader

        at = datetime.now(UTC).replace(microsecond=0)
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
        )
        try:
            source = io.BytesIO(pdf)
            writer = _classes()[2](source, prev=Reader(source), strict=False)
            # The field, tagged, in the signing revision (PDF/UA; signature_field.py).
            alt = signature_field.description(writer, self._common_name)
            signature_field.add(writer, name=FIELD_NAME, box=self._visible_box, alt=alt)
            style = None
            if self._visible_box:
                style = signature_field.stamp_style(writer, self._signer.subject_name or "")
            pdf_signer = _classes()[0](
                at, meta, signer=self._signer, timestamper=self._timestamper, stamp_style=style
            )
            out = pdf_signer.sign_pdf(writer, bytes_reserved=self._reserved)
        except TimestampRequestError as error:
            # The document is issued later, like one whose archive is down.
            raise Unavailable(
                f"timestamp authority {self._tsa_url}: {error}", dependency="timestamp_authority"
            ) from None
        signed: bytes = out.getvalue()
        return Signed(signed, self.name, at, self.level)

    def read(self, pdf: bytes) -> Signed | None:
        found = check(pdf, self.trust_roots)
        if not found.ok or found.signer != self.name or found.signed_at is None:
            return None
        return Signed(pdf, self.name, found.signed_at, found.level or self.level)


@functools.cache
def _classes() -> tuple[type[Any], type[Any], type[Any]]:
    """Three small subclasses of pyHanko's, made on first use (pyHanko loads lazily)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import attributes, signers
    from pyhanko_certvalidator.util import get_pyca_cryptography_hash

    class MetadataKept(IncrementalPdfFileWriter):
        """pyHanko rewrites the document's XMP metadata and Info dictionary in the
        signing revision (its producer, a modification date), and the two then disagree,
        which PDF/A forbids; the XMP it writes also drops what it does not know. This
        writer leaves the render's metadata exactly as it was: the revision adds only the
        signature field and its signature. It also finds the last page cheaply."""

        def _update_meta(self) -> None:
            return None

        def find_page_for_modification(self, page_ix: int) -> Any:
            """The last page (where the field goes) without reading every page, when the
            page tree's root ends with it (pyHanko walks every page to find the last:
            23 page objects in a 500-line invoice); any other page as pyHanko finds it.
            The resources answered are pyHanko's: the page's own, else inherited."""
            tree = self.root["/Pages"]
            kids = tree["/Kids"]
            last = kids.raw_get(len(kids) - 1) if len(kids) else None
            wanted = page_ix in (-1, int(tree["/Count"]) - 1)
            if not wanted or last is None or last.get_object().get("/Type") != "/Page":
                return super().find_page_for_modification(page_ix)  # type: ignore[no-untyped-call]
            page = last.get_object()
            for holder in (page, tree):
                if "/Resources" in holder:
                    return last, holder.raw_get("/Resources")
            return super().find_page_for_modification(page_ix)  # type: ignore[no-untyped-call]

    class AtTime(signers.PdfSigner):
        """A PdfSigner whose signature states ``at`` as its time (pyHanko takes the
        clock itself), so the registry records exactly the time the signature states."""

        def __init__(self, at: datetime, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._at = at

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = self._at
            return session

    class KeptKey(signers.SimpleSigner):
        """pyHanko's SimpleSigner parses the private key again for every signature (some
        50 ms for an RSA key, most of signing's cost); this one parses it once.

        It also builds the signing-certificate-v2 attribute (the certificate's hash and
        issuer, the same in every signature) once and hands out a fresh parse of its DER:
        built anew, its copy of the issuer's name made asn1crypto encode the signed
        attributes and the SignerInfo again at every step (some 15 ms of CPU, most of what
        the CMS object cost). The CMS bytes are the same (tests/integration/
        test_signing_reader.py)."""

        def _signed_attr_providers(self, *args: Any, **kwargs: Any) -> Any:
            for provider in super()._signed_attr_providers(*args, **kwargs):
                if isinstance(provider, attributes.SigningCertificateV2Provider):
                    yield KeptAttribute(self, provider)
                else:
                    yield provider

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            key = getattr(self, "_kept", None)
            if key is None:
                key = self._kept = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            digest = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(data, padding.PKCS1v15(), digest)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(data, ec.ECDSA(digest))
            signature: bytes = super().sign_raw(data, digest_algorithm)
            return signature

    class KeptAttribute(attributes.CMSAttributeProvider):
        """``provider``'s attribute, built once per signer."""

        def __init__(self, signer: Any, provider: Any) -> None:
            self.signer, self.provider = signer, provider

        async def get_attribute(self, dry_run: bool = False) -> Any:
            kept = getattr(self.signer, "_signing_certificate_v2", None)
            if kept is None:
                built = await self.provider.get_attribute(dry_run=dry_run)
                kept = self.signer._signing_certificate_v2 = (type(built), built.dump())
            return kept[0].load(kept[1])  # asn1crypto's CMSAttribute

    return AtTime, KeptKey, MetadataKept


def from_settings(settings: Settings) -> PyHankoSigner | None:
    """The signer the settings describe, or ``None`` when no key is configured."""
    key, cert = settings.signing_key_file, settings.signing_cert_file
    if key is None and cert is None:
        return None
    if key is None or cert is None:
        raise SigningError(
            "signing needs both CORRESPONDENCE_SIGNING_KEY_FILE and "
            "CORRESPONDENCE_SIGNING_CERT_FILE"
        )
    passphrase = settings.signing_key_passphrase
    return PyHankoSigner(
        key_file=key,
        cert_file=cert,
        chain_file=settings.signing_chain_file,
        passphrase=passphrase.get_secret_value().encode() if passphrase else None,
        kinds=settings.signing_kinds,
        tsa_url=settings.tsa_url,
        tsa_timeout=settings.tsa_timeout_seconds,
        visible_box=settings.signing_visible_box,
    )


def trust_roots(settings: Settings) -> list[Any]:
    """The certificates a signature is verified against: the configured chain, else the
    signing certificate itself; none when signing is not configured. Parsed once per
    version of the file (``GET /v1/verify`` asks on every request; a file replaced on disk
    is read again)."""
    path = settings.signing_chain_file or settings.signing_cert_file
    if path is None:
        return []
    try:
        stat = path.stat()
    except OSError as error:
        raise SigningError(f"cannot read certificates from {path}: {error}") from None
    return list(_roots_of(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _roots_of(path: Path, _mtime_ns: int, _size: int) -> tuple[Any, ...]:
    """The certificates of ``path`` as it was at that modification time and size."""
    return tuple(_load_certs(path))


def check(pdf: bytes, roots: Sequence[Any] = ()) -> SignatureCheck:
    """Validate the last signature of ``pdf`` with pyHanko against ``roots``, offline.

    The file is read with pyHanko's own reader, not :mod:`signing_reader`'s: what checks
    our signatures (``GET /v1/verify``, ``correspondence verify``, a retry looking for an
    earlier attempt's signature) must not depend on our parsing of the file it checks."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = reader.embedded_regular_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        return SignatureCheck(signed=False, problem=f"not a readable PDF: {error}")
    if not embedded:
        return SignatureCheck(signed=False, problem="the PDF carries no signature")
    signature = embedded[-1]
    signer = signature.signer_cert.subject.human_friendly
    signed_at = signature.self_reported_timestamp
    context = ValidationContext(trust_roots=list(roots), allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context)
    except (SignatureValidationError, ValueError, KeyError) as error:
        return SignatureCheck(signed=True, signer=signer, signed_at=signed_at, problem=str(error))
    stamp = status.timestamp_validity
    found = SignatureCheck(
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=signer,
        signed_at=signed_at,
        timestamped_at=stamp.timestamp if stamp is not None else None,
        level="B-T" if stamp is not None else "B-B",
    )
    return found if found.ok else dataclasses.replace(found, problem=_why(found))


def _why(found: SignatureCheck) -> str:
    if not found.intact:
        return "the signed bytes were changed (digest mismatch)"
    if not found.valid:
        return "the signature does not match the signed bytes"
    if not found.trusted:
        return "the signer's certificate does not chain to a trusted root"
    return "the file was changed after it was signed"
