"""Configuration classes. Every secret comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development and test values of the secrets. They are public (they are in this file), so
# production refuses to start with any of them.
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "dev-only-not-secret",
    "STRIPE_WEBHOOK_SECRET": "whsec_localstripe_development",
    "INBOUND_EMAIL_KEY": "dev-inbound-email-key",
    "INBOUND_SMS_KEY": "dev-inbound-sms-key",
    "INBOUND_SOCIAL_KEY": "dev-inbound-social-key",
}
TEST_SECRET_KEY = "test-secret-key"
# The keys the app uses for localstripe when no Stripe key is set.
LOCALSTRIPE_KEYS = ("sk_test_localstripe", "pk_test_localstripe")
KNOWN_DEFAULT_SECRETS = frozenset([*DEVELOPMENT_SECRETS.values(), TEST_SECRET_KEY, *LOCALSTRIPE_KEYS])
# What production reads from the environment when it starts, and which of those it cannot do without.
PRODUCTION_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "INBOUND_EMAIL_KEY",
    "INBOUND_SMS_KEY",
    "INBOUND_SOCIAL_KEY",
)
# Without a Stripe key the app would talk to localstripe over plain HTTP and charge nobody.
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY")


def _development(name: str) -> str:
    return os.environ.get(name, DEVELOPMENT_SECRETS[name])


def normalize_database_url(url: str) -> str:
    """Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    SECRET_KEY = _development("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'portal.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Sessions: the cookie only carries an id that is checked against the sessions table.
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "336"))
    REMEMBER_COOKIE_DURATION = 0
    PREFERRED_URL_SCHEME = "http"
    # Flask rejects requests for any other Host header (400); unset means any host (development).
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS") or None
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    HSTS = False

    WTF_CSRF_TIME_LIMIT = 3600 * 8
    # The largest request body (413 beyond): ample for every form and provider callback, and it
    # keeps an anonymous multi-megabyte post from growing a worker.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Keeps this shop's counters apart from other apps sharing the same Redis.
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "portal")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;60 per hour")
    LINK_REQUEST_RATE_LIMIT = os.environ.get("LINK_REQUEST_RATE_LIMIT", "5 per 15 minutes")
    # One-tap survey links, per client address: ample for a person, a wall for a token guesser.
    SURVEY_RATE_LIMIT = os.environ.get("SURVEY_RATE_LIMIT", "30 per minute;300 per hour")
    # Calls to the JSON API, per API key.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute;5000 per hour")
    # Calls to the JSON API with a missing or unknown key, per client address: guessing keys is
    # slowed down, while real keys used from the same address go on working.
    API_UNKNOWN_KEY_RATE_LIMIT = os.environ.get("API_UNKNOWN_KEY_RATE_LIMIT", "30 per minute;300 per hour")
    # Asking to move an account to another email address, per subscriber and per client address.
    EMAIL_CHANGE_RATE_LIMIT = os.environ.get("EMAIL_CHANGE_RATE_LIMIT", "5 per hour;20 per day")

    LANGUAGES = ["en", "es", "de"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "portal" / "translations")

    MERCHANT_NAME = os.environ.get("MERCHANT_NAME", "Northwind Coffee")
    MERCHANT_TIMEZONE = os.environ.get("MERCHANT_TIMEZONE", "Europe/Madrid")
    MERCHANT_CURRENCY = os.environ.get("MERCHANT_CURRENCY", "EUR")
    # ISO 3166 country whose national phone numbers ("600 000 001") customers write without a prefix.
    MERCHANT_COUNTRY = os.environ.get("MERCHANT_COUNTRY", "ES")
    # Absolute base for links in emails and CLI output (no request to take it from).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "8025"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "") == "1"
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "Northwind Coffee <hello@northwind.example>")
    MAIL_TIMEOUT = 10
    OUTBOX_MAX_ATTEMPTS = 8

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY")
    LOCALSTRIPE_URL = os.environ.get("LOCALSTRIPE_URL", "http://127.0.0.1:8420")
    STRIPE_WEBHOOK_SECRET = _development("STRIPE_WEBHOOK_SECRET")

    # Self-serve rules until the merchant saves their own in admin.
    POLICY_DEFAULTS = {
        "order_cutoff_days": 2,
        "pause_cycle_options": [1, 2, 3],
        "max_pause_days": 90,
        "max_consecutive_skips": 2,
        "allowed_intervals": ["1w", "2w", "4w", "6w", "1m"],
        "reschedule_window_days": 60,
        "simple_cancellation": False,
        "discount_cooldown_days": 100,
        "dunning_retry_days": [1, 3, 5],
        "dunning_final_action": "pause",
        "agent_credit_limit_minor": 2000,
        "sign_in_link_minutes": 15,
        "action_link_hours": 72,
    }
    UPCOMING_ORDERS_SHOWN = 3
    SHIPPING_COUNTRIES = ["ES", "PT", "FR", "DE", "NL", "IT", "GB", "US"]

    # Support: opening hours in the merchant's timezone (Monday is 0) and the first-response target.
    BUSINESS_HOURS = {"days": [0, 1, 2, 3, 4], "start": 9, "end": 17}
    FIRST_RESPONSE_TARGET_BUSINESS_HOURS = 4
    # How long the one-tap links of an emailed survey keep working.
    SURVEY_LINK_DAYS = 60
    # Shared secrets of the inbound channel providers (parsed email, SMS, social messages).
    INBOUND_EMAIL_KEY = _development("INBOUND_EMAIL_KEY")
    INBOUND_SMS_KEY = _development("INBOUND_SMS_KEY")
    INBOUND_SOCIAL_KEY = _development("INBOUND_SOCIAL_KEY")

    # /healthz asks the database at most this often per process (see services.health).
    HEALTH_CHECK_SECONDS = float(os.environ.get("HEALTH_CHECK_SECONDS", "1"))

    # Development conveniences, never on in production.
    DEV_MAIL_PAGE = True
    DEMO_PASSWORD = "demo-password"


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    TESTING = True
    DEV_MAIL_PAGE = False
    SECRET_KEY = TEST_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = normalize_database_url(os.environ.get("PORTAL_TEST_DATABASE_URL", "sqlite://"))
    SERVER_NAME = None
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_BASE_URL = "http://localhost"
    HEALTH_CHECK_SECONDS = 0


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and path=/.
    SESSION_COOKIE_NAME = "__Host-portal_session"
    PREFERRED_URL_SCHEME = "https"
    HSTS = True
    DEMO_PASSWORD = None
    DEV_MAIL_PAGE = False

    @staticmethod
    def from_environment() -> dict[str, str | None]:
        """Secrets read when the app starts (not at import), refused when missing or public.

        Unset shared secrets (the webhook and inbound channel keys) have no default here: their
        endpoints then refuse everything."""
        environment = {name: os.environ.get(name) or None for name in PRODUCTION_SETTINGS}
        missing = [name for name in PRODUCTION_REQUIRED if not environment[name]]
        if missing:
            raise RuntimeError("Refusing to start in production without: " + ", ".join(missing))
        public = [name for name, value in environment.items() if value in KNOWN_DEFAULT_SECRETS]
        if public:
            raise RuntimeError(
                "Refusing to start in production with a development default (public) value for: "
                + ", ".join(public)
                + ". Set a long random secret of your own."
            )
        environment["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(environment.pop("DATABASE_URL"))
        return environment


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
