"""Transmission security (164.312(e)): production forces TLS and secure cookies, DEBUG is off
outside development, and the capture agent refuses plain HTTP to anything but this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capture_agent.transport.security import InsecureTransportError, server_url_check
from clinic.core.keys import server_keys_ensure

REPO_ROOT = Path(__file__).resolve().parents[2]
ONE_YEAR_S = 365 * 24 * 3600

_PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "IDLE_LOGOFF_S"]}))
"""


def _settings_of(module: str, extra_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TELEREHAB_KEY"))}
    env.update({"DJANGO_SETTINGS_MODULE": module, **extra_env})
    out = subprocess.run(
        [sys.executable, "-c", _PRINT_SETTINGS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_production_settings_force_tls_and_secure_cookies(tmp_path):
    server_keys_ensure(key_dir=tmp_path)
    values = _settings_of(
        "clinic.settings.production",
        {
            "SECRET_KEY": "p" * 20 + "roduction-secret-for-this-test-only-0123456789",
            "ALLOWED_HOSTS": "clinic.example",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
            "TELEREHAB_KEY_DIR": str(tmp_path),
        },
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= ONE_YEAR_S
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["IDLE_LOGOFF_S"] == 15 * 60


def test_debug_is_off_in_the_settings_tests_run_under():
    from django.conf import settings

    assert settings.DEBUG is False


def test_production_answers_plain_http_with_a_redirect_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = ONE_YEAR_S
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith(f"max-age={ONE_YEAR_S}")


@pytest.mark.parametrize(
    "url",
    [
        "http://clinic.example",
        "http://192.168.1.10:8000",
        "http://127.0.0.1.evil.example",
        "ftp://x",
    ],
)
def test_agent_refuses_plain_http_to_other_machines(url):
    with pytest.raises(InsecureTransportError):
        server_url_check(url)


@pytest.mark.parametrize("url", ["https://clinic.example/", "http://127.0.0.1:8000"])
def test_agent_accepts_https_and_loopback_development(url):
    assert server_url_check(url) == url.rstrip("/")
