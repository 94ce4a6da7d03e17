"""Run Alembic migrations programmatically (the only way the schema is created)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic config pointing at service/migrations."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "service" / "migrations"))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str | None = None) -> None:
    """Migrate the database to the newest revision."""
    command.upgrade(alembic_config(database_url), "heads")  # "heads": also while two branches await their merge revision


if __name__ == "__main__":
    upgrade()
