"""Request plumbing shared by every blueprint: request ids, security headers, safe redirects."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from flask import Flask, g, redirect, request, url_for
from werkzeug.routing import IntegerConverter

from portal.models.types import MAX_ID

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


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


def allow_payment_provider(origin: str) -> None:
    """Let this one page load the provider's card script and talk to it (the card form)."""
    g.payment_origin = origin


def content_security_policy() -> str:
    provider = g.get("payment_origin")
    extra = f" {provider}" if provider else ""
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


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id beyond what the database holds matches no route (404)."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, **kwargs)


def register_url_converters(app: Flask) -> None:
    app.url_map.converters["int"] = RecordIdConverter


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

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["X-Request-ID"] = g.get("request_id", "")
        headers.setdefault("Content-Security-Policy", content_security_policy())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config["HSTS"]:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint and not request.endpoint.startswith("static"):
            # Account pages are personal: never cached by shared caches or the back button.
            headers.setdefault("Cache-Control", "no-store")
        return response
