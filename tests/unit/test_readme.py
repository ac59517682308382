"""The README documents every setting and both set-up commands."""

from correspondence.config import PROJECT_ROOT, Settings


def test_every_setting_is_documented() -> None:
    """Each CORRESPONDENCE_* variable appears in the README or a page of docs/."""
    pages = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    text = "\n".join(page.read_text("utf-8") for page in pages)
    for name in Settings.model_fields:
        assert f"CORRESPONDENCE_{name.upper()}" in text, name


def test_set_up_commands_are_documented() -> None:
    """make run and make test are the two set-up commands."""
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    assert "make run" in readme and "make test" in readme
