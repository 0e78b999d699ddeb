"""Development: the README's run command. Generates its own keys into var/."""

from clinic.core.keys import dev_secret_key, server_keys_ensure
from clinic.settings import environment as env
from clinic.settings.base import *  # noqa: F403

DEBUG = True
SECRET_KEY = env.SECRET_KEY or dev_secret_key(key_dir=env.KEY_DIR)
server_keys_ensure(key_dir=env.KEY_DIR)
# Demo-only helpers (seed_demo, demo_totp_code) refuse to run unless this is set.
TELEREHAB_DEMO_ALLOWED = True
# Served straight from STATICFILES_DIRS by whitenoise's finders: no collectstatic in development.
STATIC_ROOT = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
