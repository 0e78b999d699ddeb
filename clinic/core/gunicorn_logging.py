"""gunicorn's own logs under the same rule as ``LOGGING``: no PHI (45 CFR 164.312(b)/(c)).

gunicorn writes its access and error logs itself, outside Django's ``LOGGING``. Its default
access line holds the request line as typed, query string included, and the referrer: a
404 for ``/Ottoline-Quarrington/`` or a ``?q=…`` would reach the log. This logger class,
named in ``gunicorn.conf.py``, logs the URL pattern the path matched instead, never the
query string, referrer or any header, and puts ``PhiRedactingFilter`` on the error log.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from clinic.core.log_filters import PhiRedactingFilter, path_redact

#: Access-log atoms that hold no request data (client address, times, sizes, status).
_KEPT_ATOMS = frozenset("h l u t s m H b B T D M L p".split())


class PhiRedactingGunicornLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(PhiRedactingFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        """The stock atoms, less everything the client typed except the method and protocol."""
        atoms = {
            key: value
            for key, value in super().atoms(resp, req, environ, request_time).items()
            if key in _KEPT_ATOMS
        }
        route = path_redact(environ.get("PATH_INFO", ""))
        atoms["U"] = route
        atoms["q"] = ""
        atoms["r"] = f"{atoms.get('m')} {route} {atoms.get('H')}"
        atoms["u"] = "-"  # a basic-auth user name is a person's name
        atoms["f"] = "-"
        atoms["a"] = "-"
        return atoms
