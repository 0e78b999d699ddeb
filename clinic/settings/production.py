"""Production: refuses to start unless its configuration is complete.

Everything secret comes from the environment or from files outside the
repository; nothing is generated here, because a silently generated key would
make previously encrypted data unreadable.
"""

from django.core.exceptions import ImproperlyConfigured

from clinic.core.keys import server_keys_missing
from clinic.settings import environment as env
from clinic.settings.base import *  # noqa: F403

DEBUG = False


def _require_configuration() -> None:
    problems: list[str] = []
    if not env.SECRET_KEY:
        problems.append("SECRET_KEY is not set (use a random string of at least 50 characters)")
    elif len(env.SECRET_KEY) < 50 or len(set(env.SECRET_KEY)) < 5:
        problems.append("SECRET_KEY is too short or too simple (at least 50 varied characters)")
    if not env.csv_env("ALLOWED_HOSTS"):
        problems.append("ALLOWED_HOSTS is not set (comma-separated host names)")
    if not env.DATABASE_URL:
        problems.append("DATABASE_URL is not set (e.g. postgres://user@db-host:5432/telerehab)")
    if not env.KEY_DIR_FROM_ENV:
        problems.append(
            "TELEREHAB_KEY_DIR is not set (directory with the server key files; "
            "create them once with `python -m clinic.core.keys DIR`)"
        )
    else:
        for missing in server_keys_missing(key_dir=env.KEY_DIR):
            problems.append(f"server key file missing: {missing}")
    if problems:
        raise ImproperlyConfigured(
            "telerehab production settings refuse to start:\n  - " + "\n  - ".join(problems)
        )


_require_configuration()

SECRET_KEY = env.SECRET_KEY
ALLOWED_HOSTS = env.csv_env("ALLOWED_HOSTS")

# Transport security (45 CFR 164.312(e)): TLS terminates at or before gunicorn.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
# Health probes come over plain HTTP from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
