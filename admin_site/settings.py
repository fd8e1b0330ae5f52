"""bunryu settings, read from the environment.

With no variables set, the site runs on its embedded default: SQLite (WAL), a Celery broker in local
folders (no server), model files in ./var/models. Production and tests set DATABASE_URL (PostgreSQL),
CELERY_BROKER_URL (Redis) and SEARCH_URL (opensearch://host:port or elasticsearch://host:port).
"""

import os
import secrets
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from training.rates import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BUNRYU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """SECRET_KEY from the environment, else from a local file generated on first run."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_flag("DEBUG")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "simple_history",
    "django_celery_beat",
    "core",
    "labeling",
    "training",
    "catalog",
    "indexing",
]

MIDDLEWARE = [
    "admin_site.middleware.BodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Ordinary classification requests are answered here, the rest go on (training/middleware.py); it sets the
    # Content-Security-Policy the next one would.
    "training.middleware.ClassifyShortcutMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # These four serve the pages; API requests with a token pass them (admin_site/middleware.py).
    "admin_site.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "admin_site.middleware.BrowserCsrfViewMiddleware",
    "admin_site.middleware.BrowserAuthenticationMiddleware",
    "admin_site.middleware.BrowserMessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a login refused for too many failures into the "locked" page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "admin_site.urls"
WSGI_APPLICATION = "admin_site.wsgi.application"
ASGI_APPLICATION = "admin_site.asgi.application"

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
                "core.roles.role_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SILENCED_SYSTEM_CHECKS: list[str] = []
SQLITE_PATH = VAR_DIR / "bunryu.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the Celery worker writes; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Content's id index carries text_hash as a non-key column (INCLUDE) on PostgreSQL; SQLite builds it
    # without, which is all the embedded default needs: no warning printed by every command.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked for LOGIN_LOCKOUT_MINUTES (other people and addresses are not); every failure is logged
# (admin: Axes > Access attempts / failures; deleting the attempt unlocks, as does `axes_reset_username`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure a row (admin: Access failures), not only the count
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"
AXES_VERBOSE = False  # no banner printed by every command
# Proxies in front of the site that append to X-Forwarded-For (0: the address is REMOTE_ADDR itself).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "labeling:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Plotly's browser bundle comes from the installed plotly package (the Python side's version; no CDN).
# Found, not imported: importing plotly costs every command's start-up.
_PLOTLY = Path(find_spec("plotly").origin).parent
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", _PLOTLY / "package_data")]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# `collectstatic` (run by `make run`) writes every file under a name carrying its content's hash, with a
# gzip copy beside it; WhiteNoise serves those compressed and cached for a year (immutable): a browser never
# asks again until the file, hence its name, changes.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 60  # the files whose names carry no hash (a year for the hashed ones)

MODEL_DIR = Path(os.environ.get("MODEL_DIR", VAR_DIR / "models"))

# --- Celery ---------------------------------------------------------------------------------
CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "results", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    _default_results = f"file://{CELERY_QUEUE_DIR / 'results'}"
else:
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", _default_results)


def _redis_cache_url() -> str:
    """REDIS_URL, else the broker's Redis server with a database of its own (2; the broker and the results
    use 0 and 1), so that clearing the cache never empties a queue. Empty: no Redis configured."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return ""
    return urlsplit(CELERY_BROKER_URL)._replace(path="/2").geturl()


# Counters and remembered lookups that must hold for the whole site (the classify throttle, the API token
# cache's invalidation, the dirty check) live in Redis when there is one; the embedded default keeps them
# in each process's memory.
REDIS_CACHE_URL = _redis_cache_url()
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SharedClientRedisCache",  # one Redis client per pool (core/cache.py)
            "LOCATION": REDIS_CACHE_URL,
            "KEY_PREFIX": "bunryu",
        }
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 3600))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 3900))
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE
# Training gets its own queue so a long run never holds up imports and rollbacks; a worker for both
# listens with `-Q celery,training` (scripts/run.sh), dedicated training machines with `-Q training`.
CELERY_TASK_ROUTES = {"training.tasks.training_run_task": {"queue": "training"}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Dead work is noticed within WORKER_LOST_AFTER_SECONDS + WORKER_CHECK_SECONDS (90 s by default): a training
# run whose heartbeat (every 10 s) stopped that long ago, a job its worker no longer holds (core/reaping.py).
WORKER_LOST_AFTER_SECONDS = float(os.environ.get("WORKER_LOST_AFTER_SECONDS", 60))
WORKER_CHECK_SECONDS = float(os.environ.get("WORKER_CHECK_SECONDS", 30))
CELERY_BEAT_SCHEDULE = {
    # new and changed offers join their catalogs every night (a full rebuild is a button and a command)
    "catalog-daily-attach": {
        "task": "catalog.tasks.catalog_daily_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "training-reap-stale-runs": {
        "task": "training.tasks.training_runs_reap_task",
        "schedule": WORKER_CHECK_SECONDS,
    },
    "core-reap-orphaned-jobs": {"task": "core.tasks.jobs_reap_task", "schedule": WORKER_CHECK_SECONDS},
    # indexing (each does nothing while SEARCH_URL is unset): the drainer loops ~55 s, so one always runs
    "indexing-drain": {
        "task": "indexing.tasks.outbox_drain_task",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "indexing-batch": {"task": "indexing.tasks.batch_sync_task", "schedule": 300.0},
    "indexing-repair": {"task": "indexing.tasks.drift_repair_task", "schedule": 600.0},
}
# Classification requests per user and window (training/throttles.py); counted in Django's cache: one count
# for the site with Redis (CACHES above), per process on the embedded default.
CLASSIFY_RATE = os.environ.get("CLASSIFY_RATE", "120000/min")
try:
    parse_rate(CLASSIFY_RATE)
except ValueError as error:  # refused at start-up, not with a 500 on every classification
    raise ImproperlyConfigured(f"CLASSIFY_RATE: {error}") from None
PREDICTION_LOG_SAMPLE = float(os.environ.get("PREDICTION_LOG_SAMPLE", 1.0))  # share of API answers logged
# Seconds an API answer's log row may wait to be written with others (training/services/prediction_log.py,
# PostgreSQL only); 0: each request writes its own rows before answering.
PREDICTION_LOG_BUFFER_SECONDS = float(os.environ.get("PREDICTION_LOG_BUFFER_SECONDS", 0.2))
PREDICTION_LOG_EXCERPT = int(os.environ.get("PREDICTION_LOG_EXCERPT", 1000))  # characters kept for reviewers
TRAINING_BLAS_THREADS = int(os.environ.get("TRAINING_BLAS_THREADS", 1))  # per training process
TRAINING_SOFT_TIME_LIMIT = int(os.environ.get("TRAINING_SOFT_TIME_LIMIT", 4 * 3600))

# --- Search engine (indexing app) -------------------------------------------------------------
# Unset: search reads the database (the embedded default). Set: the indexing app keeps the engine in step and
# the site's search reads ids from it (docs/indexing.md).
SEARCH_URL = os.environ.get("SEARCH_URL", "")
SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "bunryu-")  # one engine can serve several sites
SEARCH_INDEX_REPLICAS = int(os.environ.get("SEARCH_INDEX_REPLICAS", 0))
INDEXING_BATCH_SIZE = int(os.environ.get("INDEXING_BATCH_SIZE", 500))  # documents per bulk request
INDEXING_BATCH_WINDOW = float(os.environ.get("INDEXING_BATCH_WINDOW", 300))  # seconds a batch window spans
INDEXING_BATCH_OVERLAP = float(os.environ.get("INDEXING_BATCH_OVERLAP", 60))  # seconds windows overlap
INDEXING_CLOCK_SKEW = float(os.environ.get("INDEXING_CLOCK_SKEW", 5))  # windows end this long before now
INDEXING_KEEP_PREVIOUS_HOURS = float(os.environ.get("INDEXING_KEEP_PREVIOUS_HOURS", 24))  # after a rebuild

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.tokens.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "core.api_errors.api_exception_handler",
}
# Largest request body read into memory (API bodies, forms; uploaded files are not counted): a bigger API body
# answers 413 with this limit. A classification batch of 1,000 texts must fit in it: 1,000 texts of 100,000
# characters are ~100 MB of ASCII, ~300 MB of Korean.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(float(os.environ.get("MAX_BODY_MB", 32)) * 1024 * 1024)
# Seconds a process keeps a token's user and role (core/tokens.py). A change (a deactivated user, a
# deleted token, a role taken away) counts at once in every process sharing the Redis cache; without Redis,
# other processes see it at most this much later.
API_TOKEN_CACHE_SECONDS = float(os.environ.get("API_TOKEN_CACHE_SECONDS", 5))
SPECTACULAR_SETTINGS = {
    "TITLE": "bunryu API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",  # /api/docs/ loads Swagger UI from our static files
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # three models' choices are all called "status": named apart, so `check --deploy` warns of no collision
    "ENUM_NAME_OVERRIDES": {
        "ExampleStatusEnum": "labeling.models.Example.Status",
        "CategoryStatusEnum": "labeling.models.Category.Status",
        "CatalogStatusEnum": "catalog.models.Catalog.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_without_traceback": {"()": "admin_site.log_filters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"filters": ["forbidden_without_traceback"]}},
}

# --- HTTPS and browser protections (README: "Production") ------------------------------------------
# Off by default so `make run` works over plain http on 127.0.0.1; a production site behind TLS sets them.
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_flag("SECURE_COOKIES")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD")
if env_flag("BEHIND_TLS_PROXY"):  # only behind a proxy that sets (and strips from clients) X-Forwarded-Proto
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, fonts, images from this site only (Plotly is served
# from the installed package, no CDN). Inline scripts need `nonce="{{ request.csp_nonce }}"` (none today).
# Styles allow 'unsafe-inline': plotly.js inserts its own <style> element when it draws.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# W003 looks for CsrfViewMiddleware by name: admin_site.middleware.BrowserCsrfViewMiddleware is that class for
# every request but API calls with a token (which carry no cookie to forge).
SILENCED_SYSTEM_CHECKS.append("security.W003")
# The OpenAPI schema at /api/schema/: for signed-in users and token holders only, unless this is set.
API_SCHEMA_PUBLIC = env_flag("API_SCHEMA_PUBLIC")
# Imports of labelled examples are parsed, checked and written this many rows at a time (one transaction
# still: all or nothing), so a worker's memory stays bounded whatever the file's size.
IMPORT_CHUNK_ROWS = int(os.environ.get("IMPORT_CHUNK_ROWS", 5000))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 2_000_000))
