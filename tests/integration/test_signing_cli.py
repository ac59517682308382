"""The command line signs like the API (issue 25): ``render`` signs a signed kind with the
same settings, ``verify FILE.pdf`` reports the signature and whether we issued the bytes,
and ``reissue-check`` of a signed document compares the PDF before signing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from correspondence import signing
from correspondence.cli import main
from correspondence.config import Settings
from correspondence.kinds import KINDS
from tests.signing_pki import SIGNER_NAME, make_pki


def test_render_signs_and_verify_reports_signature_and_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(tmp_path / "pki")
    monkeypatch.setenv("CORRESPONDENCE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CORRESPONDENCE_RENDER_PROCESSES", "0")
    for name, value in pki.settings().items():
        monkeypatch.setenv(f"CORRESPONDENCE_{name.upper()}", str(value))
    roots = signing.trust_roots(Settings())

    # render: a signed kind comes out signed, another kind as rendered.
    for kind, signed in (("claim_decision", True), ("collection_update", False)):
        payload = tmp_path / f"{kind}.json"
        payload.write_text(json.dumps(KINDS[kind].sample()), "utf-8")
        out = tmp_path / f"{kind}.pdf"
        assert main(["render", str(payload), "-o", str(out)]) == 0
        assert signing.check(out.read_bytes(), roots).ok is signed
    capsys.readouterr()

    # A valid signature of ours, on bytes the registry has never seen: not ours.
    assert main(["verify", str(tmp_path / "claim_decision.pdf")]) == 1
    said = capsys.readouterr().out
    assert "signature VALID (PAdES B-B)" in said and SIGNER_NAME in said
    assert "ours      NO" in said

    # Issued through the registry: the archived bytes verify as ours.
    assert main(["seed"]) == 0
    seeded = capsys.readouterr().out
    claim_id = next(
        line.split(" as ")[1].split()[0] for line in seeded.splitlines() if "claim_decision" in line
    )
    (archived,) = (tmp_path / "var" / "archive").rglob(f"*claim_decision*/**/{claim_id}.pdf")
    assert main(["verify", str(archived)]) == 0
    said = capsys.readouterr().out
    assert "signature VALID" in said and f"ours      yes: document {claim_id}" in said

    tampered = bytearray(archived.read_bytes())
    at = tampered.index(b"stream", len(tampered) // 4) + 40
    tampered[at] ^= 0x01
    copy = tmp_path / "tampered.pdf"
    copy.write_bytes(bytes(tampered))
    assert main(["verify", str(copy)]) == 1
    said = capsys.readouterr().out
    assert "signature INVALID" in said and "digest mismatch" in said and "ours      NO" in said

    # The re-render is compared with the PDF before its signature.
    assert main(["reissue-check", claim_id]) == 0
    assert "identical" in capsys.readouterr().out


def test_trust_roots_are_parsed_once_per_version_of_their_file(tmp_path: Path) -> None:
    """``GET /v1/verify`` asks for the roots on every request: the file is parsed once,
    and read again when it is replaced (another CA) or gone (an error, not stale roots)."""
    first, second = make_pki(tmp_path / "one"), make_pki(tmp_path / "two")
    chain = tmp_path / "chain.pem"
    chain.write_bytes(first.ca_file.read_bytes())
    settings = Settings(signing_chain_file=chain)
    roots = signing.trust_roots(settings)
    assert [c.subject for c in roots] == [c.subject for c in signing.trust_roots(settings)]
    assert signing.trust_roots(settings)[0] is roots[0]  # the parse kept, not redone
    chain.write_bytes(second.ca_file.read_bytes() + b"\n")  # another CA, another size
    assert signing.trust_roots(settings)[0].dump() != roots[0].dump()
    chain.unlink()
    with pytest.raises(signing.SigningError, match="cannot read certificates"):
        signing.trust_roots(settings)
