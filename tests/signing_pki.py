"""A test PKI for the signature tests: a root CA, a signing certificate and a timestamp
authority's certificate (made with ``cryptography``, new for each test session), an RFC 3161
timestamp authority on 127.0.0.1 (an HTTP server around pyHanko's DummyTimeStamper), and
an NSS database in which poppler's ``pdfsig`` trusts the CA. And two checks of a signed,
tagged PDF: :func:`pdfa_problems` (what PDF/A-3 and PDF/UA-1 ask of the signing revision,
read with pikepdf) and :func:`pdfua_report` (the independent ``pdfua`` checker)."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

SIGNER_NAME = "Fictia Correspondence Signing"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fictia Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    extensions: list[tuple[Any, bool]],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass
class Pki:
    """Files of a test PKI: the CA, the signing key and certificate, the TSA's."""

    folder: Path
    ca_file: Path
    key_file: Path
    cert_file: Path
    tsa_cert: Any = field(repr=False)
    tsa_key: Any = field(repr=False)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """Settings fields that sign with this PKI (chain: the CA)."""
        return {
            "signing_key_file": self.key_file,
            "signing_cert_file": self.cert_file,
            "signing_chain_file": self.ca_file,
            **extra,
        }


def make_pki(folder: Path, signer_name: str = SIGNER_NAME) -> Pki:
    """A root CA with a signing certificate and a timestamping certificate under it."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate(
        "Fictia Test Root CA",
        ca_key,
        None,
        ca_key,
        [(x509.BasicConstraints(ca=True, path_length=None), True), (_usage(ca=True), True)],
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate(signer_name, key, ca, ca_key, [(_usage(sign=True), True)])
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _certificate(
        "Fictia Test Timestamp Authority",
        tsa_key,
        ca,
        ca_key,
        [
            (_usage(sign=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
        ],
    )
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "signer.key").write_bytes(_key_pem(key))
    (folder / "signer.pem").write_bytes(_pem(cert))
    tsa_der = tsa.public_bytes(serialization.Encoding.DER)
    tsa_key_der = tsa_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Pki(
        folder=folder,
        ca_file=folder / "ca.pem",
        key_file=folder / "signer.key",
        cert_file=folder / "signer.pem",
        tsa_cert=asn1_x509.Certificate.load(tsa_der),
        tsa_key=keys.PrivateKeyInfo.load(tsa_key_der),
    )


@dataclass
class TimestampAuthority:
    url: str
    requests: list[bytes]


@contextmanager
def timestamp_authority(pki: Pki) -> Iterator[TimestampAuthority]:
    """An RFC 3161 timestamp authority over HTTP on 127.0.0.1 (pyHanko's DummyTimeStamper
    answers the requests), for as long as the block runs."""
    stamper = DummyTimeStamper(tsa_cert=pki.tsa_cert, tsa_key=pki.tsa_key)
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(body)
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TimestampAuthority(f"http://127.0.0.1:{server.server_address[1]}/tsa", seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def nss_database(folder: Path, ca_file: Path) -> str:
    """An NSS database (for ``pdfsig -nssdir``) that trusts ``ca_file`` for signatures."""
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "-d", db, "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", db, "-n", "fictia-test-ca", "-t", "C,C,C", "-i", str(ca_file)],
        check=True,
    )
    return db


def pdfsig(pdf: Path, nss: str) -> str:
    """What poppler's ``pdfsig`` says of ``pdf``'s signatures. The test certificates name
    no OCSP responder, so nothing is fetched (and poppler 22.12's ``-no-ocsp`` reports a
    generic certificate error even for a good chain)."""
    done = subprocess.run(
        ["pdfsig", "-nssdir", nss, str(pdf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.stdout + done.stderr


# --- what PDF/A-3 and PDF/UA-1 ask of the signing revision ---------------------------------

_PRINT, _FORBIDDEN_FLAGS = 0b100, 0b1 | 0b10 | 0b100000 | 0b100000000  # invisible, hidden,
# no-view, toggle-no-view (PDF/A-3 6.3.2)
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")


def pdfa_problems(signed: bytes, unsigned: bytes) -> list[str]:
    """What in ``signed`` (``unsigned`` with a signature appended) breaks PDF/A-3a or
    PDF/UA-1, read with pikepdf: an empty list when nothing does.

    Checked: an incremental update (the unsigned bytes are the start); no encryption; PDF
    1.7 at most; the XMP metadata byte for byte as rendered, declaring PDF/A-3A and PDF/UA-1;
    the PDF/A output intent; no ``/NeedAppearances`` or XFA; every annotation printed and
    never hidden, with a normal appearance stream and nothing else; every widget the
    ``/OBJR`` of a ``/Form`` structure element in the tree (its ``/StructParent`` in the
    parent tree), with a ``/TU``, on a page whose tab order is the structure's; every font
    embedded, with a ``/ToUnicode`` map when composite; no ``/Perms`` but DocMDP or UR3,
    no digest in a signature reference; and each signature's byte range covering the whole
    file but its ``/Contents``, a hexadecimal string."""
    import io

    import pikepdf

    problems: list[str] = []
    if not signed.startswith(unsigned) or len(signed) <= len(unsigned):
        problems.append("not an incremental update of the render")
    pdf = pikepdf.open(io.BytesIO(signed))
    before = pikepdf.open(io.BytesIO(unsigned))
    root = pdf.Root
    if pdf.is_encrypted:
        problems.append("encrypted")
    versions = [pdf.pdf_version, str(root.get("/Version", "/1.7"))[1:]]
    versions += [str(e.get("/BaseVersion"))[1:] for e in root.get("/Extensions", {}).values()]
    if any(tuple(map(int, v.split("."))) > (1, 7) for v in versions):
        problems.append(f"PDF version above 1.7: {versions}")
    xmp = root.Metadata.read_bytes()
    if xmp != before.Root.Metadata.read_bytes():
        problems.append("XMP metadata changed")
    meta = pdf.open_metadata()
    identification = (
        meta.get("pdfaid:part"),
        meta.get("pdfaid:conformance"),
        meta.get("pdfuaid:part"),
    )
    if identification != ("3", "A", "1"):
        problems.append(f"XMP identifies {identification}, not PDF/A-3A and PDF/UA-1")
    intents = [i for i in root.get("/OutputIntents", []) if i.get("/S") == "/GTS_PDFA1"]
    if len(intents) != 1 or "/DestOutputProfile" not in intents[0]:
        problems.append("no PDF/A output intent with its ICC profile")
    form = root.get("/AcroForm", {})
    if form.get("/NeedAppearances", False) or "/XFA" in form:
        problems.append("AcroForm has NeedAppearances or XFA")
    problems += _annotation_problems(pdf)
    for obj in _dictionaries(pdf):
        if obj.get("/Type") == "/Font":
            problems += _font_problems(obj)
    perms = set(root.get("/Perms", {}).keys())
    if perms - {"/DocMDP", "/UR3"}:
        problems.append(f"/Perms has {perms}")
    problems += _byte_range_problems(pdf, signed)
    return problems


def _dictionaries(pdf: Any) -> Iterator[Any]:
    """Every dictionary in ``pdf``: its objects' and those written inside them (a font
    can be a direct object in a resource dictionary)."""
    import pikepdf

    def inside(obj: Any) -> Iterator[Any]:
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj
            values = list(obj.values())
        elif isinstance(obj, pikepdf.Array):
            values = list(obj)
        else:
            return
        for value in values:
            if isinstance(value, pikepdf.Object) and not value.is_indirect:
                yield from inside(value)

    for obj in pdf.objects:
        yield from inside(obj)


def _annotation_problems(pdf: Any) -> list[str]:
    problems: list[str] = []
    tree = pdf.Root.StructTreeRoot
    parents = tree.ParentTree.get("/Nums", [])
    by_key = {int(parents[i]): parents[i + 1] for i in range(0, len(parents), 2)}
    for number, page in enumerate(pdf.pages, 1):
        annots = page.obj.get("/Annots", [])
        if len(annots) and page.obj.get("/Tabs") != "/S":
            problems.append(f"page {number}: annotations but tab order not /S")
        for annot in annots:
            where = f"page {number}, {annot.get('/Subtype')} {annot.objgen}"
            flags = int(annot.get("/F", 0))
            if not flags & _PRINT or flags & _FORBIDDEN_FLAGS:
                problems.append(f"{where}: flags {flags}")
            ap = annot.get("/AP")
            if ap is None or set(ap.keys()) != {"/N"} or "/BBox" not in ap.N:
                problems.append(f"{where}: no appearance stream (or more than /N)")
            if annot.get("/Subtype") != "/Widget":
                continue
            if not str(annot.get("/TU", "")):
                problems.append(f"{where}: field without /TU")
            element = by_key.get(int(annot.get("/StructParent", -1)))
            if element is None or element.get("/S") != "/Form":
                problems.append(f"{where}: not in the structure tree as a /Form")
                continue
            objr = element.K
            if objr.get("/Type") != "/OBJR" or objr.Obj.objgen != annot.objgen:
                problems.append(f"{where}: its /Form element does not refer to it")
            node = element
            while node.get("/Type") == "/StructElem":
                node = node.P
            if node.objgen != tree.objgen:
                problems.append(f"{where}: its /Form element is not under the tree's root")
    return problems


def _font_problems(font: Any) -> list[str]:
    name = str(font.get("/BaseFont"))
    if font.get("/Subtype") == "/Type3":
        return []
    if font.get("/Subtype") == "/Type0":
        problems = [] if "/ToUnicode" in font else [f"font {name}: no /ToUnicode"]
        return problems + _font_problems(font.DescendantFonts[0])
    descriptor = font.get("/FontDescriptor")
    if descriptor is None or not any(key in descriptor for key in _FONT_FILES):
        return [f"font {name}: not embedded"]
    return []


def _byte_range_problems(pdf: Any, data: bytes) -> list[str]:
    problems: list[str] = []
    fields = pdf.Root.get("/AcroForm", {}).get("/Fields", [])
    signatures = [f.V for f in fields if f.get("/FT") == "/Sig" and "/V" in f]
    if not signatures:
        return ["no signature"]
    for signature in signatures:
        reference = signature.get("/Reference", [])
        digests = {"/DigestLocation", "/DigestMethod", "/DigestValue"}
        if any(digests & set(r.keys()) for r in reference):
            problems.append("a signature reference carries a digest")
        start, first, gap, second = (int(v) for v in signature.ByteRange)
        hole = data[first:gap]
        if start != 0 or not (hole.startswith(b"<") and hole.endswith(b">")):
            problems.append(f"byte range {[start, first, gap, second]} leaves no /Contents gap")
        elif bytes.fromhex(hole[1:-1].decode()).rstrip(b"\0") != bytes(signature.Contents).rstrip(
            b"\0"
        ):
            problems.append("the byte range's gap is not the signature's /Contents")
    # The last signature covers the whole file.
    last = [int(v) for v in signatures[-1].ByteRange]
    if last[2] + last[3] != len(data):
        problems.append(f"the last byte range {last} stops before the end ({len(data)})")
    return problems


PDFUA_BROKEN_RULE = "UA-14-001"
"""pdfua 0.1.3's empty-heading rule, which raises on every structure element whose ``/K``
is an array with pikepdf 10 (it asks ``getattr(kid, "is_integer", False)``, and pikepdf
answers a missing attribute of an array with ValueError, not AttributeError), so it never
runs here. ``check_structure`` in test_tagging checks instead that no heading is empty."""


def pdfua_report(path: Path) -> list[str]:
    """What the ``pdfua`` checker (an independent, pikepdf-based check of part of PDF/UA-1)
    finds in ``path``, and the rules it could not run but :data:`PDFUA_BROKEN_RULE` (whose
    failure must be that known one): an empty list when nothing."""
    import pdfua

    report = pdfua.validate(str(path))
    assert len(report.outcomes) == 12  # a version with other rules is to be read again
    found = [f"{f.rule_id}: {f.message}" for f in report.findings]
    for outcome in report.outcomes:
        if not outcome.skipped:
            continue
        known = "cannot get key '/is_integer' on object of type array"
        if outcome.rule_id != PDFUA_BROKEN_RULE or known not in str(outcome.skipped_reason):
            found.append(f"{outcome.rule_id} not run: {outcome.skipped_reason}")
    return found
