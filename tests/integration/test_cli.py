"""The command line: render a payload, in another locale or as HTML; refuse bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from correspondence.cli import EXIT_INVALID, main
from correspondence.kinds import KINDS
from tests.conftest import SAMPLES, in_language, pdf_reader, pdf_text

SAMPLE = SAMPLES / "02_premium_invoice_es-MX.json"


def test_render_writes_a_pdf_in_a_real_process(tmp_path: Path) -> None:
    """`correspondence render PAYLOAD -o OUT.pdf` exits 0 and writes the PDF."""
    out = tmp_path / "invoice.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "correspondence.cli", "render", str(SAMPLE), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    assert len(pdf_reader(out.read_bytes()).pages) >= 1


def test_locale_option_renders_in_another_locale(tmp_path: Path) -> None:
    """--locale en-US renders the Mexican sample in American English once the payload
    gives its free text in English too."""
    source = tmp_path / "bilingual.json"
    source.write_text(json.dumps(in_language(json.loads(SAMPLE.read_text("utf-8")), "en")))
    out = tmp_path / "invoice.pdf"
    assert main(["render", str(source), "-o", str(out), "--locale", "en-US"]) == 0
    assert "Please pay MXN 76,067.00 before noon (Mexico City time) on January 31, 2027," in (
        pdf_text(out.read_bytes())
    )


def test_locale_of_another_language_without_its_text_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An es-ES payload rendered with --locale en-GB is refused with exit status 2, naming
    each free-text field that has no English text; nothing is written."""
    out = tmp_path / "refused.pdf"
    source = SAMPLES / "06_claim_decision_partial_es-ES.json"
    assert main(["render", str(source), "-o", str(out), "--locale", "en-GB"]) == 2
    err = capsys.readouterr().err
    for field in (
        "invoices.4.ineligible_reason.text",
        "post_payment.subrogation_note",
        "appeal.decided_by",
        "insurer.complaints.sac.name",
    ):
        assert f"{field}: free text in 'es' only" in err
    assert not out.exists()


def test_html_option_writes_html(tmp_path: Path) -> None:
    """--html writes the HTML the PDF is made from."""
    out = tmp_path / "invoice.html"
    assert main(["render", str(SAMPLE), "-o", str(out), "--html"]) == 0
    html = out.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="es-MX">' in html


def _bad(tmp_path: Path, change: Any) -> Path:
    payload = json.loads(SAMPLE.read_text("utf-8"))
    change(payload)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload), "utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.pop("account_executive"), "account_executive: Field required"),
        (
            lambda p: p["lines"][0].update(quantity="-2"),
            "lines.0.quantity: must be greater than zero",
        ),
        (lambda p: p["policy"].update(currency="ZZZ"), "policy.currency: unknown currency 'ZZZ'"),
        (
            lambda p: p["totals"]["total"].update(amount="76067.01"),
            "totals.total.amount: stated 76067.01 but the service computes 76067.00",
        ),
        (
            lambda p: p["invoice"].update(issue_date="2026-02-30"),
            "invoice.issue_date: Input should be a valid date",
        ),
        (
            lambda p: p["lines"][0]["unit_price"].update(amount=62500.0),
            "lines.0.unit_price.amount: must be a decimal string",
        ),
    ],
)
def test_invalid_payload_exits_2_with_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, expected: str
) -> None:
    """Each problem is printed as `field.path: message`; no traceback, no file written."""
    out = tmp_path / "never.pdf"
    assert main(["render", str(_bad(tmp_path, change)), "-o", str(out)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert any(line.startswith(expected) for line in err.splitlines()), err
    assert "Traceback" not in err
    assert not out.exists()


def test_not_json_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not JSON is refused with its position, not a traceback."""
    path = tmp_path / "broken.json"
    path.write_text('{"document": ', "utf-8")
    assert main(["render", str(path), "-o", str(tmp_path / "x.pdf")]) == EXIT_INVALID
    assert "is not JSON" in capsys.readouterr().err


def test_samples_command_renders_every_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`correspondence samples` renders each kind's sample and prints the paths."""
    assert main(["samples", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    written = sorted(tmp_path.glob("*.pdf"))
    assert [p.name for p in written] == [
        f"{name}.{KINDS[name].sample()['document']['locale']}.pdf" for name in sorted(KINDS)
    ]
    for path in written:
        assert str(path) in printed
        assert pdf_reader(path.read_bytes()).pages


def test_seed_and_reissue_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`seed` fills the embedded registry once; `reissue-check` reproduces the bytes."""
    monkeypatch.setenv("CORRESPONDENCE_DATA_DIR", str(tmp_path / "var"))
    assert main(["seed"]) == 0
    first = capsys.readouterr().out
    document_id = first.split(" as ")[1].split()[0]
    assert main(["seed"]) == 0
    assert "already issued" in capsys.readouterr().out
    assert main(["reissue-check", document_id]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["reissue-check", "no-such-id"]) == 1
    assert (tmp_path / "var" / "correspondence.db").is_file()


def test_batch_renders_a_file_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`batch FILE --out DIR`: a progress bar, a summary, refusals listed, reruns skip."""
    good = [
        load_json(name)
        for name in ("02_premium_invoice_es-MX.json", "05_credit_limit_decision_partial_es-MX.json")
    ]
    source = tmp_path / "in.ndjson"
    source.write_text("\n".join([json.dumps(p) for p in good] + ["{broken"]) + "\n", "utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(source), "--out", str(out)]) == EXIT_INVALID
    summary = capsys.readouterr().out
    assert "2 rendered, 0 already there, 1 refused" in summary
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert pdfs == [
        "credit_limit_decision-DEC-LIM-2026-118734.pdf",
        "premium_invoice-PRI-2026-001874.pdf",
    ]
    errors = [json.loads(line) for line in (out / "errors.ndjson").read_text().splitlines()]
    assert errors[0]["line"] == 3 and "not JSON" in errors[0]["errors"][0]["message"]
    assert main(["batch", str(source), "--out", str(out)]) == EXIT_INVALID
    assert "0 rendered, 2 already there, 1 refused" in capsys.readouterr().out


def load_json(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text("utf-8"))


@pytest.mark.parametrize("argv", [["render", str(SAMPLE), "-o", "out.pdf"], ["keys", "list"]])
def test_a_bad_setting_is_named_without_a_traceback(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A variable Settings refuses is named, one line each, exit 1: whether the command
    builds an engine before it runs (render) or reads the settings itself (keys)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CORRESPONDENCE_RENDER_PROCESSES", "two")
    monkeypatch.setenv("CORRESPONDENCE_ARCHIVE", "ftp")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert {line.split(":")[1].strip() for line in lines} == {"configuration"}
    assert any(
        line.startswith("error: configuration: CORRESPONDENCE_RENDER_PROCESSES: ") for line in lines
    )
    assert any("CORRESPONDENCE_ARCHIVE: " in line and "'s3'" in line for line in lines)
    assert not (tmp_path / "out.pdf").exists() and not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "missing.json", "-o", "out.pdf"],
        ["batch", "missing.json", "--out", "out"],
        ["verify", "missing.json"],
    ],
)
def test_a_missing_input_file_exits_2_naming_it(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_INVALID
    assert capsys.readouterr().err.strip() == "cannot read missing.json: No such file or directory"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "WEBHOOK_ALLOWED_HOSTS",
            "hooks.example",
            "CORRESPONDENCE_WEBHOOK_ALLOWED_HOSTS: not valid JSON",
        ),
        (
            "SIGNING_VISIBLE_BOX",
            '[1, 2, "wide", 4]',
            "CORRESPONDENCE_SIGNING_VISIBLE_BOX: item 2: ",
        ),
    ],
)
def test_a_list_setting_is_named_as_its_variable(
    variable: str,
    value: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A list variable that is not JSON, or one of whose items is wrong: the line names
    the variable that was set (and the item), never the value."""
    monkeypatch.setenv(f"CORRESPONDENCE_{variable}", value)
    assert main(["keys", "list"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: configuration: {expected}"), line
    assert value not in line and "wide" not in line
