"""Keep patient data out of log output (45 CFR 164.312(b)/(c)): redact what is not provably safe.

A log line is built from a format string and its arguments. The format string is a literal
in the code (ruff's ``G`` rules forbid f-strings, ``%`` and ``.format`` in logging calls), so
it is kept; everything else that arrives at run time is treated as possibly holding PHI:

* arguments are kept only when they are numbers, UUIDs, booleans, ``None``, timestamps with a
  time of day, dotted or snake_case code identifiers, HTTP methods and reason phrases, IPv4
  or listening addresses; anything else (a name, a birth date in any spelling, free text, an
  exception's ``repr``) becomes ``[redacted]``;
* an exception keeps its traceback (file, line, function, source line: all code) but loses
  its message, which is where a failing service tends to put the value it choked on;
* a request path is logged as the URL pattern it matched (``portal/patients/<uuid:patient_id>/``),
  never as typed: a 404 for ``/Ottoline-Quarrington/`` must not write the name to the log, and
  the query string (``?q=…``) never reaches a handler;
* the ``request`` object Django attaches to ``django.request`` records (with its body, query
  string, cookies and headers) and any other non-standard attribute that is not provably safe
  is removed, so no handler or formatter can print it;
* messages of ``django.security.*`` loggers are ``str(exception)`` rather than literals and are
  replaced by the exception's class name.

The filter is attached to every handler in ``settings.LOGGING``; Django's own default handlers
(console for DEBUG, mail to admins with the request and local variables) are removed there.
gunicorn's access and error logs get the same treatment from ``clinic.core.gunicorn_logging``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import http
import logging
import re
import traceback
import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

REDACTED = "[redacted]"

#: Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}

_SAFE_STRING = re.compile(
    r"""^(?:
        [0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}  # UUID
        | [0-9a-f]{32,128}                                     # hex digest / request id
        | -?[0-9]+(?:\.[0-9]+)?                                # a number written as text
        | [0-9]{1,3}(?:\.[0-9]{1,3}){3}                        # IPv4 (never a d.m.Y date)
        | (?:https?|tcp|unix)://[A-Za-z0-9.:\[\]-]+            # a listening address, no path
        | [a-z][a-z0-9]*(?:[._][a-z0-9]+)+                     # code identifier: recordings.process
        | (?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|TRACE)     # HTTP method
    )$""",
    re.VERBOSE,
)
_REASON_PHRASES = frozenset(status.phrase for status in http.HTTPStatus)
_REQUEST_LINE = re.compile(r"^([A-Z]{3,7}) (\S+) (HTTP/[0-9.]+)$")


def _safe_value(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | decimal.Decimal | uuid.UUID):
        return True
    if isinstance(value, dt.datetime | dt.time | dt.timedelta):
        return True  # a timestamp; a birth date is a ``date`` and is not kept
    if isinstance(value, str):
        return len(value) <= 200 and (value in _REASON_PHRASES or bool(_SAFE_STRING.match(value)))
    return False


def redact_value(value: Any) -> Any:
    """The value itself when it is provably not PHI, else ``[redacted]``."""
    return value if _safe_value(value) else REDACTED


def path_redact(path: str) -> str:
    """The URL pattern a path resolves to (no values, no query string), or a placeholder."""
    from django.urls import Resolver404, resolve

    bare = str(path).split("?", 1)[0]
    try:
        match = resolve(bare)
    except (Resolver404, ValueError, UnicodeError):
        return "[unmatched path]"
    except Exception:  # noqa: BLE001 - a logging filter must never raise
        return "[path]"
    return "/" + (match.route or "")


def exception_redact(exc_info: tuple[type[BaseException], BaseException, TracebackType]) -> str:
    """The traceback of an exception (and its causes), every message replaced by its class."""
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[BaseException] = []
    exc: BaseException | None = exc_info[1]
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    for index, exc in enumerate(reversed(chain)):
        if index:
            lines.append("\nThe above exception led to the following exception:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        kind = type(exc)
        lines.append(f"{kind.__module__}.{kind.__qualname__}: [message redacted]\n")
    return "".join(lines).rstrip("\n")


def _redact_args(record: logging.LogRecord) -> Any:
    args = record.args
    if not args:
        return args
    if isinstance(args, Mapping):
        return {key: redact_value(value) for key, value in args.items()}
    redacted = [redact_value(arg) for arg in args]
    if record.name.startswith(("django.request", "django.server")):
        for index, arg in enumerate(args):
            if not isinstance(arg, str):
                continue
            line = _REQUEST_LINE.match(arg)
            if line:  # django.server: '"GET /path?query HTTP/1.1" 200 123'
                redacted[index] = f"{line[1]} {path_redact(line[2])} {line[3]}"
            elif arg.startswith("/"):  # django.request: 'Not Found: /path'
                redacted[index] = path_redact(arg)
    return tuple(redacted)


class PhiRedactingFilter(logging.Filter):
    """Rewrites each record in place (Python 3.11 filters cannot return a copy) and lets it through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception:  # noqa: BLE001 - never lose the line, never leak it either
            record.msg, record.args = "log record could not be redacted; dropped its content", ()
            record.exc_info, record.exc_text = None, None
        return True

    @staticmethod
    def _redact(record: logging.LogRecord) -> None:
        if getattr(record, "_phi_redacted", False):
            return
        if not isinstance(record.msg, str):
            record.msg = f"{type(record.msg).__name__}: {REDACTED}"
        elif record.name.startswith("django.security"):
            exception = record.__dict__.get("exception")
            kind = type(exception).__name__ if exception is not None else "security event"
            record.msg, record.args = f"{kind}: {REDACTED}", ()
        record.args = _redact_args(record)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = exception_redact(record.exc_info)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = REDACTED
        for name in list(vars(record)):
            if name not in _STANDARD_ATTRIBUTES and not _safe_value(vars(record)[name]):
                delattr(record, name)
        record._phi_redacted = True
