"""Linli settings: one module, driven by the environment.

The embedded default (no environment at all) runs on SQLite under ``var/`` in WAL mode, the
in-memory channel layer, the local-memory cache and local media; ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis. ``LINLI_ENV=prod`` refuses to start without the
secrets production needs. See ``.env.example`` for every variable.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


LINLI_ENV = env("LINLI_ENV", "dev")
if LINLI_ENV not in {"dev", "prod"}:
    raise ImproperlyConfigured(f"LINLI_ENV must be 'dev' or 'prod', not {LINLI_ENV!r}.")
IS_PROD = LINLI_ENV == "prod"

if IS_PROD:
    _missing = [
        name
        for name in (
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "LINLI_DATA_KEY",
            "LINLI_INDEX_KEY",
            "LINLI_PUBLIC_HOST",
        )
        if not env(name)
    ]
    if _missing:
        raise ImproperlyConfigured(
            "LINLI_ENV=prod needs these environment variables, which are not set: "
            + ", ".join(_missing)
            + ". See .env.example."
        )
    if len(env("SECRET_KEY")) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long in production.")

# A fixed development key: only ever used with LINLI_ENV=dev (prod refuses to start without one).
SECRET_KEY = env("SECRET_KEY") or "linli-dev-only-secret-key-not-for-production-0123456789abcdefghij"
DEBUG = env_bool("DEBUG", default=not IS_PROD)
if IS_PROD and DEBUG:
    # Debug pages show settings, SQL and stack traces to anyone: production never runs with them.
    raise ImproperlyConfigured("LINLI_ENV=prod refuses to start with DEBUG on; unset DEBUG.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PROD else "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Origins allowed to open websockets from a browser; connections without an Origin header (the
# mini-program's wx.connectSocket) are admitted and authenticated by token alone.
LINLI_WS_ALLOWED_ORIGINS = env_list("LINLI_WS_ALLOWED_ORIGINS")
# Links and QR codes: in dev without LINLI_PUBLIC_HOST they follow the host and port the server is
# reached at (backend.core.links), else the address `python -m backend.serve` listens on.
LINLI_PUBLIC_HOST = env("LINLI_PUBLIC_HOST") or env("LINLI_SERVED_HOST", "127.0.0.1:8000")
LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = not IS_PROD and not env("LINLI_PUBLIC_HOST")
LINLI_PUBLIC_SCHEME = env("LINLI_PUBLIC_SCHEME", "https" if IS_PROD else "http")
# /api/v1/docs, openapi.json and asyncapi.json: public in development; in production only when
# this says so (else they answer 404).
LINLI_API_DOCS_PUBLIC = env_bool("LINLI_API_DOCS_PUBLIC", default=not IS_PROD)

INSTALLED_APPS = [
    "daphne",
    # Django's admin with Linli's site: staff sign in with a one-time code, each role in its scope.
    "backend.accounts.admin_apps.LinliAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # Swagger UI's script and style for /api/v1/docs, served by Linli (no CDN): api/docs.py.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "backend.core",
    "backend.accounts",
    "backend.divisions",
    "backend.notifications",
    "backend.wechat",
    "backend.filings",
    "backend.volunteers",
    "backend.credentials",
    "backend.checkin",
    "backend.rivers",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "backend.core.middleware.static_files",
    "backend.core.middleware.request_context",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backend.core.middleware.admin_security_headers",
    "backend.core.middleware.api_error_body",
    "backend.core.middleware.idempotency",
]

# The JSON API and public lookup pages skip the cookie middlewares (see backend/runtime/handlers.py).
LINLI_API_MIDDLEWARE = [
    "backend.runtime.handlers.InlineSecurityMiddleware",
    "backend.core.middleware.request_context",
    "backend.core.middleware.api_error_body",
    "backend.core.middleware.idempotency",
]

# The test suite checks every API response against the served OpenAPI document (outermost, so
# it sees the final body): tests/support/contract.py. LINLI_CONTRACT_CHECK=0 turns it off.
if "pytest" in sys.modules and os.environ.get("LINLI_CONTRACT_CHECK", "1") == "1":
    MIDDLEWARE.insert(0, "tests.support.contract.ContractMiddleware")
    LINLI_API_MIDDLEWARE.insert(0, "tests.support.contract.ContractMiddleware")
# The same for websockets against the AsyncAPI document: tests/support/asyncapi_contract.py.
LINLI_WS_CONTRACT = ""
if "pytest" in sys.modules and os.environ.get("LINLI_CONTRACT_CHECK", "1") == "1":
    LINLI_WS_CONTRACT = "tests.support.asyncapi_contract.WebsocketContract"

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, checking a pooled connection only after it has sat idle (the pool's
        # check on every hand-out was a round trip per request; backend/runtime/postgresql).
        DATABASES["default"]["ENGINE"] = "backend.runtime.postgresql"
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        # Under daphne every request runs on a thread of its own: without a pool, a burst of
        # requests opens as many connections and PostgreSQL refuses the excess. psycopg's pool
        # bounds them per process (requests wait for a free connection instead).
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(env("LINLI_DB_POOL_MIN", "2")),
            "max_size": int(env("LINLI_DB_POOL_MAX", "20")),
            # A bounded wait: with the database away a request answers 503 service_unavailable
            # (Retry-After) after this many seconds instead of hanging (backend.core.faults).
            "timeout": float(env("LINLI_DB_POOL_TIMEOUT", "3")),
        }
        DATABASES["default"]["OPTIONS"].setdefault(
            "connect_timeout", int(env("LINLI_DB_CONNECT_TIMEOUT", "3"))
        )
        # Statements compiled once (backend.core.db.PreparedValues: the sign-up's and the token
        # check's reads) are prepared on a connection after this many runs, so PostgreSQL stops
        # planning them every time; Django's other queries bind on the client and never are.
        # Django turns preparing off for transaction-mode poolers; Linli pools in process
        # (psycopg_pool). 0: never prepare.
        threshold = int(env("LINLI_DB_PREPARE_THRESHOLD", "5"))
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = threshold or None
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "linli.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A connection per thread for the thread's life: API requests run on a few long-lived lanes
    # (backend/runtime/lanes.py), so this is a handful of connections, not one per request.
    # Opening one per request (connect, three PRAGMAs, Django's SQL functions registered, close)
    # was 8 % of a sign-up burst's server CPU (py-spy, bench/signup_burst).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # Writers queue (BEGIN IMMEDIATE + busy timeout) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # Tests use a file (not :memory:) so concurrent-writer tests see real SQLite locking; the pid
    # keeps parallel runs apart.
    DATABASES["default"]["TEST"] = {
        "NAME": env("LINLI_TEST_SQLITE")
        or str(Path(tempfile.gettempdir()) / f"linli-test-{os.getpid()}.sqlite3")
    }
# Push quiet hours, Asia/Shanghai, "start,end" (equal times: none); pushes wait for the end.
LINLI_QUIET_HOURS = tuple(env_list("LINLI_QUIET_HOURS", "22:00,07:00"))
if len(LINLI_QUIET_HOURS) != 2:
    raise ImproperlyConfigured("LINLI_QUIET_HOURS must be two times, e.g. 22:00,07:00.")
# Threads running the API's sync code per process; 0: by database (backend/runtime/lanes.py).
LINLI_SYNC_LANES = int(env("LINLI_SYNC_LANES", "0") or 0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- cache and channel layer --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
LINLI_REDIS_PREFIX = env("LINLI_REDIS_PREFIX", "linli")
TESTING = "pytest" in sys.modules
if TESTING:
    # Parallel test runs against one Redis must not hear each other's groups and cache keys.
    LINLI_REDIS_PREFIX = f"{LINLI_REDIS_PREFIX}-test-{os.getpid()}"
    # No lookup-log writer thread in the test process, not even one started by importing
    # backend.asgi at collection: it would write rows behind the tests' backs (tests flush).
    LINLI_LOOKUP_LOG_BACKGROUND = False
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": LINLI_REDIS_PREFIX,
            # Redis away must cost a request milliseconds, not a hang: callers fall back.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"{LINLI_REDIS_PREFIX}:asgi",
                "capacity": 1000,
                "expiry": 60,
                # Longer than daphne's websocket timeout (86400 s).
                "group_expiry": 90000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli"}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# --- background tasks ---------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if env("LINLI_TASKS", "database" if IS_PROD else "immediate") == "database"
        else "django_tasks.backends.immediate.ImmediateBackend",
    }
}

# --- auth ----------------------------------------------------------------------------------------
# No passwords anywhere: staff sign in to the admin with a one-time code from the app
# (backend.accounts.services.staff); platform admins hold every admin permission.
AUTHENTICATION_BACKENDS = ["backend.accounts.backends.StaffBackend"]
# PIPL: days between asking to cancel an account and its cancellation (backend.accounts.services).
LINLI_CANCELLATION_COOLING_OFF_DAYS = int(env("LINLI_CANCELLATION_COOLING_OFF_DAYS", "15"))
# The admin pages' Content-Security-Policy (the admin's own scripts and styles only).
LINLI_ADMIN_CSP = env(
    "LINLI_ADMIN_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LINLI_ACCESS_TOKEN_TTL = int(env("LINLI_ACCESS_TOKEN_TTL", "900"))
LINLI_REFRESH_TOKEN_TTL = int(env("LINLI_REFRESH_TOKEN_TTL", str(30 * 24 * 3600)))
LINLI_DEV_LOGIN = not IS_PROD
FIREBASE_PROJECT_ID = env("FIREBASE_PROJECT_ID", "demo-linli")
FIREBASE_CREDENTIALS = env("FIREBASE_CREDENTIALS")  # path to a service-account JSON file
LINLI_SIGNIN_RATE = env("LINLI_SIGNIN_RATE", "20/m")
# Door searches (GET /events/{id}/passes?search=) per scanner or coordinator.
LINLI_CHECKIN_SEARCH_RATE = env("LINLI_CHECKIN_SEARCH_RATE", "30/m")
# Browsing activities without sign-in (GET /activities, /activities/{id}), per client address.
LINLI_PUBLIC_BROWSE_RATE = env("LINLI_PUBLIC_BROWSE_RATE", "120/m")
# WeChat mini-program (all optional: without an app id and secret the WeChat endpoints answer 503
# wechat_not_configured and nothing reaches WeChat). See .env.example.
WECHAT_APP_ID = env("WECHAT_APP_ID")
WECHAT_APP_SECRET = env("WECHAT_APP_SECRET")
WECHAT_API_BASE = env("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_MSG_TOKEN = env("WECHAT_MSG_TOKEN")
WECHAT_SUBSCRIBE_TEMPLATES = env("WECHAT_SUBSCRIBE_TEMPLATES")
WECHAT_MINIPROGRAM_STATE = env("WECHAT_MINIPROGRAM_STATE", "formal")
WECHAT_QR_VERIFY_FILE = env("WECHAT_QR_VERIFY_FILE")
# Number of trusted reverse proxies in front of daphne (their X-Forwarded-For entries are honoured).
NINJA_NUM_PROXIES = int(env("LINLI_NUM_PROXIES", "0"))

# --- event check-in --------------------------------------------------------------------------------
# Seconds after a scan reached the server during which the device that made it may annul it
# (coordinators may annul at any time). backend.checkin.conf.
LINLI_CHECKIN_ANNUL_WINDOW_SECONDS = int(env("LINLI_CHECKIN_ANNUL_WINDOW_SECONDS", "900"))

# --- data protection -----------------------------------------------------------------------------
LINLI_DATA_KEY = env("LINLI_DATA_KEY")
LINLI_DATA_KEYS_OLD = env_list("LINLI_DATA_KEYS_OLD")
LINLI_INDEX_KEY = env("LINLI_INDEX_KEY")
# A malformed key fails here, at start-up (and `check --deploy`), not at its first use.
from backend.core.crypto import check_setting_keys  # noqa: E402 - pure, imports no models

check_setting_keys(
    {
        "LINLI_DATA_KEY": [LINLI_DATA_KEY],
        "LINLI_DATA_KEYS_OLD": LINLI_DATA_KEYS_OLD,
        "LINLI_INDEX_KEY": [LINLI_INDEX_KEY],
    }
)

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and media ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("LINLI_STATIC_ROOT") or VAR_DIR / "static")
MEDIA_URL = "/media/"  # never served: private files leave through signed URLs (/m/...)
MEDIA_ROOT = Path(env("LINLI_MEDIA_ROOT") or VAR_DIR / "media")
# Lifetime (seconds) of the signed URLs of private images in API answers (backend.core.signed_urls).
LINLI_SIGNED_URL_TTL = int(env("LINLI_SIGNED_URL_TTL", "600"))
# Behind nginx: Django checks a signed URL and nginx sends the file from this internal location
# (X-Accel-Redirect); empty: Django sends it.
LINLI_MEDIA_ACCEL_REDIRECT = env("LINLI_MEDIA_ACCEL_REDIRECT")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PROD
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- security (production) -----------------------------------------------------------------------
if IS_PROD:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^api/v1/(health|ping)$"]
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO" if IS_PROD else "WARNING")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
