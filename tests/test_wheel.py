"""The built wheel, installed in a fresh virtual environment outside the checkout, finds
its SQL, migrations and page: ``migrate`` and ``serve`` work from there."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import ServeProcess

ROOT = Path(__file__).resolve().parent.parent


def _uv() -> str:
    # `uv run` says where it is; a plain `pytest` finds it on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build the wheel (pip install uv)"
    return uv


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a fresh venv with only the wheel (and its dependencies)."""
    work = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(work / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    (wheel,) = (work / "dist").glob("*.whl")
    venv = work / "venv"
    subprocess.run(
        [uv, "venv", "--python", sys.executable, str(venv)],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    subprocess.run(
        [uv, "pip", "install", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        capture_output=True,
        env=env,
        timeout=600,
    )
    return venv / "bin"


def test_installed_wheel_migrates_and_serves_outside_the_checkout(installed, empty_db, tmp_path):
    cli = str(installed / "cashout-feed")
    env = {**os.environ, "DATABASE_URL": empty_db}
    env.pop("VIRTUAL_ENV", None)
    migrated = subprocess.run(
        [cli, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("applied "), migrated.stdout
    created = subprocess.run(
        [cli, "agent", "create", "wheelie", "--password-stdin"],
        cwd=tmp_path,
        env=env,
        input="a-long-password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    with ServeProcess(
        "--no-migrate", database_url=empty_db, command=(cli, "serve"), cwd=tmp_path
    ) as served:
        served.wait_ready()
        with httpx.Client(base_url=served.url, timeout=10) as c:
            assert "<html" in c.get("/").text.lower()
            assert c.get("/static/js/main.js").status_code == 200
            login = {"username": "wheelie", "password": "a-long-password"}
            token = c.post("/api/v1/auth/login", json=login).json()["token"]
            activity = c.get(
                "/api/v1/agent/cash-out/activity", headers={"Authorization": f"Bearer {token}"}
            )
            assert activity.status_code == 200, activity.text
        served.stop()


def test_migrate_fails_loudly_without_migrations(tmp_path, empty_db):
    from app.db import migrate

    with pytest.raises(migrate.MigrationsNotFound, match="no migrations found"):
        migrate.apply_all(empty_db, tmp_path)
