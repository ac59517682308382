"""``correspondence verify FILE.pdf`` and the signing of ``render``: both use the API's own
signing settings (docs/signing.md). Imported by the CLI only when one of them runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from correspondence import signing
from correspondence.config import Settings
from correspondence.errors import InvalidPayload
from correspondence.scopes import SCOPES


def signed(settings: Settings, kind: str, pdf: bytes) -> bytes:
    """``pdf`` signed as the API would sign it (the same settings), else as it is."""
    signer = signing.from_settings(settings)
    return signer.sign(pdf).pdf if signer is not None and signer.signs(kind) else pdf


def verify(file: Path) -> int:
    """Validate a PDF's signature against the configured roots and look its sha256 up in
    the registry; exit 0 only if its signature (if any) is valid and we issued it."""
    from correspondence.bootstrap import build_service  # the registry: only to verify
    from correspondence.service import Client

    try:
        data = file.read_bytes()
    except OSError as error:
        raise InvalidPayload.unreadable(file, error) from None
    settings = Settings()
    check = signing.check(data, signing.trust_roots(settings))
    sha = hashlib.sha256(data).hexdigest()
    internal = Client(id=0, name="verify", scopes=frozenset(SCOPES))
    ours = build_service(settings).verify(sha, client=internal)
    print(f"{file}")
    print(f"  sha256    {sha}")
    if check.signed:
        print(f"  signature {'VALID' if check.ok else 'INVALID'} (PAdES {check.level})")
        print(f"  signer    {check.signer}")
        print(f"  signed at {check.signed_at.isoformat() if check.signed_at else '-'}")
        if check.timestamped_at is not None:
            print(f"  timestamp {check.timestamped_at.isoformat()} (timestamp authority)")
        if check.problem:
            print(f"  problem   {check.problem}")
    else:
        print("  signature none")
    if ours is not None:
        reference = ours.number or ours.business_reference
        print(f"  ours      yes: document {ours.id} ({ours.kind}, {reference})")
    else:
        print("  ours      NO: we issued no PDF with these bytes")
    return 0 if ours is not None and (check.ok or not check.signed) else 1
