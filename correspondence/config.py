"""Settings: one typed object, read from ``CORRESPONDENCE_*`` variables, validated at
start-up and passed in. Nothing reads the environment after that; tests build their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the service can be configured with; every field has an embedded default."""

    model_config = SettingsConfigDict(env_prefix="CORRESPONDENCE_", frozen=True)

    templates_dir: Path = Field(default=PROJECT_ROOT / "templates")
    strict_rendering: bool = Field(
        default=True, description="Refuse a render when WeasyPrint warns (a template defect)."
    )
