"""Django settings, read from environment variables.

Defaults are safe for production (DEBUG off, loopback-only hosts, secure cookies when served over TLS);
``make run`` serves the demo on 127.0.0.1 with those same defaults.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

SRC_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("KYPHOS_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("KYPHOS_VAR_DIR", BASE_DIR / "var"))
# What Kyphos writes (the SQLite database, the secret key, var/mail, var/sms, backups) is its owner's only:
# files 0600, folders 0700. `kyphos serve` also tightens what an older version left more open (web.files).
os.umask(0o077)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": unquote(parsed.hostname or ""),
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if parsed.scheme == "sqlite":
        return sqlite_database(Path(unquote(parsed.path)))
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres:// or sqlite:///)")


def sqlite_database(path: Path) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the worker and the web process read while the other writes.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def read_secret_key() -> str:
    """Use KYPHOS_SECRET_KEY, else a random key kept in the var directory (created once, mode 0600)."""
    key = os.environ.get("KYPHOS_SECRET_KEY")
    if key:
        return key
    key_file = Path(os.environ.get("KYPHOS_SECRET_KEY_FILE", VAR_DIR / "secret_key"))
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


DEBUG = env_bool("KYPHOS_DEBUG", False)
SECRET_KEY = read_secret_key()
ALLOWED_HOSTS = env_list("KYPHOS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("KYPHOS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First: its ready() sets the form messages before any other app defines a form.
    "kyphos",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "kyphos.audit",
    "kyphos.patients",
    "kyphos.scheduling",
    "kyphos.pathway",
    "kyphos.messaging",
    "kyphos.labs",
    "kyphos.precall",
    "kyphos.procedure",
    "kyphos.aftercare",
    "kyphos.portal",
    "kyphos.interop",
    "kyphos.reports",
    "kyphos.demo",
    "kyphos.web",
]

MIDDLEWARE = [
    # First: it times the whole of every request for /metrics.
    "kyphos.web.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kyphos.web.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "kyphos.web.middleware.IdleSignOutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kyphos.web.second_factor.SecondFactorMiddleware",
    "kyphos.web.scope.SiteScopeMiddleware",
    "kyphos.web.middleware.CurrentRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kyphos.audit.middleware.ClientAddressMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kyphos.urls"
WSGI_APPLICATION = "kyphos.wsgi.application"

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
                "kyphos.web.context.kyphos",
            ],
        },
    }
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {"default": sqlite_database(Path(os.environ.get("KYPHOS_SQLITE", VAR_DIR / "kyphos.sqlite3")))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password guesses are limited (kyphos.web.signin): django-axes first, then Django's own check of the password.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5  # for one user name; twenty for one address (kyphos.web.signin.ADDRESS_FAILURE_LIMIT)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the address among the lock-out keys: kyphos.web.signin counts the address's failures itself.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# A try while locked gets the lock-out page and does not push the end of the lock further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "kyphos.web.signin.SignInHandler"
AXES_LOCKOUT_CALLABLE = "kyphos.web.signin.locked_out"
AXES_CLIENT_IP_CALLABLE = "kyphos.web.signin.client_ip"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The languages Kyphos speaks: English is the source; each other one is a catalogue in src/kyphos/locale/.
LANGUAGES = [("en", "English"), ("es", "Español")]
# The site's language: the staff pages, the commands, and what services store (timeline, task notes) use it.
# Patients read their own pages, letters and messages in their own language whatever this is.
LANGUAGE_CODE = os.environ.get("KYPHOS_LANGUAGE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"KYPHOS_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}.")
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
# Stored times are UTC; screens show the site's zone (see kyphos.web.templatetags.kyphos_time).
TIME_ZONE = os.environ.get("KYPHOS_USER_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only needed for `kyphos collectstatic` behind a separate web server; WhiteNoise serves from the package.
STATIC_ROOT = os.environ.get("KYPHOS_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve app static files straight from the package, so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60  # one clinical shift at most
# A session with no request for this long ends (the page warns a minute before): kyphos.web.middleware.
_idle = os.environ.get("KYPHOS_IDLE_MINUTES", "15")
if not _idle.isdigit() or not 2 <= int(_idle) <= 480:
    raise ImproperlyConfigured(f"KYPHOS_IDLE_MINUTES must be a whole number of minutes from 2 to 480, not {_idle!r}.")
KYPHOS_IDLE_MINUTES = int(_idle)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Behind TLS (a proxy that terminates HTTPS and says so in X-Forwarded-Proto): secure cookies, HSTS, and plain
# HTTP redirected to HTTPS. `kyphos serve` refuses to start for real when any of Django's HTTPS checks fails then.
KYPHOS_HTTPS = env_bool("KYPHOS_HTTPS", False)
# The proxy whose X-Forwarded-Proto and X-Forwarded-For headers are believed (waitress drops them from anyone else).
KYPHOS_TRUSTED_PROXY = os.environ.get("KYPHOS_TRUSTED_PROXY", "127.0.0.1")
SESSION_COOKIE_SECURE = KYPHOS_HTTPS
CSRF_COOKIE_SECURE = KYPHOS_HTTPS
if KYPHOS_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere (a stored letter's own style block is let in by its hash: messaging.letters),
# nothing from another origin, no framing; images may be data: URIs (a letterhead's logo).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Patient data never goes to logs: only our own messages at INFO, and request errors without bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_links": {"()": "kyphos.logs.RedactPatientLinks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_links"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # django.request would log every 4xx with its path; server errors are still logged.
    "loggers": {
        "django.request": {"level": "ERROR"},
        "kyphos": {"level": os.environ.get("KYPHOS_LOG_LEVEL", "INFO"), "propagate": True},
        # Failed sign-ins are audit entries (with the address); axes's own lines would repeat them in the log.
        "axes": {"level": "ERROR"},
        # A PACS that does not answer is reported by Kyphos itself, once, with the reason; pynetdicom's own lines
        # would repeat it for every try (and at lower levels carry patient data from the images).
        "pynetdicom": {"level": "CRITICAL"},
    },
}

KYPHOS_PAGE_SIZE = 50

# Messages to patients. `make run` writes e-mail and texts to files under var/; production sets SMTP.
EMAIL_BACKEND = os.environ.get("KYPHOS_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("KYPHOS_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KYPHOS_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("KYPHOS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KYPHOS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KYPHOS_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("KYPHOS_EMAIL_FROM", "kyphos@localhost")
KYPHOS_SMS_GATEWAY = os.environ.get("KYPHOS_SMS_GATEWAY", "kyphos.messaging.gateways.FileSmsGateway")
KYPHOS_SMS_DIR = str(VAR_DIR / "sms")
# For kyphos.messaging.gateways.HttpSmsGateway: the provider's endpoint and bearer token.
KYPHOS_SMS_URL = os.environ.get("KYPHOS_SMS_URL", "")
KYPHOS_SMS_TOKEN = os.environ.get("KYPHOS_SMS_TOKEN", "")
# How long a worker holds a message it claimed before another worker may take it over (it may have died after the
# hand-over: the repeat carries the same key). Longer than any gateway call; the bench shortens it.
# Roles that need a second factor besides administrators, managers and auditors (always), comma-separated.
_ROLE_NAMES = {"scheduler", "nurse", "radiologist", "anesthesia", "ward_nurse", "manager", "auditor", "admin"}
KYPHOS_SECOND_FACTOR_ROLES = [
    r for r in os.environ.get("KYPHOS_SECOND_FACTOR_ROLES", "").replace(" ", "").split(",") if r
]
if set(KYPHOS_SECOND_FACTOR_ROLES) - _ROLE_NAMES:
    raise ImproperlyConfigured(
        f"KYPHOS_SECOND_FACTOR_ROLES names unknown roles {sorted(set(KYPHOS_SECOND_FACTOR_ROLES) - _ROLE_NAMES)}; "
        f"known: {', '.join(sorted(_ROLE_NAMES))}."
    )
OTP_TOTP_ISSUER = "Kyphos"
# HL7 v2 (kyphos.interop): how Kyphos names itself in the ACKs (MSH-3/4), what it answers to a message type it
# does not handle ("accept": AA, recorded as not applicable; "reject": AR), the largest message and how long a
# quiet connection stays open.
KYPHOS_HL7_APPLICATION = os.environ.get("KYPHOS_HL7_APPLICATION", "KYPHOS")
KYPHOS_HL7_FACILITY = os.environ.get("KYPHOS_HL7_FACILITY", "KYPHOS")
KYPHOS_HL7_UNHANDLED = os.environ.get("KYPHOS_HL7_UNHANDLED", "accept")
if KYPHOS_HL7_UNHANDLED not in {"accept", "reject"}:
    raise ImproperlyConfigured(f"KYPHOS_HL7_UNHANDLED must be accept or reject, not {KYPHOS_HL7_UNHANDLED!r}.")
_hl7_max = os.environ.get("KYPHOS_HL7_MAX_BYTES", str(4 * 1024 * 1024))
_hl7_idle = os.environ.get("KYPHOS_HL7_IDLE_SECONDS", "600")
if not _hl7_max.isdigit() or not 1024 <= int(_hl7_max) <= 256 * 1024 * 1024:
    raise ImproperlyConfigured(f"KYPHOS_HL7_MAX_BYTES must be whole bytes from 1024 to 268435456, not {_hl7_max!r}.")
if not _hl7_idle.isdigit() or not 1 <= int(_hl7_idle) <= 86400:
    raise ImproperlyConfigured(f"KYPHOS_HL7_IDLE_SECONDS must be whole seconds from 1 to 86400, not {_hl7_idle!r}.")
KYPHOS_HL7_MAX_BYTES = int(_hl7_max)
KYPHOS_HL7_IDLE_SECONDS = int(_hl7_idle)
# Outbound: how many times a message with no ACK is tried before it is set aside as not sent (waits 5 s, 10 s,
# 20 s … up to 5 min between tries).
_hl7_attempts = os.environ.get("KYPHOS_HL7_SEND_ATTEMPTS", "8")
if not _hl7_attempts.isdigit() or not 1 <= int(_hl7_attempts) <= 100:
    raise ImproperlyConfigured(f"KYPHOS_HL7_SEND_ATTEMPTS must be a whole number from 1 to 100, not {_hl7_attempts!r}.")
KYPHOS_HL7_SEND_ATTEMPTS = int(_hl7_attempts)
_lease = os.environ.get("KYPHOS_OUTBOX_LEASE_SECONDS", "300")
if not _lease.isdigit() or not 1 <= int(_lease) <= 3600:
    raise ImproperlyConfigured(f"KYPHOS_OUTBOX_LEASE_SECONDS must be whole seconds from 1 to 3600, not {_lease!r}.")
KYPHOS_OUTBOX_LEASE_SECONDS = int(_lease)
# FHIR: the API's own address as clients reach it (behind a proxy), Bulk Data export files and their lifetime.
KYPHOS_FHIR_BASE_URL = os.environ.get("KYPHOS_FHIR_BASE_URL", "").rstrip("/")
KYPHOS_FHIR_EXPORT_DIR = Path(os.environ.get("KYPHOS_FHIR_EXPORT_DIR", VAR_DIR / "exports"))
# Monitoring: who may read /metrics (addresses or networks, comma separated), and how long a silent worker is
# taken as stopped (/healthz answers 503 then).
KYPHOS_METRICS_ALLOW = os.environ.get("KYPHOS_METRICS_ALLOW", "127.0.0.1/32,::1/128")
KYPHOS_WORKER_STALE_SECONDS = int(os.environ.get("KYPHOS_WORKER_STALE_SECONDS", "120"))
# The dashboard's cache: a month still settling (its follow-up windows open) is recomputed at most this often.
KYPHOS_DASHBOARD_REFRESH_SECONDS = int(os.environ.get("KYPHOS_DASHBOARD_REFRESH_SECONDS", "300"))
KYPHOS_HEALTH_WORKER = True  # `kyphos serve --no-worker` turns it off for itself: no worker is expected there
# Outside imaging: files of a patient's CD waiting to be stored (an upload, or a disc in quarantine); the images
# kept by Kyphos itself when a site has no PACS; reports uploaded on a case.
KYPHOS_OUTSIDE_DIR = Path(os.environ.get("KYPHOS_OUTSIDE_DIR", VAR_DIR / "outside"))
KYPHOS_IMAGE_DIR = Path(os.environ.get("KYPHOS_IMAGE_DIR", VAR_DIR / "images"))
KYPHOS_DOCUMENT_DIR = Path(os.environ.get("KYPHOS_DOCUMENT_DIR", VAR_DIR / "documents"))
# A CD's folder is uploaded file by file (Django's default allows 100 files per request).
DATA_UPLOAD_MAX_NUMBER_FILES = 20_000
# The largest CD upload (a ZIP, or a folder's files together) the staff page takes, in bytes.
KYPHOS_MAX_CD_UPLOAD = int(os.environ.get("KYPHOS_MAX_CD_UPLOAD", str(2 * 1024**3)))
_export_slice = os.environ.get("KYPHOS_FHIR_EXPORT_SLICE", "5000")
_export_hours = os.environ.get("KYPHOS_FHIR_EXPORT_HOURS", "24")
if not _export_slice.isdigit() or not 100 <= int(_export_slice) <= 1_000_000:
    raise ImproperlyConfigured(
        f"KYPHOS_FHIR_EXPORT_SLICE must be a whole number from 100 to 1000000, not {_export_slice!r}."
    )
if not _export_hours.isdigit() or not 1 <= int(_export_hours) <= 720:
    raise ImproperlyConfigured(f"KYPHOS_FHIR_EXPORT_HOURS must be whole hours from 1 to 720, not {_export_hours!r}.")
KYPHOS_FHIR_EXPORT_SLICE = int(_export_slice)
KYPHOS_FHIR_EXPORT_HOURS = int(_export_hours)
# The address patients' links point at (the hospital's own host name in production).
KYPHOS_BASE_URL = os.environ.get("KYPHOS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
