"""A test PKI for the signature tests: a root CA, a signing certificate and a timestamp
authority's certificate (made with ``cryptography``, new for each test session), an RFC 3161
timestamp authority on 127.0.0.1 (an HTTP server around pyHanko's DummyTimeStamper), and
an NSS database in which poppler's ``pdfsig`` trusts the CA."""

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
