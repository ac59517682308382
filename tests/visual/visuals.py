"""Visual regression (issue 19, point 10): each sample in each locale it renders in,
rasterised with poppler's ``pdftoppm`` at a modest resolution, against reference PNGs
committed under ``tests/visual/references/``.

``make approve-visuals`` (``python -m tests.visual.visuals``) rewrites the references from
today's rendering, after a person has looked at what changed (the failing test leaves the
rendering and a diff image under ``test-artifacts/visual/``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

from correspondence.config import PROJECT_ROOT, Settings
from correspondence.engine import Engine, locales_of
from correspondence.kinds import SAMPLES_DIR, validate

REFERENCES = Path(__file__).parent / "references"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "visual"
DPI = 50
LEVEL = 48
"""A pixel differs when one of its grey levels moves by more than this (of 255)."""
PIXELS = 0.0005
"""A page differs when more than this share of its pixels differ (anti-aliasing noise
stays far below; one changed word does not)."""


@dataclass(frozen=True)
class Case:
    sample: str
    locale: str

    @property
    def stem(self) -> str:
        return f"{Path(self.sample).stem}.{self.locale}"


def cases() -> Iterator[Case]:
    """Every sample in every locale it renders in."""
    import json

    for path in sorted(SAMPLES_DIR.glob("*.json")):
        validated = validate(json.loads(path.read_text("utf-8")))
        for locale in locales_of(validated):
            yield Case(path.name, locale)


def rasterise(engine: Engine, case: Case) -> list[Image.Image]:
    """The pages of ``case`` as greyscale images at :data:`DPI`."""
    import json

    payload = json.loads((SAMPLES_DIR / case.sample).read_text("utf-8"))
    pdf = engine.render(engine.validate(payload), locale=case.locale).pdf
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "document.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(DPI), "-gray", "-png", str(source), str(Path(tmp) / "page")],
            check=True,
            capture_output=True,
        )
        pages = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [Image.open(page).convert("L") for page in pages]


def reference_paths(case: Case) -> list[Path]:
    found = REFERENCES.glob(f"{case.stem}.p*.png")
    return sorted(found, key=lambda p: int(p.stem.rsplit(".p", 1)[1]))


def differs(expected: Image.Image, actual: Image.Image) -> Image.Image | None:
    """A diff image (changed pixels in black on white) if the pages differ, else None."""
    if expected.size != actual.size:
        return ImageChops.invert(actual)
    diff = ImageChops.difference(expected, actual)
    changed = diff.point(lambda v: 255 if v > LEVEL else 0)
    share = sum(changed.histogram()[255:]) / (changed.width * changed.height)
    return ImageChops.invert(changed) if share > PIXELS else None


def compare(engine: Engine, case: Case) -> list[str]:
    """What differs between today's rendering of ``case`` and its references (empty when
    nothing does); each difference leaves the page and a diff image under :data:`ARTIFACTS`."""
    pages = rasterise(engine, case)
    references = reference_paths(case)
    problems = []
    if len(pages) != len(references):
        problems.append(f"{case.stem}: {len(pages)} pages, the references have {len(references)}")
    for number, page in enumerate(pages, 1):
        path = REFERENCES / f"{case.stem}.p{number}.png"
        diff = differs(Image.open(path).convert("L"), page) if path.exists() else page
        if diff is None:
            continue
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.save(ARTIFACTS / f"{case.stem}.p{number}.actual.png")
        diff.save(ARTIFACTS / f"{case.stem}.p{number}.diff.png")
        problems.append(f"{case.stem} page {number} differs (see {ARTIFACTS})")
    return problems


def approve(engine: Engine) -> int:
    """Rewrite every reference from today's rendering; returns the references' total size."""
    REFERENCES.mkdir(parents=True, exist_ok=True)
    for old in REFERENCES.glob("*.png"):
        old.unlink()
    for case in cases():
        for number, page in enumerate(rasterise(engine, case), 1):
            page.save(REFERENCES / f"{case.stem}.p{number}.png", optimize=True)
    return sum(p.stat().st_size for p in REFERENCES.glob("*.png"))


if __name__ == "__main__":
    size = approve(Engine(Settings()))
    count = len(list(REFERENCES.glob("*.png")))
    print(f"{count} reference pages written to {REFERENCES} ({size / 1024:.0f} KiB)")
    sys.exit(0)
