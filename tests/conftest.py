"""Fixtures shared by the whole suite.

``celery_worker_process`` starts a real ``celery -A clinic worker -P solo``
subprocess against the configured broker: the embedded SQLite broker by
default, Redis when ``REDIS_URL`` is set. The test settings give every pytest
run (and each xdist worker) its own broker file or queue, so concurrent runs
never take each other's tasks.

Database sharing: the worker is told the name of the *test* database
(``TELEREHAB_WORKER_DATABASE_NAME``), which the test settings make a file
(SQLite) or a uniquely named database (PostgreSQL), so it reads and writes
the same rows as the test. Rows a test creates are only visible to the worker
once committed, and on SQLite an open test transaction would block the
worker's writes: tests that hand database work to the worker must use
``@pytest.mark.django_db(transaction=True)`` (or the ``transactional_db``
fixture).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_READY_TIMEOUT_S = 90.0


@dataclass
class CeleryWorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _worker_environment(database_name: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "clinic.settings.test"
    env["TELEREHAB_WORKER_DATABASE_NAME"] = database_name
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _die_with_parent() -> None:
    """Linux: SIGTERM the worker if pytest dies, even by SIGKILL, so no worker is orphaned."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def celery_worker_start(
    *, database_name: str, log_path: Path, extra_args: tuple[str, ...] = ()
) -> CeleryWorkerProcess:
    """Start a solo-pool worker and wait until it reports ready. Reusable by other fixtures."""
    log_handle = log_path.open("wb")
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "clinic",
        "worker",
        "-P",
        "solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"pytest-{os.getpid()}@%h",
        *extra_args,
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=_worker_environment(database_name),
        stdout=log_handle,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    handle = CeleryWorkerProcess(process=process, log_path=log_path)
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"celery worker exited with {process.returncode}:\n{handle.log_text()}"
            )
        if " ready." in handle.log_text():
            return handle
        time.sleep(0.2)
    celery_worker_stop(handle)
    raise RuntimeError(
        f"celery worker not ready after {WORKER_READY_TIMEOUT_S} s:\n{handle.log_text()}"
    )


def celery_worker_stop(handle: CeleryWorkerProcess, *, timeout_s: float = 20.0) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL if it does not finish in time."""
    if handle.process.poll() is None:
        handle.process.send_signal(signal.SIGTERM)
        try:
            handle.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            handle.process.kill()
            handle.process.wait(timeout=10)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory) -> Iterator[CeleryWorkerProcess]:
    """A real Celery worker on the test database and the test broker, for the whole session."""
    from django.db import connection

    database_name = str(connection.settings_dict["NAME"])
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    handle = celery_worker_start(database_name=database_name, log_path=log_path)
    yield handle
    celery_worker_stop(handle)


def pytest_unconfigure(config) -> None:
    """Remove this run's temporary folder (test keys, broker files) once the whole run is over."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller cleans up after all workers
    from django.conf import settings

    tmp_dir = getattr(settings, "TEST_TMP_DIR", None) if settings.configured else None
    if tmp_dir is not None and Path(tmp_dir).name.startswith("telerehab-test-"):
        shutil.rmtree(tmp_dir, ignore_errors=True)
