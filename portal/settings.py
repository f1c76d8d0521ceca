"""Settings for the Complete Community Portal.

All configuration comes from environment variables (see the README's configuration table). The
defaults are safe for a developer's machine: no debug pages, and only localhost is served.
"""

import os
from pathlib import Path

import pghistory
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from portal.lib.dbpool import check_connection
from portal.lib.env import env_bool, env_int, env_list, env_str, parse_database_url
from portal.lib.storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "testserver"}

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not set(ALLOWED_HOSTS) <= _LOCAL_HOSTS:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when ALLOWED_HOSTS names a public host "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    # Only ever used on a machine that serves nobody but itself.
    SECRET_KEY = "local-only-insecure-key-set-SECRET_KEY-for-any-real-host"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the staff desk
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # the finder's text-search index (facilities.wording)
    "django_htmx",
    # The audit trail (portal/audit.py): row triggers in PostgreSQL record every change.
    "pgtrigger",
    "pghistory",
    # Two-step sign-in (communities/two_factor.py): authenticator apps and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "communities",
    "streets",
    "facilities",
    "courses",
    "residents",
    "wishes",
    # Django's tasks framework keeps its jobs in PostgreSQL, shared by every worker (before
    # notices, whose admin takes the jobs' list out of the back office).
    "django_tasks_db",
    # Messages to residents and staff (an outbox delivered by workers): notices/.
    "notices",
    "reports",
    "opendata",
    # The project package: its composite pages (portal/pages.py) and load_demo top every app.
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app server itself, compressed and under hashed names (README
    # "Production"): one process is a complete site.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # While the database cannot be reached: a 503 page with Retry-After at once, before the
    # session or the user is read (portal/outage.py).
    "portal.outage.OutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.CookieLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL in the address is a 400 before any view hands it to PostgreSQL (a 500 otherwise).
    "portal.middleware.NulInAddressMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # request.user, with is_verified() (whether this session passed the second sign-in step)
    # and the scope of its roles: from the snapshot read with the session in one round trip
    # (communities/sessions.py), in place of Django's and django-otp's middleware.
    "communities.sessions.AccountMiddleware",
    # Attaches the signed-in user and the path to every change the request makes (the audit
    # trail's "who").
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    "communities.two_factor.SecondFactorMiddleware",
    # Remembers, after a successful sign-in, that this browser knows the account
    # (communities/signin.py).
    "communities.signin.KnownDeviceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: fills each page's holes with the parts of the person it answers (portal/personal.py).
    "portal.personal.PersonalPartsMiddleware",
]

# Audit events carry the moment of the change itself rather than the start of its transaction,
# so the changes of one long import or form save keep their order across tables.
PGHISTORY_CREATED_AT_FUNCTION = "clock_timestamp()"
# Who and where (user, path or command) is copied into each event row rather than kept once in
# a shared context row: upserting that shared row from every row trigger made a 400,000-row
# bulk insert 25 times slower.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
# One trigger call per statement, reading the changed rows as a set: bulk inserts and updates
# (imports, the generated city) record their history in one INSERT … SELECT each.
PGHISTORY_LEVEL = pghistory.Statement
# Who and where is attached to the requests that change things. A GET changes nothing, and
# tracking it put a set_config() before every query of every page.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.display",
            ],
        },
    },
]

# Database: PostgreSQL only. `make run` / `make test` export DATABASE_URL, pointing either at the
# server given by the environment or at the project-local one (portal/localdb.py).
_database_url = env_str("DATABASE_URL", "")
if not _database_url:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test` (they start a project-local "
        "PostgreSQL), or export DATABASE_URL=postgres://user@host:5432/name."
    )
# Behind a pooler in transaction mode (PgBouncer, README "Scaling out"), consecutive transactions
# of one connection may run on different server connections: no cursor may outlive its
# transaction (Django's server-side cursors, which ModelChoiceField's iterator() opens WITH HOLD
# outside a transaction, would), and no startup option reaches the server (PgBouncer refuses
# `options`: set jit = off on the database or in PgBouncer's connect_query instead). The portal
# keeps no other session state (no SET, no advisory lock, no LISTEN) and Django prepares no
# statements (psycopg's prepare_threshold is None).
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)


def _database(url: str) -> dict:
    database = parse_database_url(url)
    options = database["OPTIONS"]
    # No JIT compilation: the portal's queries are short, and PostgreSQL's cost estimate for the
    # open-now filter (nested EXISTS) is high enough to trigger JIT, which then spends ~0.7 s
    # compiling a query that runs in a millisecond. A DATABASE_URL may still set its own options.
    if not DATABASE_TRANSACTION_POOLING and "jit" not in options.get("options", ""):
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    # While PostgreSQL is unreachable, pages answer 503 within a few seconds rather than hang
    # (README "Database outages"): a connection attempt gives up after 3 s unless the URL says
    # otherwise.
    options.setdefault("connect_timeout", "3")
    if env_bool("DATABASE_POOL", True):
        # psycopg's pool keeps connections warm inside each app server process.
        options["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 1),
            "max_size": env_int("DATABASE_POOL_MAX", 8),
            # How long a request waits for a connection before it gets the outage page. Under
            # load every thread is served at once (a process has fewer threads than
            # connections), so only an outage waits this long; a request queued behind threads
            # that were waiting can wait twice this, so it stays short.
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 2),
            # A connection not handed out in the last 0.1 s is tested (one empty query) before a
            # request gets it, so none killed by a database restart fails a request
            # (portal/lib/dbpool.py; the cost is measured in the README).
            "check": check_connection if env_bool("DATABASE_POOL_CHECK", True) else None,
            # A lost connection is retried after 1 s and again at 2 s, then left to the next
            # request that waits (one a second while the database is down, portal/outage.py):
            # the pool is back within about a second of the database.
            "reconnect_timeout": 2,
        }
    else:
        database["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 0)
        # A persistent connection (CONN_MAX_AGE > 0) is tested before each request reuses it.
        database["CONN_HEALTH_CHECKS"] = True
    database["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_TRANSACTION_POOLING
    return database


DATABASES = {"default": _database(_database_url)}
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or None}
# A streaming read replica: the officials' reports and the open-data API read from it, everything
# else from the primary (portal/dbrouter.py). Tests run against the primary alone.
_replica_url = env_str("DATABASE_REPLICA_URL", "")
if _replica_url:
    DATABASES["replica"] = _database(_replica_url) | {"TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["portal.dbrouter.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("portal.outage.OutageMiddleware") + 1, "portal.dbrouter.ReplicaMiddleware"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache and sessions live in a store every app server shares, so two servers behind a balancer
# behave as one: Redis when REDIS_URL is set, else the database.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping one client per connection pool (portal/lib/rediscache.py).
            "BACKEND": "portal.lib.rediscache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }
    # Read from Redis, written through to PostgreSQL: fast, and a Redis restart signs nobody out.
    # The session is read with its account (communities/sessions.py).
    SESSION_ENGINE = "communities.sessions"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }
    # The same engine: the session and its account in one query of the cache table, written
    # through to the sessions table.
    SESSION_ENGINE = "communities.sessions"

# Behind a TLS-terminating proxy (see README "Production"): trust its scheme header, send cookies
# over HTTPS only and ask browsers to stay on HTTPS.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
# The allowances per account and address on enrolment and support (portal/lib/ratelimit.py).
# Off only for benchmarks and the fault test, where thousands of people share one address.
ALLOWANCES = env_bool("ALLOWANCES", True)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    # includeSubDomains covers the portal's own host and the hosts under it (photos.<host>,
    # say), not its siblings on the government domain; preload only says the portal agrees to
    # the browsers' list, which the owner of the registrable domain alone can submit.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = BEHIND_TLS_PROXY

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
# The language switch is remembered like elder mode: for a year, not just this browser session.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Project overrides of Django's locale formats (portal/formats/zh_Hans: thousands separators).
FORMAT_MODULE_PATH = ["portal.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / ".local" / "staticfiles")))
# collectstatic writes each file under a content-hashed name with gzip and brotli copies, and
# WhiteNoise serves those with a far-future, immutable cache header. Tests and the development
# server read the source files as they are (no collectstatic needed).
# Photos: the local media folder, or S3-compatible object storage when MEDIA_S3_BUCKET is set
# (portal/lib/storage.py; README "Photos").
MEDIA_STORAGE = media_storage(os.environ)
STORAGES = {
    "default": MEDIA_STORAGE.backend,
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".local" / "media")))

# Strict Content Security Policy: only our own origin, no inline script or style anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *MEDIA_STORAGE.origins],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
# Staff and administrators are signed out after this long without a request
# (portal.middleware.StaffIdleTimeoutMiddleware).
STAFF_IDLE_SECONDS = env_int("STAFF_IDLE_SECONDS", 30 * 60)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# The load benchmark's floor page (portal.views.floor): off unless bench/load.py asks for it.
BENCH_FLOOR = env_bool("BENCH_FLOOR", False)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "communities:account"
LOGOUT_REDIRECT_URL = "communities:home"
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = "完整社区服务平台"

# Elder mode (长者模式) is remembered in this cookie for a year; see communities.views.set_display.
ELDER_MODE_COOKIE = "elder_mode"

# Messages (notices/, README "Messages"): an outbox written with each change, delivered by
# `manage.py work` through Django's tasks framework, its jobs kept in PostgreSQL.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["notices"]}}
# The address links in messages point at (an SMS carries the whole address).
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")
# false writes no messages at all: for a deployment that tells nobody, and for bench/messages.py.
NOTICES_OUTBOX = env_bool("NOTICES_OUTBOX", True)
# Which channel carries each way of telling: "aliyun" (Alibaba Cloud SMS) or "console" for SMS;
# "smtp" (Django's email settings) or "console" for email. "console" writes each message to
# NOTICES_CONSOLE_FILE (or the worker's output when empty).
NOTICES_SMS = env_str("NOTICES_SMS", "console")
NOTICES_EMAIL = env_str("NOTICES_EMAIL", "console")
NOTICES_CONSOLE_FILE = env_str("NOTICES_CONSOLE_FILE", "")
ALIYUN_SMS_ENDPOINT = env_str("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
ALIYUN_ACCESS_KEY_ID = env_str("ALIYUN_ACCESS_KEY_ID", "")
ALIYUN_ACCESS_KEY_SECRET = env_str("ALIYUN_ACCESS_KEY_SECRET", "")
ALIYUN_SMS_SIGN_NAME = env_str("ALIYUN_SMS_SIGN_NAME", "完整社区")
# The template codes the provider approved, as "kind.language=CODE,…" (notices/kinds.py lists
# the kinds and the text each template must carry); a kind not named uses its own default code.
ALIYUN_SMS_TEMPLATES = env_str("ALIYUN_SMS_TEMPLATES", "")
# The secret part of the address the provider pushes residents' replies to
# (/notices/sms-replies/<token>/): a reply "T" stops their messages. Empty: no such address.
ALIYUN_SMS_REPLY_TOKEN = env_str("ALIYUN_SMS_REPLY_TOKEN", "")
# Email for NOTICES_EMAIL=smtp: an SMTP server (Django's mailers).
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "timeout": env_int("NOTICES_TIMEOUT_SECONDS", 10),
        },
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")
# Delivery: a failed attempt waits base × 2ⁿ seconds (at most the cap), up to the attempts
# allowed; an attempt unanswered after the lease is taken over by another worker.
NOTICES_RETRY_BASE_SECONDS = env_int("NOTICES_RETRY_BASE_SECONDS", 30)
NOTICES_RETRY_MAX_SECONDS = env_int("NOTICES_RETRY_MAX_SECONDS", 1800)
NOTICES_MAX_ATTEMPTS = env_int("NOTICES_MAX_ATTEMPTS", 12)
NOTICES_LEASE_SECONDS = env_int("NOTICES_LEASE_SECONDS", 120)
NOTICES_SWEEP_SECONDS = env_int("NOTICES_SWEEP_SECONDS", 30)
NOTICES_TIMEOUT_SECONDS = env_int("NOTICES_TIMEOUT_SECONDS", 10)
# A message's text is kept this long after it was delivered or gave up (purge_expired).
NOTICES_KEEP_DAYS = env_int("NOTICES_KEEP_DAYS", 30)
# When the staff's daily digest goes out (local time, 24-hour).
NOTICES_DIGEST_HOUR = env_int("NOTICES_DIGEST_HOUR", 8)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The tasks framework writes a line as each job starts and ends: only its warnings are kept
    # (the outbox records what became of each message).
    "loggers": {
        "django.tasks": {"level": env_str("TASKS_LOG_LEVEL", "WARNING")},
        "django_tasks_db": {"level": env_str("TASKS_LOG_LEVEL", "WARNING")},
    },
}

if env_bool("TESTING", False) or "PYTEST_VERSION" in os.environ:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "STATICFILES_BACKEND" not in os.environ:
        STORAGES["staticfiles"] = {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        }
        # Tests read the source files (no collectstatic): WhiteNoise finds them there.
        STATIC_ROOT = None
        WHITENOISE_USE_FINDERS = True
if "PYTEST_VERSION" in os.environ and not REDIS_URL:
    # Each test starts with an empty cache (tests/conftest.py). The servers that the
    # two-server test starts run outside pytest, so they share the database cache.
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
