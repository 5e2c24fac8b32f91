"""Request plumbing shared by every blueprint: request ids, security headers, safe redirects."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.routing import IntegerConverter

from portal.models.types import MAX_ID
from portal.services.errors import DomainError
from portal.text import lazy_text as _l

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# C0 control characters other than tab and line breaks: nobody types them, and PostgreSQL
# refuses NUL in text, so they are refused before any view sees them.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ControlCharacters(DomainError):
    code = "control_characters"
    default_message = _l(
        "What you sent contains invisible control characters (such as NUL). Remove them and try again."
    )


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None


def request_id() -> str | None:
    return g.get("request_id")


def is_safe_next(target: str | None) -> bool:
    """Only our own absolute paths: no scheme, no host, no `//` or `/\\` tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(char) < 32 or char == "\\" for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    return target if is_safe_next(target) else default


def after_id() -> int:
    """`?after=<id>` of the live case pages' polls: the last message they show (0: none yet);
    anything else counts as 0 and an id past the database's range as the last possible one."""
    value = request.args.get("after", 0, type=int)
    return min(max(value, 0), MAX_ID)


def allow_payment_provider(origin: str) -> None:
    """Let this one page load the provider's card script and talk to it (the card form)."""
    g.payment_origin = origin


def _policy_allowing(extra: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"connect-src 'self'{extra}",
            f"frame-src 'self'{extra}",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# Every page but the card form sends this one policy: made once, not on each response.
_SAME_ORIGIN_POLICY = _policy_allowing("")


def content_security_policy() -> str:
    provider = g.get("payment_origin")
    return _policy_allowing(f" {provider}") if provider else _SAME_ORIGIN_POLICY


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id beyond what the database holds matches no route (404)."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, **kwargs)


def register_url_converters(app: Flask) -> None:
    app.url_map.converters["int"] = RecordIdConverter


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer made once per set of keys instead of
    twice per request (a tenth of a small request's time)."""

    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


# Headers no view sets, sent on every response.
_FIXED_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")

# The bodies Werkzeug parses into `request.form`.
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def register_request_hooks(app: Flask) -> None:
    # Browsers ask for /favicon.ico whatever the page links to; the icon is one static SVG.
    app.add_url_rule(
        "/favicon.ico",
        endpoint="favicon",
        view_func=lambda: redirect(url_for("static", filename="img/favicon.svg"), 301),
    )

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.before_request
    def refuse_control_characters() -> None:
        texts = [request.path, *request.args.keys(), *request.args.values()]
        # Form posts to /api/ are signed over their raw body and checked field by field there.
        # A request without a form body has no fields to read (and parsing none costs each GET).
        if request.mimetype in _FORM_TYPES and not request.path.startswith("/api/"):
            texts += [*request.form.keys(), *request.form.values()]
        if any(has_control_characters(text) for text in texts):
            raise ControlCharacters()

    fixed_headers = (*_FIXED_HEADERS, _HSTS) if app.config["HSTS"] else _FIXED_HEADERS
    app.session_interface = CookieSessionInterface()

    @app.after_request
    def security_headers(response):
        headers = response.headers
        # Added, not set: setting looks for an earlier header of the same name first.
        headers.extend(fixed_headers)
        headers.add("X-Request-ID", g.get("request_id", ""))
        headers.setdefault("Content-Security-Policy", content_security_policy())
        if request.endpoint and not request.endpoint.startswith("static"):
            # Account pages are personal: never cached by shared caches or the back button.
            headers.setdefault("Cache-Control", "no-store")
        return response
