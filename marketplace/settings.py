"""Settings for the marketplace.

Everything that differs between machines comes from environment variables (a ``.env`` file in the
project root is read when present; see ``.env.example`` for every variable). With nothing set, the
marketplace runs on an embedded default that needs no server: a SQLite file, an in-process cache and
Celery on kombu's filesystem broker.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


# Writable state of the embedded default (SQLite file, filesystem broker, beat schedule, uploads).
VAR_DIR = Path(env_str("MARKETPLACE_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core --------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

MARKETPLACE_NAME = env_str("MARKETPLACE_NAME", "Agora")
MARKETPLACE_CURRENCY = env_str("MARKETPLACE_CURRENCY", "USD")
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "local")
AVAILABLE_PAYMENT_GATEWAYS = ("local", "stripe")
if PAYMENT_GATEWAY not in AVAILABLE_PAYMENT_GATEWAYS:
    raise ImproperlyConfigured(
        f"PAYMENT_GATEWAY={PAYMENT_GATEWAY!r} is not available; choose one of "
        f"{', '.join(AVAILABLE_PAYMENT_GATEWAYS)}."
    )
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
if PAYMENT_GATEWAY == "stripe" and not STRIPE_SECRET_KEY:
    raise ImproperlyConfigured(
        "PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY (sk_test_... or sk_live_..., from the "
        "Stripe dashboard under Developers > API keys), and STRIPE_WEBHOOK_SECRET (whsec_...) "
        "for /webhooks/stripe/. Or use PAYMENT_GATEWAY=local for the built-in test mode."
    )
# Where the Stripe API lives; empty means Stripe's own (https://api.stripe.com). The tests point
# it at a fake Stripe server on loopback, so nothing reaches the network.
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
# 200 basis points = the 2% platform commission on every seller order.
PLATFORM_COMMISSION_BPS = env_int("PLATFORM_COMMISSION_BPS", 200)
# Unpaid orders (a payment still being confirmed, or abandoned) keep their stock this long, then
# expire.
ORDER_UNPAID_EXPIRY_MINUTES = env_int("ORDER_UNPAID_EXPIRY_MINUTES", 30)
# Days the buyer is promised between the ship-by date and delivery (deliver_by = ship_by + this).
ORDER_DELIVERY_DAYS = env_int("ORDER_DELIVERY_DAYS", 7)
# After a declined payment the reservation is cut to at most this many minutes (time to try another
# card), and after CHECKOUT_MAX_DECLINES declines it is released at once: a declined card cannot
# hold stock away from other shoppers for the full expiry (docs/architecture.md, "Checkout").
CHECKOUT_DECLINED_HOLD_MINUTES = env_int("CHECKOUT_DECLINED_HOLD_MINUTES", 10)
CHECKOUT_MAX_DECLINES = env_int("CHECKOUT_MAX_DECLINES", 3)
# The buyer may cancel a paid order at once, free of charge, this long after paying; after that
# and before shipment they ask the seller, who has CANCELLATION_RESPONSE_HOURS to answer before the
# request is approved by itself (orders.services.cancellations).
ORDER_CANCEL_WINDOW_MINUTES = env_int("ORDER_CANCEL_WINDOW_MINUTES", 60)
CANCELLATION_RESPONSE_HOURS = env_int("CANCELLATION_RESPONSE_HOURS", 24)
# A delivered order completes this many days after its delivery unless after-sales is open
# (orders.services.deadlines); a shop that misses a ship-by deadline gets this many violation points.
ORDER_AUTO_COMPLETE_DAYS = env_int("ORDER_AUTO_COMPLETE_DAYS", 7)
ORDER_LATE_SHIPMENT_POINTS = env_int("ORDER_LATE_SHIPMENT_POINTS", 2)
# Settlement (orders.services.settlement): a completed order's money moves from pending to
# available this many days after completion, SETTLEMENT_BATCH_SIZE orders per transaction.
SETTLEMENT_HOLD_DAYS = env_int("SETTLEMENT_HOLD_DAYS", 7)
SETTLEMENT_BATCH_SIZE = env_int("SETTLEMENT_BATCH_SIZE", 1000)
# Payouts (sellers.services.payouts): a seller whose available balance reaches
# PAYOUT_MINIMUM_MINOR (and who owes nothing) is paid once a day, or when staff run the job; the
# gateway is called at most PAYOUT_GATEWAY_CALLS_PER_SECOND times a second.
PAYOUT_MINIMUM_MINOR = env_int("PAYOUT_MINIMUM_MINOR", 1000)
PAYOUT_GATEWAY_CALLS_PER_SECOND = env_int("PAYOUT_GATEWAY_CALLS_PER_SECOND", 20)
# A manual ledger adjustment (marketplace.ledger.adjustments) of at least this many minor units
# waits for a second staff member's approval; a smaller one is posted at once.
LEDGER_ADJUSTMENT_APPROVAL_MINOR = env_int("LEDGER_ADJUSTMENT_APPROVAL_MINOR", 10000)
# Returns and refunds (returns/services/): a buyer may ask within the shop's return window after
# delivery (Seller.return_window_days; this default for new shops); the seller answers within
# RETURN_SELLER_RESPONSE_HOURS or the request is approved; the buyer ships an approved return back
# within RETURN_BUYER_SHIP_DAYS or it closes, and answers a partial offer within
# RETURN_OFFER_RESPONSE_DAYS; the seller confirms a delivered return within
# RETURN_RECEIPT_CONFIRM_HOURS or the refund runs; a refusal may be escalated within
# RETURN_ESCALATION_DAYS.
RETURN_WINDOW_DAYS = env_int("RETURN_WINDOW_DAYS", 15)
RETURN_SELLER_RESPONSE_HOURS = env_int("RETURN_SELLER_RESPONSE_HOURS", 48)
RETURN_BUYER_SHIP_DAYS = env_int("RETURN_BUYER_SHIP_DAYS", 7)
RETURN_OFFER_RESPONSE_DAYS = env_int("RETURN_OFFER_RESPONSE_DAYS", 7)
RETURN_RECEIPT_CONFIRM_HOURS = env_int("RETURN_RECEIPT_CONFIRM_HOURS", 48)
RETURN_ESCALATION_DAYS = env_int("RETURN_ESCALATION_DAYS", 7)
# A return parcel not delivered this many days after it was sent goes to the marketplace.
RETURN_PARCEL_LOST_DAYS = env_int("RETURN_PARCEL_LOST_DAYS", 21)
# Tracking (orders/services/tracking.py): the demo carrier moves a parcel one step every this many
# minutes after shipment; the tracking job asks carriers about at most TRACKING_POLL_BATCH_SIZE open
# parcels a run, each at most once every TRACKING_POLL_MIN_INTERVAL_MINUTES; carriers that push
# events sign them with CARRIER_WEBHOOK_SECRET (empty: /webhooks/carriers/ refuses everything).
DEMO_CARRIER_STEP_MINUTES = env_int("DEMO_CARRIER_STEP_MINUTES", 30)
TRACKING_POLL_BATCH_SIZE = env_int("TRACKING_POLL_BATCH_SIZE", 200)
TRACKING_POLL_MIN_INTERVAL_MINUTES = env_int("TRACKING_POLL_MIN_INTERVAL_MINUTES", 10)
CARRIER_WEBHOOK_SECRET = env_str("CARRIER_WEBHOOK_SECRET")

INSTALLED_APPS = [
    "marketplace.accounts",
    "marketplace",
    "marketplace.ledger",
    "marketplace.payments",
    "marketplace.notifications",
    "policies",
    "sellers",
    "catalog",
    "orders",
    "returns",
    "affiliates",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles, so runserver serves static files the way production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files carry the Content-Security-Policy too.
    "marketplace.middleware.ContentSecurityPolicyMiddleware",
    "marketplace.request_guards.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"

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
                "marketplace.context_processors.marketplace",
                "marketplace.context_processors.csrf_placeholder",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # Persistent connections: without them every request pays a new PostgreSQL connection.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the Celery worker share the file: WAL lets readers and one writer work at
    # once, IMMEDIATE transactions take the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis ---------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "marketplace",
        }
    }
else:
    # One process (runserver) in the embedded default, so a per-process cache is the whole cache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background jobs (Celery) ------------------------------------------------------------------

CELERY_BROKER_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task not acknowledged within this time is delivered again (acks_late). It must be longer
        # than the longest task and the furthest countdown we schedule.
        "visibility_timeout": 2 * 60 * 60,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    # Producer (web) and consumer (worker) read and write the same folder.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange bindings; kombu's default is a "control" folder in the working directory.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)

CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Tasks report what they did by writing to the database, never through a result backend.
CELERY_TASK_IGNORE_RESULT = True
# Reliability (docs/architecture.md, "Background jobs"): a task is acknowledged only after it finished, a task whose
# worker died is delivered again, and a worker holds one task at a time so a crash loses nothing
# it had not started. Every task must therefore be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_TASK_TIME_LIMIT = 6 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# The one schedule of periodic jobs. Later issues add theirs here.
CELERY_BEAT_SCHEDULE = {
    "record-job-heartbeat": {
        "task": "marketplace.tasks.record_job_heartbeat",
        "schedule": timedelta(seconds=60),
    },
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": timedelta(seconds=60),
    },
    "release-orders-for-shipment": {
        "task": "orders.tasks.release_orders_for_shipment",
        "schedule": timedelta(seconds=60),
    },
    "poll-tracking": {
        "task": "orders.tasks.poll_tracking",
        "schedule": timedelta(seconds=60),
    },
    "enqueue-pending-notifications": {
        "task": "marketplace.notifications.tasks.enqueue_pending_notifications",
        "schedule": timedelta(minutes=5),
    },
    "auto-approve-cancellations": {
        "task": "orders.tasks.auto_approve_cancellations",
        "schedule": timedelta(minutes=5),
    },
    "retry-refunds": {
        "task": "orders.tasks.retry_refunds",
        "schedule": timedelta(minutes=10),
    },
    "cancel-missed-ship-by": {
        "task": "orders.tasks.cancel_missed_ship_by",
        "schedule": timedelta(minutes=5),
    },
    "auto-complete-orders": {
        "task": "orders.tasks.auto_complete_orders",
        "schedule": timedelta(hours=1),
    },
    "settle-due-orders": {
        "task": "orders.tasks.settle_due_orders",
        "schedule": timedelta(minutes=30),
    },
    "run-payouts": {
        "task": "sellers.tasks.run_payouts",
        "schedule": timedelta(days=1),
    },
    "refund-late-payments": {
        "task": "orders.tasks.refund_late_payments",
        "schedule": timedelta(minutes=10),
    },
    "return-deadlines": {
        "task": "returns.tasks.run_return_deadlines",
        "schedule": timedelta(minutes=5),
    },
}

# --- Accounts ----------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "storefront:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brute-force protection: after this many failed logins for one email (or many more from one
# address) within the window, further attempts are refused until the window passes.
LOGIN_RATE_LIMIT_ATTEMPTS = env_int("LOGIN_RATE_LIMIT_ATTEMPTS", 5)
LOGIN_RATE_LIMIT_IP_ATTEMPTS = env_int("LOGIN_RATE_LIMIT_IP_ATTEMPTS", 30)
LOGIN_RATE_LIMIT_WINDOW_SECONDS = env_int("LOGIN_RATE_LIMIT_WINDOW_SECONDS", 15 * 60)

# Password-reset emails: at most this many requests for one email address (and, higher, from one
# client address) within the window; the rest are refused without sending, counted whether or not
# the account exists, so the answers never tell which addresses are registered.
PASSWORD_RESET_RATE_LIMIT_ATTEMPTS = env_int("PASSWORD_RESET_RATE_LIMIT_ATTEMPTS", 3)
PASSWORD_RESET_RATE_LIMIT_IP_ATTEMPTS = env_int("PASSWORD_RESET_RATE_LIMIT_IP_ATTEMPTS", 10)
PASSWORD_RESET_RATE_LIMIT_WINDOW_SECONDS = env_int(
    "PASSWORD_RESET_RATE_LIMIT_WINDOW_SECONDS", 60 * 60
)

# --- Email -------------------------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Where django.core.mail.backends.filebased.EmailBackend writes (one file per connection).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{MARKETPLACE_NAME} <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -----------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
# Whole storefront pages kept for visitors without a session (marketplace/pagecache.py). On by
# default only with Redis: the per-process cache of the embedded default would not hear the
# worker's changes (an expired order's stock coming back).
STOREFRONT_PAGE_CACHE = env_bool("STOREFRONT_PAGE_CACHE", bool(REDIS_URL))
# Documents that must never be served by URL (KYC, qualifications): outside MEDIA_ROOT.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT") or VAR_DIR / "private")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (after collectstatic); plain finders in development.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- REST API ----------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "600/minute"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{MARKETPLACE_NAME} Marketplace API",
    "DESCRIPTION": "REST API for sellers, creators, shoppers and integrators.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the sidecar package: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security ----------------------------------------------------------------------------------
# Safe by default when DEBUG is off; each can be relaxed explicitly (for example behind a proxy
# that already redirects to HTTPS, or for a local benchmark over plain HTTP).

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (marketplace/middleware.py): scripts only from our origin everywhere;
# Stripe.js only with PAYMENT_GATEWAY=stripe. Inline styles are allowed only under these paths,
# because Django's admin templates, our admin templates and admin columns use them.
CSP_INLINE_STYLE_PATHS = ["/admin/"]

# --- Logging -----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The stripe package logs every request at INFO.
        "stripe": {"level": "WARNING"},
    },
}
