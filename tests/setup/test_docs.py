"""The README and docs/ as a newcomer reads them: short, complete, and every link and
command in them real."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from correspondence.cli import parser
from correspondence.config import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
DOCS = sorted(
    [README, *PROJECT_ROOT.glob("docs/**/*.md"), *PROJECT_ROOT.glob("bench/**/*.md")],
)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def code_blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of ``text`` tagged with ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def commands(block: str) -> list[list[str]]:
    """The shell commands of a block: continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    # `VAR=$(command …)`: the command inside the substitution
    lines = [re.sub(r"^\w+=\$\((.*)\)$", r"\1", line) for line in lines]
    return [shlex.split(line, comments=True) for line in lines]


def test_the_readme_is_read_in_five_minutes() -> None:
    text = README.read_text("utf-8")
    assert len(text.splitlines()) <= 250
    for heading in ("## Two commands", "## Quick start", "## Command line", "## Where the rest"):
        assert heading in text, heading
    assert "make run" in text and "make test" in text


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    """A link to a file or folder of the repository points at one that exists."""
    targets = [t for t in LINK.findall(document.read_text("utf-8")) if "://" not in t]
    for target in targets:
        path = target.split("#", 1)[0]
        if path:
            assert (document.parent / path).exists(), f"{document.name}: {target}"


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_document_cites_what_a_clone_lacks(document: Path) -> None:
    """Every ``../`` path a page names stays inside the repository, and no page cites the
    domain brief, which a clone does not have."""
    text = document.read_text("utf-8")
    for named in re.findall(r"(?:\.\./)+[\w.-][\w./-]*", text):
        assert (document.parent / named).resolve().is_relative_to(PROJECT_ROOT), named
    assert not re.search(r"brief §|credit-insurance-brief", text)


def test_the_docs_are_linked_from_the_readme() -> None:
    """Every page under docs/ is reachable from the README, directly or through an index."""
    reachable: set[Path] = set()
    todo = [README]
    while todo:
        page = todo.pop()
        if page in reachable or page.suffix != ".md":
            continue
        reachable.add(page)
        for target in LINK.findall(page.read_text("utf-8")):
            path = (page.parent / target.split("#", 1)[0]).resolve()
            if "://" not in target and path.is_file():
                todo.append(path)
    missing = {p for p in PROJECT_ROOT.glob("docs/**/*.md")} - reachable
    assert not missing, sorted(str(p.relative_to(PROJECT_ROOT)) for p in missing)


def test_every_setting_is_documented() -> None:
    """Each CORRESPONDENCE_* variable appears in docs/operations.md."""
    operations = (PROJECT_ROOT / "docs" / "operations.md").read_text("utf-8")
    for name in Settings.model_fields:
        assert f"`CORRESPONDENCE_{name.upper()}`" in operations, name


def test_every_command_line_in_the_readme_parses() -> None:
    """Each `.venv/bin/correspondence …` line of the README is accepted by the real parser
    (placeholders in capitals stand for values), and each `make X` names a target."""
    text = README.read_text("utf-8")
    makefile = (PROJECT_ROOT / "Makefile").read_text("utf-8")
    seen = 0
    for block in code_blocks(text, "sh"):
        for argv in commands(block):
            if argv[:1] == ["make"]:
                assert re.search(rf"^{argv[1]}:", makefile, flags=re.M), argv
                seen += 1
            for start, word in enumerate(argv):
                if word.endswith(".venv/bin/correspondence"):
                    parser().parse_args(argv[start + 1 :])
                    seen += 1
    assert seen >= 10


SIBLING = re.compile(r"""PROJECT_ROOT\.parent\s*/|PROJECT_ROOT\s*/\s*["']\.\.""")


def test_no_source_reads_beside_the_checkout() -> None:
    """Code, tests, benchmarks, scripts and the Makefile never name a path beside the
    checkout: the project builds, runs and tests from a plain clone (the audit hook in
    tests/conftest.py catches an open at run time; this catches one on a path the suite
    does not run)."""
    names = ("correspondence", "api", "tests", "bench", "scripts")
    files = [p for n in names for p in (PROJECT_ROOT / n).rglob("*") if p.suffix in {".py", ".sh"}]
    files += [PROJECT_ROOT / "Makefile", PROJECT_ROOT / "pyproject.toml"]
    on_purpose = {Path(__file__).resolve(), Path(__file__).with_name("test_self_contained.py")}
    offenders = [
        p for p in files if p.resolve() not in on_purpose and SIBLING.search(p.read_text("utf-8"))
    ]
    assert len(files) > 50
    assert not offenders, offenders
