"""Alembic environment: the URL comes from IOP_DATABASE_URL or the caller's config."""

from __future__ import annotations

from alembic import context

import service.models  # noqa: F401  (registers every table on Base.metadata)
from service.config import get_settings
from service.db import Base, include_in_autogenerate, make_engine

config = context.config
url = config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True,
                      include_object=include_in_autogenerate)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (one given by the caller, or a new engine)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          include_object=include_in_autogenerate)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True,
                          include_object=include_in_autogenerate)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
