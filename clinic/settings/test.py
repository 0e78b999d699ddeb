"""Settings for pytest.

The test database lives in a file (SQLite) or a uniquely named PostgreSQL
database so that a real Celery worker subprocess can open the very same
database as the test process. Each pytest run gets its own run id, shared
with its xdist workers and with any worker subprocess it starts through the
environment, so that concurrent runs on one machine never share a database,
a broker file or a queue.
"""

import os
import tempfile
import uuid
from pathlib import Path

from clinic.core.keys import server_keys_ensure
from clinic.settings import environment as env
from clinic.settings.base import *  # noqa: F403
from clinic.settings.base import DATABASES

TEST_RUN_ID = os.environ.setdefault("TELEREHAB_TEST_RUN_ID", uuid.uuid4().hex[:10])
TEST_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
TEST_TMP_DIR = Path(tempfile.gettempdir()) / f"telerehab-test-{TEST_RUN_ID}"
TEST_TMP_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else-0123456789abcdef"  # noqa: S105
TELEREHAB_KEY_DIR = TEST_TMP_DIR / "keys"
server_keys_ensure(key_dir=TELEREHAB_KEY_DIR)
TELEREHAB_DEMO_ALLOWED = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_TMP_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_telerehab_{TEST_RUN_ID}"}

# Fast hashing: the suite creates many users; production keeps PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CELERY_BROKER_URL, CELERY_RESULT_BACKEND = env.celery_urls(
    redis_url=env.REDIS_URL, var_dir=TEST_TMP_DIR, prefix=f"celery-{TEST_XDIST_WORKER}"
)
CELERY_TASK_DEFAULT_QUEUE = f"telerehab-test-{TEST_RUN_ID}-{TEST_XDIST_WORKER}"
CELERY_BEAT_SCHEDULE = {}
STATIC_ROOT = None  # served from STATICFILES_DIRS by whitenoise finders

# A Celery worker subprocess started by the test suite opens the test database by name.
if os.environ.get("TELEREHAB_WORKER_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["TELEREHAB_WORKER_DATABASE_NAME"]
