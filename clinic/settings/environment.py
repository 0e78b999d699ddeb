"""Every environment variable telerehab reads, in one place.

| variable | meaning | default |
|---|---|---|
| ``DATABASE_URL`` | database (``postgres://…`` or ``sqlite:///…``) | SQLite in ``var/`` |
| ``REDIS_URL`` | Celery broker, result backend and cache | embedded SQLite broker in ``var/`` |
| ``SECRET_KEY`` | Django secret key | development: generated into ``var/keys`` |
| ``TELEREHAB_KEY_DIR`` | directory holding the server key files | ``var/keys`` |
| ``ALLOWED_HOSTS`` | comma-separated host names | ``localhost,127.0.0.1`` outside production |
| ``CSRF_TRUSTED_ORIGINS`` | comma-separated origins (``https://…``) | none |
| ``TELEREHAB_VAR_DIR`` | git-ignored runtime folder | ``<repo>/var`` |
| ``TELEREHAB_INGEST_UPLOADS_PER_MINUTE`` | new recordings one device may upload per minute | ``60`` |
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TELEREHAB_VAR_DIR", BASE_DIR / "var")).resolve()

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
KEY_DIR = Path(os.environ.get("TELEREHAB_KEY_DIR", VAR_DIR / "keys")).resolve()
KEY_DIR_FROM_ENV = bool(os.environ.get("TELEREHAB_KEY_DIR", "").strip())
INGEST_UPLOADS_PER_MINUTE = int(os.environ.get("TELEREHAB_INGEST_UPLOADS_PER_MINUTE", "60"))


def csv_env(name: str, default: str = "") -> list[str]:
    """Comma-separated environment variable as a list without blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_config(*, url: str, default_sqlite_path: Path) -> dict:
    """Django DATABASES['default'] from a URL, tuned per vendor.

    SQLite gets IMMEDIATE transactions and a busy timeout: web, worker and
    scheduler write to the same file, and a deferred transaction that upgrades
    to a write lock can fail instead of waiting.
    """
    if not url:
        default_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{default_sqlite_path}"
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


def celery_urls(*, redis_url: str, var_dir: Path, prefix: str = "celery") -> tuple[str, str]:
    """(broker URL, result backend URL): Redis when given, else SQLite files.

    The SQLite broker (kombu's SQLAlchemy transport) needs no server process
    and keeps queued work on disk across restarts.
    """
    if redis_url:
        return redis_url, redis_url
    var_dir.mkdir(parents=True, exist_ok=True)
    return (
        f"sqla+sqlite:///{var_dir / (prefix + '-broker.sqlite')}",
        f"db+sqlite:///{var_dir / (prefix + '-results.sqlite')}",
    )
