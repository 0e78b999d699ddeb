"""Configuration from the environment: defaults, and production refusing to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.core.keys import server_keys_ensure, server_keys_missing
from clinic.settings import environment

REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_manage(args: list[str], env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "TELEREHAB_KEY_DIR",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            # Browser tests set this in-process; a production server never has it.
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_defaults_need_no_server(tmp_path):
    broker, results = environment.celery_urls(redis_url="", var_dir=tmp_path)
    assert broker == f"sqla+sqlite:///{tmp_path}/celery-broker.sqlite"
    assert results == f"db+sqlite:///{tmp_path}/celery-results.sqlite"
    config = environment.database_config(url="", default_sqlite_path=tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_redis_and_postgres_urls_are_used_when_given(tmp_path):
    assert environment.celery_urls(redis_url="redis://h:6379/2", var_dir=tmp_path) == (
        "redis://h:6379/2",
        "redis://h:6379/2",
    )
    config = environment.database_config(
        url="postgres://clinic@db.example:5433/telerehab", default_sqlite_path=tmp_path / "x"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "telerehab")


def test_key_files_are_created_once_private_and_never_overwritten(tmp_path):
    key_dir = tmp_path / "keys"
    assert server_keys_missing(key_dir=key_dir)
    created = server_keys_ensure(key_dir=key_dir)
    assert {p.name for p in created} == {"server-x25519.pem", "storage-v1.key"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in created)
    before = {p: p.read_bytes() for p in created}
    assert server_keys_ensure(key_dir=key_dir) == []
    assert {p: p.read_bytes() for p in created} == before
    assert server_keys_missing(key_dir=key_dir) == []


@pytest.mark.slow
def test_production_refuses_to_start_without_its_configuration():
    result = _run_manage(["check", "--settings=clinic.settings.production"], {})
    assert result.returncode != 0
    for expected in [
        "SECRET_KEY is not set",
        "ALLOWED_HOSTS is not set",
        "DATABASE_URL is not set",
        "TELEREHAB_KEY_DIR is not set",
    ]:
        assert expected in result.stderr


@pytest.mark.slow
def test_production_names_missing_key_files(tmp_path):
    result = _run_manage(
        ["check", "--settings=clinic.settings.production"],
        {
            "SECRET_KEY": "k" * 30 + "abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "clinic.example",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "TELEREHAB_KEY_DIR": str(tmp_path / "empty"),
        },
    )
    assert result.returncode != 0
    assert "directory does not exist" in result.stderr


@pytest.mark.slow
def test_production_passes_check_deploy_without_warnings(tmp_path):
    server_keys_ensure(key_dir=tmp_path / "keys")
    result = _run_manage(
        ["check", "--deploy", "--fail-level", "WARNING", "--settings=clinic.settings.production"],
        {
            "SECRET_KEY": "prod-" + "x9Yq2LmZ7pRt" * 5,
            "ALLOWED_HOSTS": "clinic.example",
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "TELEREHAB_KEY_DIR": str(tmp_path / "keys"),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
