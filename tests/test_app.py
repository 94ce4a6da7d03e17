"""Health, readiness, problem+json for unknown routes, OpenAPI, migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import problem

import service.models  # noqa: F401
from service.cases.models import SEARCH_INDEXES
from service.db import Base, include_in_autogenerate


def test_health_and_docs(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/cases/{case_id}/reviews/{review_id}/decision" in spec["paths"]
    used = {tag for ops in spec["paths"].values() for op in ops.values() for tag in op.get("tags", [])}
    assert used == {t["name"] for t in spec["tags"]}  # every tag listed, in the documented order (service.app.API_TAGS)
    assert [t["name"] for t in spec["tags"]][:4] == ["auth", "departments", "organisations", "cases"]
    problem(client.get("/api/v1/nothing-here"), 404)
    problem(client.delete("/health"), 405)


def test_ready_reports_database(client) -> None:
    r = client.get("/ready")
    assert r.json()["checks"]["database"] == "ok"


def test_migrations_match_models(engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_in_autogenerate}), Base.metadata)
    assert diff == []
    if engine.dialect.name == "postgresql":  # the search indexes left out of the comparison are there all the same
        with engine.connect() as conn:
            names = set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'cases'").scalars())
        assert set(SEARCH_INDEXES) <= names


def test_security_headers(client) -> None:
    r = client.get("/health")
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"


def test_the_migrations_have_one_head() -> None:
    """Parallel branches are merged before they land: `upgrade head` must name one revision."""
    from alembic.script import ScriptDirectory

    from service.migrate import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads
