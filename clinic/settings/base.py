"""Settings shared by every environment."""

from __future__ import annotations

from datetime import timedelta

from clinic.settings import environment as env

BASE_DIR = env.BASE_DIR
VAR_DIR = env.VAR_DIR

DEBUG = False
SECRET_KEY = env.SECRET_KEY
ALLOWED_HOSTS = env.csv_env("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env.csv_env("CSRF_TRUSTED_ORIGINS")

# Server key files (envelope X25519 key, versioned at-rest storage keys).
TELEREHAB_KEY_DIR = env.KEY_DIR
#: A device uploading faster than this is answered 429 ``rate_limited`` (its agent retries later).
TELEREHAB_INGEST_UPLOADS_PER_MINUTE = env.INGEST_UPLOADS_PER_MINUTE

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "clinic.core",
    "clinic.accounts",
    "clinic.care",
    "clinic.audit",
    "clinic.devices",
    "clinic.recordings",
    "clinic.emergency",
    "clinic.backup",
    "clinic.plans",
    "clinic.portal",
    "clinic.exports",
]

MIDDLEWARE = [
    # First, so every later layer (and every audit row) can name the request.
    "clinic.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Audits every 403 (role gate, DRF permission, CSRF) that no view audited itself.
    "clinic.audit.middleware.AccessDeniedAuditMiddleware",
    "clinic.accounts.middleware.IdleLogoffMiddleware",
    "clinic.accounts.middleware.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.core.context_processors.session_timeout",
            ],
        },
    },
]

DATABASES = {
    "default": env.database_config(
        url=env.DATABASE_URL, default_sqlite_path=VAR_DIR / "telerehab.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:logged_out"

# Automatic logoff (45 CFR 164.312(a)(2)(iii)): seconds without a request.
IDLE_LOGOFF_S = 15 * 60
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-otp: issuer shown in authenticator apps; backup codes per user.
OTP_TOTP_ISSUER = "telerehab"
MFA_BACKUP_CODE_COUNT = 10

# django-axes: after AXES_FAILURE_LIMIT failures for one user name (guessing one
# account from anywhere) or from one IP address (spraying many accounts), lock
# it for the cool-off period.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# --- security headers -----------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "clinic.core.schema.ClinicAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "telerehab API",
    "DESCRIPTION": "Device ingest and clinic API of the telerehab platform.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- cache ----------------------------------------------------------------
if env.REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL, CELERY_RESULT_BACKEND = env.celery_urls(redis_url=env.REDIS_URL, var_dir=VAR_DIR)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged only after it finished, so a worker killed mid-task
# leaves it queued for another worker; tasks must therefore be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = 24 * 60 * 60
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "health-check": {"task": "clinic.core.tasks.health_check", "schedule": 300.0},
    "recordings-requeue-stale": {"task": "recordings.requeue_stale", "schedule": 300.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if env.REDIS_URL:
    # Redis redelivers a task not acknowledged within this time (worker lost):
    # keep it well above the hard time limit so a running task is never doubled.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# --- logging: no PHI in log output (45 CFR 164.312(b)/(c)) --------------
# Every handler carries the redacting filter (clinic/core/log_filters.py): arguments that are
# not provably safe, exception messages, request paths as typed and the request object are
# removed before any formatter sees them. Django's default handlers on "django" (a DEBUG
# console and mail to admins with the request and local variables) and "django.server" (the
# request line with its query string) are replaced: their records reach the filtered root.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"phi_redact": {"()": "clinic.core.log_filters.PhiRedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["phi_redact"],
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # redis-py adds its own unfiltered stdout handler here unless the logger exists already.
        "push_response": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
