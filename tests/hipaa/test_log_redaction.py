"""No PHI in log output (164.312(b)/(c)): the configured handlers print no name, birth date or request value.

The log output is captured from the real handler that ``settings.LOGGING`` configures (its
stream swapped for a buffer), not only through ``caplog``, so the filter chain under test is
the one production runs. A raw handler placed in front of it sees the same records before the
filter, proving the PHI really was in them (the test can fail).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client

from clinic.core.log_filters import REDACTED, PhiRedactingFilter, redact_value
from tests.factories import patient_create, staff_login_verified, therapist_create

NAME = "Ottoline Quarrington"
BIRTH = dt.date(1937, 2, 11)
NEEDLES = ("Ottoline", "Quarrington", BIRTH.isoformat(), "1937")


def _configured_handlers() -> list[tuple[str, logging.Handler]]:
    """(logger, handler) for every handler outside pytest's own capture handlers."""
    handlers = []
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue
            if isinstance(handler, logging.NullHandler):  # writes nothing anywhere
                continue
            handlers.append((logger.name, handler))
    return handlers


class _Raw(logging.Handler):
    """Keeps each record's text as it was before any filter touched it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, _Raw]]:
    """(what the configured console handler writes, what a raw handler in front of it saw)."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    raw = _Raw()
    previous_stream = console.setStream(buffer)
    previous_level = root.level
    root.handlers.insert(0, raw)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer, raw
    finally:
        root.removeHandler(raw)
        root.setLevel(previous_level)
        console.setStream(previous_stream)


def test_every_configured_handler_carries_the_redacting_filter():
    # redis-py adds an unfiltered stdout handler to "push_response" when it first connects,
    # unless that logger exists already (LOGGING names it): make it try now, not only when
    # an earlier test happened to use Redis.
    import redis.utils

    getattr(redis.utils, "_set_info_logger", lambda: None)()
    handlers = _configured_handlers()
    assert handlers, "settings.LOGGING configures no handler at all"
    for name, handler in handlers:
        assert any(isinstance(f, PhiRedactingFilter) for f in handler.filters), (
            f"{handler!r} on logger {name!r} has no PhiRedactingFilter"
        )
    for name, config in settings.LOGGING["handlers"].items():
        assert "phi_redact" in config.get("filters", []), f"LOGGING handler {name!r} unfiltered"
    # Django's defaults mail the request and the traceback's local variables to admins.
    assert not any(type(h).__name__ == "AdminEmailHandler" for _, h in handlers)


@pytest.mark.django_db
@pytest.mark.urls("tests.hipaa.urls_failing")
def test_a_500_with_the_patients_name_in_its_exception_logs_no_phi():
    patient = patient_create(display_name=NAME, date_of_birth=BIRTH)
    client = Client(raise_request_exception=False)
    with _captured() as (written, raw):
        response = client.post(
            f"/explode/{patient.id}/?q=Ottoline+Quarrington&dob=1937-02-11",
            {"display_name": NAME, "date_of_birth": BIRTH.isoformat()},
        )
    assert response.status_code == 500
    output = written.getvalue()
    raw_text = "\n".join(raw.lines)
    # Before the filter the record did carry the name: the test can fail.
    assert "Internal Server Error" in raw_text
    assert "Ottoline" in raw.lines[-1] or "Ottoline" in raw_text
    # What the configured handler wrote: the error, where it happened, and no PHI.
    assert "Internal Server Error: /explode/<uuid:patient_id>/" in output
    assert "Traceback (most recent call last)" in output
    assert "builtins.ValueError: [message redacted]" in output
    assert "builtins.KeyError: [message redacted]" in output
    for needle in NEEDLES:
        assert needle not in output, f"{needle!r} reached the log:\n{output}"


@pytest.mark.django_db
def test_a_404_for_a_path_holding_a_name_logs_no_phi():
    with _captured() as (written, _raw):
        response = Client().get("/no-such-page/Ottoline-Quarrington/1937-02-11/?q=Quarrington")
    assert response.status_code == 404
    output = written.getvalue()
    assert "Not Found: [unmatched path]" in output
    for needle in NEEDLES:
        assert needle not in output


@pytest.mark.django_db
def test_a_refused_page_logs_its_route_not_its_values(client):
    therapist = therapist_create()
    patient = patient_create(display_name=NAME, date_of_birth=BIRTH)
    staff_login_verified(client, therapist)
    with _captured() as (written, _raw):
        response = client.get(f"/portal/patients/{patient.id}/?note=Ottoline")
    assert response.status_code == 404
    output = written.getvalue()
    assert "/portal/patients/<uuid:patient_id>/" in output
    assert "Ottoline" not in output


def test_arguments_are_kept_only_when_provably_safe():
    record_id = "0f6e2b1c-3d4e-4f5a-8b9c-0d1e2f3a4b5c"
    logger = logging.getLogger("clinic.example")
    with _captured() as (written, raw):
        logger.info(
            "recording %s of %s, %s, %d frames, task %s",
            record_id,
            NAME,
            BIRTH,
            120,
            "recordings.process",
        )
        logger.warning("mapping %(who)s %(n)s", {"who": NAME, "n": 3})
        logger.info(NAME.split())  # not a format string: its content is data
        logger.info("request seen", extra={"patient_name": NAME, "status_code": 403})
        logging.getLogger("django.security.csrf").warning("Forbidden (%s): %s", NAME, "/x")
        logging.getLogger("django.server").info(
            '"%s" %s %s', "GET /portal/caseload/?q=Ottoline HTTP/1.1", 200, 10
        )
    output = written.getvalue()
    assert "Ottoline" in "\n".join(raw.lines)
    assert (
        f"recording {record_id} of {REDACTED}, {REDACTED}, 120 frames, task recordings.process"
        in (output)
    )
    assert f"mapping {REDACTED} 3" in output
    assert '"GET /portal/caseload/ HTTP/1.1" 200 10' in output
    for needle in NEEDLES:
        assert needle not in output, output


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (42, True),
        ("3f0b8f5e-1c7a-4c35-9a43-51b9f0b4d7a1", True),
        ("recording.view", True),
        ("Not Found", True),
        ("127.0.0.1", True),
        ("11.02.1937", False),
        ("http://127.0.0.1:8765", True),
        ("http://127.0.0.1:8765/portal/?q=Ottoline", False),
        (dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), True),
        (BIRTH, False),
        ("1937-02-11", False),
        ("Ottoline", False),
        ("ottoline quarrington", False),
        (b"Ottoline", False),
        (["x"], False),
    ],
)
def test_redact_value(value, kept):
    assert (redact_value(value) == value) is kept


def test_a_celery_worker_adds_no_unfiltered_handler():
    """A worker sets its logging up the way ``celery worker`` does, in a separate process."""
    import subprocess
    import sys

    script = (
        "import django, logging; django.setup();"
        "from clinic.celery import app; app.log.setup(loglevel='INFO');"
        "from clinic.core.log_filters import PhiRedactingFilter as F;"
        "ls = [logging.getLogger()] + [l for l in logging.Logger.manager.loggerDict.values()"
        " if isinstance(l, logging.Logger)];"
        "bad = [(l.name, repr(h)) for l in ls for h in l.handlers"
        " if not isinstance(h, logging.NullHandler)"
        " and not any(isinstance(f, F) for f in h.filters)];"
        "print('UNFILTERED', bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "UNFILTERED []" in result.stdout, result.stdout[-2000:]


def test_gunicorn_access_lines_name_the_route_not_the_request():
    import datetime
    import runpy
    from types import SimpleNamespace

    from gunicorn.config import Config

    from clinic.core.gunicorn_logging import PhiRedactingGunicornLogger

    conf = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    assert conf["logger_class"] == "clinic.core.gunicorn_logging.PhiRedactingGunicornLogger"
    logger = PhiRedactingGunicornLogger(Config())
    patient_path = "/portal/patients/3f0b8f5e-1c7a-4c35-9a43-51b9f0b4d7a1/"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": patient_path + "?q=Ottoline+Quarrington",
        "PATH_INFO": patient_path,
        "QUERY_STRING": "q=Ottoline+Quarrington",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "/portal/caseload/?q=Quarrington",
        "HTTP_USER_AGENT": "Ottoline's browser",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[("X-NOTE", "Ottoline 1937-02-11")])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=1))
    line = Config().access_log_format % logger.atoms_wrapper_class(atoms)
    assert '"GET /portal/patients/<uuid:patient_id>/ HTTP/1.1" 200 10' in line
    for needle in (*NEEDLES, "3f0b8f5e", "q="):
        assert needle not in line, line
    stock = Config().access_log_format % logger.atoms_wrapper_class(
        super(PhiRedactingGunicornLogger, logger).atoms(
            response, request, environ, datetime.timedelta(seconds=1)
        )
    )
    assert "Ottoline" in stock  # gunicorn's own line would have leaked it
