"""docker-compose.yml validates with the secrets set, refuses to start without any one of them, and wires what it must.

Uses the `docker-compose` client only (Debian package docker-compose); no Docker engine is needed for `config`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose not installed (apt-get install docker-compose)")

SECRETS = {
    "IOP_SECRET_KEY": "k" * 64,
    "POSTGRES_PASSWORD": "pg-superuser-secret",
    "IOP_DB_PASSWORD": "iop-db-secret",
    "PREFECT_DB_PASSWORD": "prefect-db-secret",
    "MINIO_ROOT_USER": "iop-admin",
    "MINIO_ROOT_PASSWORD": "minio-root-secret",
    "IOP_S3_ACCESS_KEY": "iop-app",
    "IOP_S3_SECRET_KEY": "s3-app-secret",
}
LONG_RUNNING = {"postgres", "minio", "prefect", "api", "flows"}


def compose_config(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` with exactly these variables: no inherited ones, no .env file beside the compose file."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    return subprocess.run(
        [COMPOSE, "--env-file", str(empty), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), "config", *args],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}, capture_output=True, text=True, timeout=60, check=False,
    )


def test_config_is_valid_with_the_secrets_set(tmp_path) -> None:
    quiet = compose_config(SECRETS, tmp_path, "-q")
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stderr
    r = compose_config(SECRETS, tmp_path)
    assert r.returncode == 0, r.stderr
    services = yaml.safe_load(r.stdout)["services"]
    assert LONG_RUNNING | {"minio-setup"} == set(services)
    for name in LONG_RUNNING:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("api", "flows"):
        env = services[name]["environment"]
        assert env["IOP_SECRET_KEY"] == SECRETS["IOP_SECRET_KEY"]
        assert env["IOP_ENV"] == "production"  # the app itself then refuses a default or short secret
        assert env["IOP_DATABASE_URL"] == "postgresql://iop:iop-db-secret@postgres:5432/iop"
        assert env["IOP_STORAGE_URL"].startswith("s3://") and "object_lock=true" in env["IOP_STORAGE_URL"]
        assert env["IOP_S3_ACCESS_KEY"] == "iop-app"  # the bucket-scoped user, never the MinIO root account
    for name in ("prefect", "flows"):
        env = services[name]["environment"]
        assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and env["DO_NOT_TRACK"] == "1"
    assert services["prefect"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://prefect:")
    assert services["flows"]["command"] == ["python", "-m", "flows.serve"]
    assert services["api"]["depends_on"]["minio-setup"]["condition"] == "service_completed_successfully"
    assert services["flows"]["depends_on"]["api"]["condition"] == "service_healthy"
    # Nothing listens beyond the host unless a reverse proxy is put in front.
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_each_secret_is_required(missing, tmp_path) -> None:
    r = compose_config({k: v for k, v in SECRETS.items() if k != missing}, tmp_path)
    assert r.returncode != 0 and missing in r.stderr, (r.returncode, r.stderr)


def test_commands_and_scripts_exist_and_parse() -> None:
    for module in ("service.migrate", "service.main", "service.serve", "flows.serve"):
        assert importlib.util.find_spec(module) is not None, module
    for script in ("docker/postgres/10-databases.sh", "docker/minio/setup.sh"):
        subprocess.run(["sh", "-n", str(ROOT / script)], check=True)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "python -m service.migrate && exec python -m service.serve --host 0.0.0.0" in dockerfile
