"""EventConsole settings, read from the environment (and an optional `.env` file).

Every setting has an embedded default that runs on one machine with nothing but Python:
SQLite under var/, a Celery broker on kombu's filesystem transport under var/, and the
local AWS endpoint (a moto server on 127.0.0.1) that `make run` starts. Setting
DATABASE_URL, CELERY_BROKER_URL and the AWS settings switches the same code to
PostgreSQL, Redis and real AWS. `.env.example` lists every setting.
"""
import os
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

# django-environ: https://django-environ.readthedocs.io/en/latest/
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("EVENTCONSOLE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# ---------------------------------------------------------------------------------------------
# Mode
# ---------------------------------------------------------------------------------------------
# Local mode: the launcher starts a moto server as the AWS endpoint, seeds demo users (with
# passwords printed at start) and demo AWS resources. Any other mode has no default passwords.
LOCAL_MODE = env.bool("EVENTCONSOLE_LOCAL_MODE", default=True)
DEBUG = env.bool("DJANGO_DEBUG", default=False)

if LOCAL_MODE:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-mode-only-insecure-secret-key-do-not-use-in-production")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY")  # required outside local mode

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_tables2",
    "axes",
    # ours
    "core",
    "accounts",
    "audit",
    "environments",
    "changes",
    "rules",
    "schedules",
    "inventory",
    "dashboard",
    "tail",
    "dead_letters",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.StripNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.RequestMetaMiddleware",
    "environments.aws.InteractiveBudgetMiddleware",
    # Everything requires sign-in unless a view is marked @login_not_required (Django 5.1+).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A signed-in user with no role anywhere sees a page saying so (and 403 everywhere else).
    "accounts.middleware.NoRoleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-axes must be last: https://django-axes.readthedocs.io/en/latest/2_installation.html
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "eventconsole.urls"
WSGI_APPLICATION = "eventconsole.wsgi.application"

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
                "core.context_processors.console",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: SQLite under var/ by default; DATABASE_URL=postgres://... for PostgreSQL.
# ---------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'eventconsole.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers work while one process writes, and
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file (not :memory:) so a Celery worker started by the tests sees the test database; one per test
    # run (process), so two runs in the same checkout never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes throttles failed sign-ins: https://django-axes.readthedocs.io/en/latest/4_configuration.html
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Roles granted in one environment only (accounts.models.RoleGrant): docs/access.md
    "accounts.permissions.EnvironmentRoleBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "core.signin.axes_username"  # never more than its 255-character column

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not LOCAL_MODE)

# ---------------------------------------------------------------------------------------------
# Transport security and response headers. Outside local mode the console is served over HTTPS
# only: plain HTTP is redirected (except /healthz, for load balancers' probes) and browsers are
# told to remember that (HSTS). https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
# ---------------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=not LOCAL_MODE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if LOCAL_MODE else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=not LOCAL_MODE)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=not LOCAL_MODE)
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    # Only behind a TLS-terminating proxy that sets this header itself (else the redirect loops).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere: behaviour is in static/js, styles in static/css (htmx's own
# indicator style is turned off in base.html). Bootstrap's CSS uses data: images.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# ---------------------------------------------------------------------------------------------
# Audit log integrity (docs/operations.md): the chain key is never stored in the database.
# ---------------------------------------------------------------------------------------------
# Required outside local mode; local mode generates one into VAR_DIR/audit-chain.key when unset.
AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY", default="")
# Keys used before a rotation (comma-separated): they verify old events, never sign new ones.
AUDIT_CHAIN_OLD_KEYS = env.list("AUDIT_CHAIN_OLD_KEYS", default=[])
# Append-only file of signed checkpoints; in production on other storage than the database's.
AUDIT_CHECKPOINT_PATH = env("AUDIT_CHECKPOINT_PATH", default=str(VAR_DIR / "audit-checkpoints.jsonl"))
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env.int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=300)

# ---------------------------------------------------------------------------------------------
# Internationalisation
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Static files: vendored under static/ (no CDN), served by WhiteNoise:
# https://whitenoise.readthedocs.io/en/stable/django.html
# ---------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from static/ and packages when collectstatic has not run

# django-crispy-forms: https://django-crispy-forms.readthedocs.io/en/latest/install.html
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# django-tables2: https://django-tables2.readthedocs.io/en/latest/pages/custom-rendering.html
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# ---------------------------------------------------------------------------------------------
# Celery: https://docs.celeryq.dev/en/stable/userguide/configuration.html
# ---------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env("CELERY_FILESYSTEM_BROKER_DIR", default=str(VAR_DIR / "broker")))
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's filesystem transport: https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="eventconsole")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=30)
# A heartbeat older than this means beat (or every worker) has stopped: /healthz reports it down.
HEARTBEAT_MAX_AGE_SECONDS = env.int("HEARTBEAT_MAX_AGE_SECONDS", default=180)
# /healthz and the health page reuse their checks (database, broker, heartbeat, one STS call per
# environment) for this many seconds, per process; 0 runs them on every request.
HEALTH_CACHE_SECONDS = env.int("HEALTH_CACHE_SECONDS", default=15)
POLL_INTERVAL_SECONDS = env.int("POLL_INTERVAL_SECONDS", default=60)
# Discovery (inventory): how often beat reads everything each environment's account has, and how long
# a running discovery may go without progress before it is taken as interrupted (its worker died).
DISCOVERY_INTERVAL_SECONDS = env.int("DISCOVERY_INTERVAL_SECONDS", default=600)
DISCOVERY_STALE_SECONDS = env.int("DISCOVERY_STALE_SECONDS", default=300)
# Live tail (tail app): how long a tail's temporary rule and queue live at most, and how often beat sweeps
# the ones left behind (past their expiry tag) in every environment.
TAIL_TIME_LIMIT_SECONDS = env.int("TAIL_TIME_LIMIT_SECONDS", default=900)
TAIL_SWEEP_SECONDS = env.int("TAIL_SWEEP_SECONDS", default=60)
# Metrics (metrics/): how often beat fetches every rule's and schedule group's CloudWatch figures.
METRICS_FETCH_INTERVAL_SECONDS = env.int("METRICS_FETCH_INTERVAL_SECONDS", default=300)
# Read rule tags in bulk with the Resource Groups Tagging API: auto (real AWS only), always, never.
POLL_TAGS_WITH_TAGGING_API = env("POLL_TAGS_WITH_TAGGING_API", default="auto")
# Exactly-once apply (changes.apply): an apply holds a lease it renews while it works; past its
# expiry the worker is taken as lost and the change is re-planned against live AWS and applied again.
APPLY_LEASE_SECONDS = env.int("APPLY_LEASE_SECONDS", default=60)
# How often beat runs the recovery sweep (lost workers, Approved changes no worker has taken).
APPLY_SWEEP_SECONDS = env.int("APPLY_SWEEP_SECONDS", default=20)
# An Approved change not taken this long after it was sent is sent again (the broker may have lost it).
APPLY_REDISPATCH_SECONDS = env.int("APPLY_REDISPATCH_SECONDS", default=120)
# Dead-letter queues (dead_letters): how often beat reads the depth of every rule target's and schedule's DLQ.
DEAD_LETTER_DEPTH_INTERVAL_SECONDS = env.int("DEAD_LETTER_DEPTH_INTERVAL_SECONDS", default=300)
# Redrive: how long a dead-letter message the worker received stays hidden while it is sent to the target.
DEAD_LETTER_REDRIVE_VISIBILITY_SECONDS = env.int("DEAD_LETTER_REDRIVE_VISIBILITY_SECONDS", default=30)
# Local mode only: how often beat fires the schedules of emulated environments whose time has come (moto never
# fires them; schedules/invocations.py). A run fires up to this many seconds after its time.
SCHEDULES_EMULATOR_FIRE_SECONDS = env.int("SCHEDULES_EMULATOR_FIRE_SECONDS", default=10)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": float(HEARTBEAT_INTERVAL_SECONDS)},
    "changes-recover": {"task": "changes.tasks.changes_recover", "schedule": float(APPLY_SWEEP_SECONDS)},
    # Poll live state; each run fans out one task per environment and kind (rules, schedules).
    "objects-poll": {"task": "changes.tasks.objects_poll_all", "schedule": float(POLL_INTERVAL_SECONDS)},
    # Discover unmanaged rules and schedules: one discovery task per environment.
    "discover-all": {"task": "inventory.tasks.discover_all", "schedule": float(DISCOVERY_INTERVAL_SECONDS)},
    "audit-checkpoint": {"task": "audit.tasks.audit_checkpoint", "schedule": float(AUDIT_CHECKPOINT_INTERVAL_SECONDS)},
    # Live tails: close the expired ones and remove any temporary rule or queue left behind.
    "tail-sweep": {"task": "tail.tasks.tail_sweep", "schedule": float(TAIL_SWEEP_SECONDS)},
    "dead-letters-depth": {"task": "dead_letters.tasks.depth_fetch_all",
                           "schedule": float(DEAD_LETTER_DEPTH_INTERVAL_SECONDS)},
    # Fetch CloudWatch figures (batched GetMetricData): one task per environment.
    "metrics-fetch-all": {"task": "metrics.tasks.metrics_fetch_all", "schedule": float(METRICS_FETCH_INTERVAL_SECONDS)},
}
if LOCAL_MODE:  # the emulator's schedules fire (emulated environments only; real AWS fires its own)
    CELERY_BEAT_SCHEDULE["schedules-fire"] = {"task": "schedules.tasks.schedules_fire_due",
                                              "schedule": float(SCHEDULES_EMULATOR_FIRE_SECONDS)}

# ---------------------------------------------------------------------------------------------
# AWS. Credentials are never stored in the database: boto3's default chain supplies them
# (environment, ~/.aws, instance or task role). Each Environment may name a role to assume.
# ---------------------------------------------------------------------------------------------
# Local AWS endpoint (moto server) that the launcher starts in local mode.
LOCAL_AWS_HOST = env("LOCAL_AWS_HOST", default="127.0.0.1")
LOCAL_AWS_PORT = env.int("LOCAL_AWS_PORT", default=4566)
LOCAL_AWS_ENDPOINT_URL = f"http://{LOCAL_AWS_HOST}:{LOCAL_AWS_PORT}"
# Retries for every client (botocore "standard" mode: throttling and transient errors, with back-off).
AWS_RETRY_MAX_ATTEMPTS = env.int("AWS_RETRY_MAX_ATTEMPTS", default=5)
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=5.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=30.0)
# Health checks must answer fast: one attempt, short timeouts.
AWS_HEALTH_TIMEOUT = env.float("AWS_HEALTH_TIMEOUT", default=3.0)
# Listings for the forms' pickers (made while a person waits) share this many seconds per page in all;
# past it the page says what could not be listed and the ARN can be typed.
AWS_INTERACTIVE_BUDGET_SECONDS = env.float("AWS_INTERACTIVE_BUDGET_SECONDS", default=3.0)
# The shared AWS call rate limit (environments.ratelimit): a token bucket per account, Region and service at the
# environment's "AWS calls per second". auto = redis when AWS_RATE_LIMIT_REDIS_URL is set (every machine shares
# it), else a locked state file under var/ (every process on this machine); off = no limit.
AWS_RATE_LIMIT_BACKEND = env("AWS_RATE_LIMIT_BACKEND", default="auto")
AWS_RATE_LIMIT_REDIS_URL = env(
    "AWS_RATE_LIMIT_REDIS_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
# Processes whose prefix differs keep separate buckets in the same store. Leave it empty: installations that
# call the same account share its quota. The test suite sets one per test process.
AWS_RATE_LIMIT_KEY_PREFIX = env("AWS_RATE_LIMIT_KEY_PREFIX", default="")

# Sandbox, "which rules match" and Test pattern: matching stops (with a message) after this long.
SANDBOX_TIME_BUDGET_SECONDS = env.float("SANDBOX_TIME_BUDGET_SECONDS", default=2.0)

# ---------------------------------------------------------------------------------------------
# Email (used by the review workflow): console by default, SMTP via EMAIL_URL.
# ---------------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="eventconsole@localhost")

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"forbidden_one_line": {"()": "core.logfilters.ForbiddenOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "urllib3": {"level": "WARNING"},
                # a 403 is one line (user, path); 500s keep their traceback
                "django.request": {"filters": ["forbidden_one_line"]}},
}
