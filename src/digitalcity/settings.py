"""One settings module, configured from the environment (STYLE.md 17).

With nothing set it runs on SQLite under ./var with the console notification
backends: that is the demo. Production sets DATABASE_URL, SECRET_KEY (or
SECRET_KEY_FILE), ALLOWED_HOSTS and the gateway settings; see docs/deploy.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent  # the checkout (src/digitalcity -> .)
VAR_DIR = Path(os.environ.get("DC_VAR_DIR", PROJECT_DIR / "var"))


def env(name: str, default: str = "") -> str:
    """A string setting; NAME_FILE, if set, names a file holding the value (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean setting; anything but the listed spellings is an error, not a silent False."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"环境变量 {name} 的值 {value!r} 无效：只接受 true/false/1/0/yes/no/on/off")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"环境变量 {name} 的值 {value!r} 无效：应为整数") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("DC_REQUIRE_SECRET_KEY", False):
        raise ValueError("生产环境必须设置 SECRET_KEY 或 SECRET_KEY_FILE")
    # Development and the demo only: production refuses to start without SECRET_KEY
    # when DC_REQUIRE_SECRET_KEY=true (docs/deploy.md).
    SECRET_KEY = "digitalcity-insecure-development-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
CITY_NAME = env("DC_CITY_NAME", "示范市")
# Portal footer (政府网站 rules ask for sponsor and filing numbers); empty ICP shows "未配置".
DC_SITE_SPONSOR = env("DC_SITE_SPONSOR", f"{CITY_NAME}人民政府办公室")
DC_SITE_OPERATOR = env("DC_SITE_OPERATOR", f"{CITY_NAME}大数据局")
DC_SITE_ICP = env("DC_SITE_ICP", "")
DC_SITE_PSB = env("DC_SITE_PSB", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the Swagger UI of /api/docs from our static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    # the platform, bottom up (DESIGN.md "Layers")
    "digitalcity.core",
    "digitalcity.identity",
    "digitalcity.registry",
    "digitalcity.cases",
    # services (DESIGN.md "Layers")
    "digitalcity.approval",
    "digitalcity.hotline",
    "digitalcity.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "digitalcity.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "digitalcity.core.middleware.RequestContextMiddleware",
    "digitalcity.identity.middleware.SessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "digitalcity.urls"
WSGI_APPLICATION = "digitalcity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "digitalcity.web.context_processors.platform",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'digitalcity.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue instead of failing with "database is locked" midway.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Identity -------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    "digitalcity.identity.backends.PasswordBackend",
    "digitalcity.identity.backends.SmsCodeBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    # GB/T 22239-2019 level 3 (等保三级): length, complexity, no user attributes, no common
    # passwords, no reuse of recent passwords.
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "digitalcity.identity.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("DC_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "digitalcity.identity.passwords.CharacterClassValidator"},
    {"NAME": "digitalcity.identity.passwords.PasswordHistoryValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
# Lockout and session rules (GB/T 22239 level 3): see docs/security.md.
DC_LOGIN_MAX_FAILURES = env_int("DC_LOGIN_MAX_FAILURES", 5)
DC_LOGIN_LOCKOUT_MINUTES = env_int("DC_LOGIN_LOCKOUT_MINUTES", 30)
DC_LOGIN_FAILURE_WINDOW_MINUTES = env_int("DC_LOGIN_FAILURE_WINDOW_MINUTES", 15)
# Per source address: higher, since one office NAT address serves many people.
DC_LOGIN_IP_MAX_FAILURES = env_int("DC_LOGIN_IP_MAX_FAILURES", 20)
DC_PASSWORD_MAX_AGE_DAYS = env_int("DC_PASSWORD_MAX_AGE_DAYS", 90)
DC_PASSWORD_HISTORY = env_int("DC_PASSWORD_HISTORY", 5)
DC_SMS_CODE_TTL_SECONDS = env_int("DC_SMS_CODE_TTL_SECONDS", 300)
DC_SMS_CODE_INTERVAL_SECONDS = env_int("DC_SMS_CODE_INTERVAL_SECONDS", 60)
DC_SMS_CODES_PER_DAY = env_int("DC_SMS_CODES_PER_DAY", 10)
DC_SESSION_IDLE_MINUTES = env_int("DC_SESSION_IDLE_MINUTES", 30)
SESSION_COOKIE_AGE = env_int("DC_SESSION_MAX_HOURS", 8) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DC_BEHIND_TLS_PROXY") else None
)

# --- Calendar -------------------------------------------------------------
# A date in a year with no calendar rows raises CalendarMissingError, unless this
# allows an estimate computed on weekends alone (flagged as such to the caller).
DC_CALENDAR_ALLOW_ESTIMATE = env_bool("DC_CALENDAR_ALLOW_ESTIMATE", False)
# Office hours for working-hour arithmetic: comma-separated HH:MM-HH:MM spans.
DC_OFFICE_HOURS = env("DC_OFFICE_HOURS", "09:00-12:00,13:30-17:30")

# --- Case engine (docs/cases.md) ------------------------------------------
# Register the example case type `example.parallel` (tests, benchmarks, the demo);
# a city that does not want it in its type list switches it off.
DC_CASES_EXAMPLE_TYPES = env_bool("DC_CASES_EXAMPLE_TYPES", True)
# How often each worker sweeps clocks for prompts and yellow/red cards, and how many
# clocks one sweep transaction claims.
DC_CASES_SWEEP_SECONDS = env_int("DC_CASES_SWEEP_SECONDS", 30)
DC_CASES_SWEEP_BATCH = env_int("DC_CASES_SWEEP_BATCH", 2000)

# --- 12345 hotline (docs/hotline.md) ----------------------------------------
# The department code of the 12345 center, which leads every work order.
DC_HOTLINE_CENTER = env("DC_HOTLINE_CENTER", "hotline-12345")
# The city's bounding box "south,west,north,east" (WGS-84): coordinates outside are refused.
DC_HOTLINE_CITY_BOUNDS = env("DC_HOTLINE_CITY_BOUNDS", "35.20,112.40,35.90,113.30")
# Flooding: at most this many orders from one number within the window (seconds).
DC_HOTLINE_FLOOD_LIMIT = env_int("DC_HOTLINE_FLOOD_LIMIT", 5)
DC_HOTLINE_FLOOD_WINDOW = env_int("DC_HOTLINE_FLOOD_WINDOW", 600)
# Shared secrets of the telephony system's and the SMS gateway's webhooks (HMAC-SHA256).
DC_HOTLINE_TELEPHONY_SECRET = env("DC_HOTLINE_TELEPHONY_SECRET", "")
DC_HOTLINE_SMS_SECRET = env("DC_HOTLINE_SMS_SECRET", "")
# A map tile URL template on the city's intranet ("https://tiles.example/{z}/{x}/{y}.png");
# empty: the hotspot map draws the points and the city's bounds without a base map.
DC_HOTLINE_MAP_TILES = env("DC_HOTLINE_MAP_TILES", "")
# Open311 GeoReport v2 (docs/open311.md): this city's jurisdiction_id; a request naming
# another one is answered 404. Empty: jurisdiction_id is not checked.
DC_OPEN311_JURISDICTION = env("DC_OPEN311_JURISDICTION", "")

# --- Registry linkage (docs/registry.md "Linkage (Splink)") ----------------
# A record without a valid ID number is linked to a person automatically at or above
# DC_REGISTRY_LINK_AUTO; from DC_REGISTRY_LINK_REVIEW up to that it waits for review.
DC_REGISTRY_LINK_AUTO = float(env("DC_REGISTRY_LINK_AUTO", "0.99"))
DC_REGISTRY_LINK_REVIEW = float(env("DC_REGISTRY_LINK_REVIEW", "0.5"))

# --- Notifications --------------------------------------------------------
DC_SMS_BACKEND = env("DC_SMS_BACKEND", "digitalcity.core.notifications.backends.ConsoleSmsBackend")
DC_SMS_GATEWAY_URL = env("DC_SMS_GATEWAY_URL", "")
DC_SMS_GATEWAY_TOKEN = env("DC_SMS_GATEWAY_TOKEN", "")
DC_SMS_MAX_ATTEMPTS = env_int("DC_SMS_MAX_ATTEMPTS", 5)
DC_SMS_GATEWAY_TIMEOUT = env_int("DC_SMS_GATEWAY_TIMEOUT", 10)  # seconds per send request
DC_SMS_FILE = Path(env("DC_SMS_FILE", str(VAR_DIR / "sms-outbox.jsonl")))  # FileSmsBackend
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@digitalcity.local")

# --- Tasks ----------------------------------------------------------------
# Default: the database backend (no extra server); `digitalcity worker` runs it.
# With REDIS_URL set, tasks go through RQ on Redis so workers can run on many machines.
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    # django_tasks_rq's system check requires django_rq installed (it owns RQ_QUEUES).
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
if env_bool("DC_TASKS_IMMEDIATE", False):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Files ----------------------------------------------------------------
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DC_UPLOAD_MAX_BYTES = env_int("DC_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Static files: our own plus the npm packages installed by the set-up ---
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
NODE_MODULES = Path(env("DC_NODE_MODULES", str(PROJECT_DIR / "node_modules")))
STATICFILES_DIRS = [
    (f"vendor/{name}", NODE_MODULES / path)
    for name, path in {
        "htmx": "htmx.org/dist",
        "echarts": "echarts/dist",
        "leaflet": "leaflet/dist",
    }.items()
    if (NODE_MODULES / path).is_dir()
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if env_bool("DC_COMPRESS_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
if STATIC_ROOT.is_relative_to(VAR_DIR):
    # WhiteNoise warns about a missing STATIC_ROOT; the demo serves through finders.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Chinese unless the user chooses English with the language switch (a cookie); set true
# to follow the browser's Accept-Language instead.
DC_HONOR_BROWSER_LANGUAGE = env_bool("DC_HONOR_BROWSER_LANGUAGE", False)
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The DB task backend logs "Starting worker / No more tasks" on every idle poll.
        "django_tasks_db": {"level": "WARNING"},
    },
}
