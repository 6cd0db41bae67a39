"""Settings for Stance, read from the environment.

One module for every environment: `make run` sets DEBUG=1 for development, production
sets SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL. Without DEBUG the settings fail closed.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def env_bool(name: str, default: bool = False) -> bool:
    """A yes/no variable; unset or empty is the default. Any other spelling stops the start:
    a typo (SECURE_COOKIES=flase) must not silently switch a protection off."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return BOOLEANS[value.lower()]
    except KeyError:
        raise ImproperlyConfigured(
            f"{name} must be one of 1/0/true/false/yes/no/on/off, not {value!r}."
        ) from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole number of at least `minimum`; unset or empty is the default."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_int_between(name: str, default: int, minimum: int, maximum: int) -> int:
    """A whole number from `minimum` to `maximum`; unset or empty is the default."""
    number = env_int(name, default, minimum=minimum)
    if number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    """A finite number of at least `minimum`; unset or empty is the default."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None
    if not math.isfinite(number) or number < minimum:
        raise ImproperlyConfigured(f"{name} must be a number of at least {minimum}, not {value!r}.")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of a few known words (case-insensitive, given back as spelled in `choices`)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name} must be one of {'/'.join(choices)}, not {value!r}.")


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or DEBUG=1 for development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # annotate before django_tasks_db: its `db_worker` (niced, WORKER_NICE) overrides theirs.
    "annotate",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

# Background tasks (retraining) are stored in the database and run by `manage.py db_worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Uploads from the browser (/uploads/, annotate/uploads.py): a file larger than
# UPLOAD_MAX_BYTES is refused; an upload whose files together hold more than
# UPLOAD_INLINE_MAX_BYTES is imported by the background worker (`manage.py db_worker`), a
# smaller one within the confirming request.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
UPLOAD_INLINE_MAX_BYTES = env_int("UPLOAD_INLINE_MAX_BYTES", 200_000)
# Sentence embeddings (all-MiniLM-L6-v2, int8 ONNX, from the installed wheel; nothing is
# downloaded): computed once a sentence by the task worker after an import, stored, and a
# third feature block beside the two TF-IDF blocks in every retrain (annotate/embedding_store.py).
# On by default: on NewsMTSC's devtest splits it adds +3.5 and +7.2 F_avg to TF-IDF, +7.1 and
# +7.9 with the target's mentions marked (benchmarks/newsmtsc.py). Off: TF-IDF alone.
SENTENCE_EMBEDDINGS = env_bool("SENTENCE_EMBEDDINGS", True)

# Processes a retrain spreads its work over (cross-validation folds, suggestion chunks):
# the machine's cores by default, at most 4, since each holds a copy of the model.
MODEL_WORKERS = env_int("MODEL_WORKERS", min(os.cpu_count() or 1, 4), minimum=1)
# The niceness `manage.py db_worker` runs at (0-19): retrains and embeddings take every core
# for minutes, and at the web's priority they slowed the label round trip 1.5-2.5x
# (benchmarks/load.py --during-retrain); niced, annotators' requests get the CPU first.
WORKER_NICE = env_int_between("WORKER_NICE", 10, minimum=0, maximum=19)

# Trained models are pickled here; only files this app wrote (and whose hash it recorded) are loaded.
MODEL_DIR = Path(os.environ.get("MODEL_DIR", str(BASE_DIR / "models")))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A database that cannot be reached gives a 503 "retry shortly", not a 500 page.
    "annotate.middleware.DatabaseUnavailableMiddleware",
    # Every page needs a login except those marked @login_not_required (the login page).
    "annotate.middleware.StanceLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# Brute-force protection for the login form and the Django admin's (django-axes): after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is locked out
# for an hour. The pair, not the username alone, so a stranger's wrong passwords cannot lock
# a user out of their own address, and not the address alone, so the people behind one
# office NAT or proxy do not lock each other out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address. Directly reachable (AXES_PROXY_COUNT=0): REMOTE_ADDR. Behind N
# reverse proxies, REMOTE_ADDR is the nearest proxy's, the same for everyone: the address is
# read from X-Forwarded-For, where each proxy appends the address it received the request
# from, so the client's is the N-th from the right (django-ipware counts the proxies listed
# in the header, one fewer). Entries further left are the client's own claims and ignored;
# not strict, so a client that sends its own X-Forwarded-For is still counted from the right
# instead of falling back to the proxy's address. Without the header: REMOTE_ADDR.
# (Not named AXES_PROXY_COUNT here: django-axes would read that as its legacy setting.)
reverse_proxies = env_int("AXES_PROXY_COUNT", 0)
AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...]
if reverse_proxies:
    AXES_IPWARE_PROXY_COUNT = reverse_proxies - 1
    AXES_IPWARE_PROXY_ORDER = "left-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# Content-Security-Policy (django-csp): no inline script anywhere, nothing from other hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "stance.urls"
WSGI_APPLICATION = "stance.wsgi.application"
ASGI_APPLICATION = "stance.asgi.application"

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
                "annotate.context_processors.roles",
            ],
        },
    },
]

# SQLite is the embedded default; PostgreSQL through DATABASE_URL in production.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    # Server-side binding with prepared statements: each connection plans the label round
    # trip's statements once instead of on every label (planning the queue search took
    # ~0.5 ms of the server's CPU, ten times running it; benchmarks/load.py measured
    # PostgreSQL's CPU a label halved). Set PG_PREPARED_STATEMENTS=0 behind a pooler in
    # transaction mode (PgBouncer), which cannot keep a statement on a connection.
    # The planner's cost of a random page read against a sequential one. PostgreSQL's
    # default, 4, is for spinning disks: on SSDs and a cached working set it made the
    # agreement's by-article counts (5,000 sentences out of 500,000) scan the whole tally
    # table instead of looking each sentence up (130 ms against 35 ms at a million labels,
    # benchmarks/pages.py). 1.1 is the usual SSD value; set it to the server's own if a DBA
    # tuned it.
    # JIT compilation off unless PG_JIT=1: PostgreSQL compiles a query whose estimated cost
    # passes jit_above_cost, which the dashboard's counts at a million labels do; compiling
    # took 0.49 s of the dynamic-overlap figure's 0.82 s (EXPLAIN ANALYZE, benchmarks/pages.py),
    # and a web request's queries never run long enough to win that back.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c random_page_cost={env_float('PG_RANDOM_PAGE_COST', 1.1, minimum=0.01)}"
        f" -c jit={'on' if env_bool('PG_JIT', False) else 'off'}"
    )
    if env_bool("PG_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"] = {
            **DATABASES["default"].get("OPTIONS", {}),
            "server_side_binding": True,
            "prepare_threshold": 5,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets readers work while one annotator writes; the busy timeout makes
                # writers queue instead of failing with "database is locked", and IMMEDIATE
                # takes the write lock at BEGIN so a read-then-write transaction cannot
                # deadlock against another one.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": env_int("SQLITE_TIMEOUT", 30),
                "transaction_mode": "IMMEDIATE",
            },
            # A file, not the in-memory default, so tests see WAL and the busy timeout
            # exactly as concurrent annotators do.
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "test-db.sqlite3"))},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_settings(redis_url: str) -> dict[str, dict[str, object]]:
    """Django's local-memory cache, or its Redis cache when REDIS_URL is set.

    Progress inputs are cached; several app hosts behind a load balancer must read one
    cache to agree on them, so production with more than one host sets REDIS_URL. A URL
    that is not redis://, rediss:// or unix:// is refused rather than ignored."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis://, rediss:// or unix://, not {redis_url!r}."
        )
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            # Keys of several deployments sharing one Redis stay apart.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "stance"),
        }
    }


CACHES = cache_settings(os.environ.get("REDIS_URL", "").strip())

if env_bool("FAST_PASSWORD_HASHER"):
    # Tests only (set in pyproject.toml): hashing with PBKDF2 dominates a suite that makes
    # thousands of users. Never set it in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# How long an invite link (the team page, annotate/team.py) works, in days, if nobody has
# used it meanwhile: it works once.
INVITE_EXPIRY_DAYS = env_int("INVITE_EXPIRY_DAYS", 7, minimum=1)

# E-mail, for the password-reset links and nothing else. EMAIL_HOST set: sent over SMTP.
# Otherwise, with DEBUG, printed on the console (the link can be followed from there).
# Without either the reset pages answer 404 (stance/urls.py): a user told "we've e-mailed
# you" when no mail can leave would wait for nothing, and nothing tries localhost:25.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10  # seconds: a stuck mail server must not hold a worker for long
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "stance@localhost")
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST) or DEBUG

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
# Without the manifest (development, tests) whitenoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security: strict by default, relaxed only by DEBUG or explicit environment values.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The REST API (annotate/api): session login for the browser, tokens for scripts (admins
# issue them), JSON everywhere, every list paginated, errors as {"detail": ...}.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: it names itself in WWW-Authenticate, so a missing login is a 401.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PARSER_CLASSES": ["annotate.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "annotate.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "annotate.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "annotate.api.schema.StanceAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The OpenAPI schema (/api/schema/, committed as docs/openapi.yaml) and Swagger UI
# (/api/docs/) from drf-spectacular-sidecar's bundled files: nothing from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Stance API",
    "DESCRIPTION": "Label the stance of news sentences toward a target; read suggestions, "
    "agreement and exports. Authenticate with `Authorization: Token <key>` or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies list their required fields (a label change needs the label).
    "COMPONENT_SPLIT_PATCH": False,
    "ENUM_NAME_OVERRIDES": {
        "LabelEnum": "annotate.models.Label.choices",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The views' documentation is applied here, not where they are defined (annotate.api.docs).
    "PREPROCESSING_HOOKS": ["annotate.api.schema.documentation_hook"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "WARNING", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    },
}
