"""Parity by test, not by copy: each Spanish template and its English twin have the same
Jinja syntax tree once their text is removed (same blocks, macros, variables, conditions
and loops; the sentences in {% trans %} and _() differ, the values they receive do not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, nodes

from correspondence.config import Settings
from correspondence.templating import build_environment

TEMPLATES = Settings().templates_dir
I18N = {"gettext", "ngettext", "pgettext", "npgettext", "_"}


def _twins() -> list[str]:
    es = {p.relative_to(TEMPLATES / "es").as_posix() for p in (TEMPLATES / "es").rglob("*.*")}
    en = {p.relative_to(TEMPLATES / "en").as_posix() for p in (TEMPLATES / "en").rglob("*.*")}
    assert es == en, f"only in es: {sorted(es - en)}; only in en: {sorted(en - es)}"
    return sorted(es)


def shape(node: Any) -> Any:
    """``node`` without its text: template data dropped, messages reduced to their kind
    and the names and values of their variables, and each language's own template
    names (es/…, en/…) made one."""
    if isinstance(node, list):
        return [s for s in (shape(n) for n in node) if s is not None]
    if not isinstance(node, nodes.Node):
        return node
    if isinstance(node, nodes.TemplateData):
        return None
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name in I18N
    ):
        plural = node.node.name in {"ngettext", "npgettext"}
        count = shape(node.args[-1]) if plural else None
        variables = sorted((k.key, repr(shape(k.value))) for k in node.kwargs)
        return ("message", plural, count, variables)
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return ("const", node.value.replace("es/", "LANG/").replace("en/", "LANG/"))
    if isinstance(node, nodes.Output):
        parts = shape(node.nodes)
        return ("output", parts) if parts else None
    fields = tuple((name, shape(value)) for name, value in node.iter_fields())
    return (type(node).__name__, fields)


@pytest.fixture(scope="module")
def env() -> Environment:
    return build_environment(TEMPLATES)


@pytest.mark.parametrize("name", _twins())
def test_spanish_and_english_twins_have_the_same_logic(env: Environment, name: str) -> None:
    """Same tree once the words are gone; a difference names the first diverging node."""
    source = {lang: (TEMPLATES / lang / name).read_text("utf-8") for lang in ("es", "en")}
    es, en = (shape(env.parse(source[lang])) for lang in ("es", "en"))
    if es != en:
        es_lines, en_lines = repr(es), repr(en)
        at = next(i for i, (a, b) in enumerate(zip(es_lines, en_lines, strict=False)) if a != b)
        pytest.fail(
            f"{name}: es and en differ in logic at\n es: …{es_lines[max(0, at - 200) : at + 200]}"
            f"\n en: …{en_lines[max(0, at - 200) : at + 200]}"
        )


def test_a_changed_condition_is_caught(env: Environment) -> None:
    """The comparison is not blind: one changed condition makes two trees differ."""
    base = '{% if doc.x == "a" %}{% trans n=doc.n %}Hola {{ n }}{% endtrans %}{% endif %}'
    other = base.replace('"a"', '"b"').replace("Hola", "Hello")
    same = base.replace("Hola", "Hello")
    assert shape(env.parse(base)) == shape(env.parse(same))
    assert shape(env.parse(base)) != shape(env.parse(other))


def test_every_template_is_checked() -> None:
    """Both languages have the same files and there is something to compare."""
    assert len(_twins()) >= 11
    assert Path(TEMPLATES / "es" / "_letter.html").exists()
