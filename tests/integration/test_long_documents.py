"""Long invoices are laid out in sections and joined with the pack machinery; warm worker
processes render them side by side. Both paths give the same bytes."""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from decimal import Decimal

import pytest

from correspondence.config import Settings
from correspondence.engine import PAYLOAD_ATTACHMENT, Engine, sections
from correspondence.formatting import Formatter
from correspondence.kinds import validate
from correspondence.pdf_fast import page_layouts
from correspondence.render_worker import ping as _ping
from correspondence.workers import ProcessRenderers, WorkerDied
from tests.conftest import flat, pdf_pages_text, pdf_reader
from tests.factories import sample_with_lines

ROWS = 20  # small sections, so that a test invoice of 70 lines has four of them


@pytest.fixture(scope="module")
def sectioned() -> Settings:
    return Settings(section_rows=ROWS, worker_max_tasks_per_child=50)


def test_only_long_invoices_are_sectioned(sectioned: Settings) -> None:
    assert len(sections(validate(sample_with_lines(2 * ROWS)), ROWS)) == 1
    parts = sections(validate(sample_with_lines(70)), ROWS)
    assert [(p.start, p.first, p.last) for p in parts] == [
        (0, True, False),
        (20, False, False),
        (40, False, False),
        (60, False, True),
    ]


def test_sections_read_as_one_invoice_numbered_across_all_pages(sectioned: Settings) -> None:
    validated = validate(sample_with_lines(70))
    rendered = Engine(sectioned).render(validated)
    pages = [flat(p) for p in pdf_pages_text(rendered.pdf)]
    assert rendered.pages == len(pages) >= 5
    for n, page in enumerate(pages, start=1):  # one number per page, in order, of the total
        assert re.findall(r"Página \d+ de \d+", page) == [f"Página {n} de {len(pages)}"]
    text = " ".join(pages)
    positions = [text.index(f"comprador {i:05d}") for i in range(1, 71)]
    assert positions == sorted(positions)  # every row, once, in order
    assert text.count("Fictia Seguros de Crédito, S.A. de C.V. — institución ficticia") == len(
        pages
    )
    assert text.count("Su contacto") == 1  # the header only on page 1
    total = Formatter("es-MX", "America/Mexico_City").money(validated.figures.total, "MXN")
    assert f"Total a pagar {flat(total)}" in " ".join(pages[-2:])  # after the last row
    assert text.rindex("Total a pagar") > positions[-1]
    assert validated.figures.total == sum(
        (line.total for line in validated.figures.lines), Decimal(0)
    )
    reader = pdf_reader(rendered.pdf)  # the first section's PDF/A catalogue is kept
    assert PAYLOAD_ATTACHMENT in reader.attachments
    assert "pdfaid" in reader.xmp_metadata.rdf_root.toxml()


def test_a_range_of_page_numbers_is_numbered_from_its_start_and_laid_out_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pages 65 to 70 of 202 of the overlay: one running footer serves every page (one per
    page made WeasyPrint lay out each page twice; it logs each layout of a page)."""
    validated = validate(sample_with_lines(3))
    with caplog.at_level(logging.INFO, logger="weasyprint.progress"):
        overlay = Engine(Settings()).page_numbers(validated, 202, first=65, last=70)
    layouts = page_layouts(caplog.records)
    assert layouts == [1, 2, 3, 4, 5, 6]
    assert [flat(p) for p in pdf_pages_text(overlay)] == [
        f"Página {n} de 202" for n in range(65, 71)
    ]


def test_worker_processes_give_the_same_bytes_as_one_process(sectioned: Settings) -> None:
    validated = validate(sample_with_lines(70))
    sequential = Engine(sectioned).render(validated).pdf
    pool = ProcessRenderers(sectioned, size=2)
    try:
        parallel = pool.render(validated).document.pdf
        assert parallel == sequential
        letter = validate(sample_with_lines(3))
        assert pool.render(letter).document.pdf == Engine(sectioned).render(letter).pdf
    finally:
        pool.close()


def test_a_killed_worker_is_replaced(sectioned: Settings) -> None:
    """An idle worker killed is replaced before the next render needs it; one killed in
    the middle of a render costs that render a 503 (WorkerDied), not the pool."""
    pool = ProcessRenderers(sectioned, size=1)
    validated = validate(sample_with_lines(3))
    try:
        pool.warm()
        worker = pool.submit(_ping).result()
        os.kill(worker, signal.SIGKILL)
        while pool.alive():  # until its death is known (the forkserver reaps it)
            time.sleep(0.01)
        assert pool.render(validated).document.pages >= 1
        assert pool.submit(_ping).result() != worker
        busy = pool.submit(time.sleep, 30)
        time.sleep(0.5)
        os.kill(pool.pids()[0], signal.SIGKILL)
        with pytest.raises(WorkerDied):
            busy.result(timeout=10)
        assert pool.render(validated).document.pages >= 1
        assert pool.alive() == 1 and pool.started == 3
    finally:
        pool.close()


def test_workers_are_replaced_after_their_quota() -> None:
    pool = ProcessRenderers(Settings(worker_max_tasks_per_child=2), size=1)
    try:
        pids = {pool.submit(_ping).result() for _ in range(6)}
        assert len(pids) == 3
    finally:
        pool.close()


def test_a_worker_settles_before_its_first_render_and_renders_the_same() -> None:
    """Each worker warms its engine and freezes what it holds (render_worker.settle); one
    told not to freezes nothing, and both render the same bytes."""
    letter = validate(sample_with_lines(3))
    frozen, counts, pdfs = ProcessRenderers(Settings(), size=1), {}, {}
    plain = ProcessRenderers(Settings(), size=1, freeze=False)
    try:
        for name, pool in (("frozen", frozen), ("plain", plain)):
            counts[name] = pool.frozen_objects()[0]
            pdfs[name] = pool.render(letter).document.pdf
    finally:
        frozen.close()
        plain.close()
    assert counts["plain"] == 0
    assert counts["frozen"] > 50_000
    assert pdfs["frozen"] == pdfs["plain"]
