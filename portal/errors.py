"""Error pages (HTML) and problem documents (JSON under /api/), always with the request id."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db
from portal.services.errors import DomainError
from portal.text import lazy_text as _l
from portal.web import request_id

ERROR_TEXT = {
    400: (_l("Bad request"), _l("Something in that request was not right. Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("We could not find that page. It may have moved, or the link may be incomplete.")),
    405: (_l("Not allowed"), _l("That page cannot be used this way.")),
    409: (_l("Conflict"), _l("That could not be done because something changed. Please try again.")),
    413: (_l("Too large"), _l("What you sent is larger than this page accepts. Please send less at once.")),
    429: (_l("Too many attempts"), _l("Please wait a few minutes before trying again.")),
    500: (_l("Something went wrong"), _l("An error on our side stopped this from working. Please try again later.")),
}
ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
}


def wants_json() -> bool:
    """The API, and our pages' own scripts, which ask for JSON (the live case pages)."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message=None, code: str | None = None):
    title, default_message = ERROR_TEXT.get(status, ERROR_TEXT[400 if status < 500 else 500])
    message = message or default_message
    code = code or ERROR_CODES.get(status, "error")
    if wants_json():
        body = {"error": {"code": code, "message": str(message), "request_id": request_id()}}
        return jsonify(body), status
    if request_ctx.url_adapter is None:
        # The request was refused before routing (an untrusted Host): no page can link anywhere.
        return f"{status} {title}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
    return (
        render_template("errors/error.html", status=status, title=title, message=message, request_id=request_id()),
        status,
    )


def expired_link_page(error: DomainError):
    """An emailed link that no longer works (used, expired, unknown), said the same way everywhere."""
    return render_template(
        "errors/error.html",
        status=error.status,
        title=_l("This link no longer works"),
        message=error.message,
        request_id=request_id(),
    ), error.status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return error_response(error.status, error.message, error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400,
            _l("This form has expired or was sent from another site. Please reload the page and try again."),
            "csrf_failed",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        body, status, *headers = error_response(error.code or 500)
        # What the exception tells the client to do next: the methods to use (405), when to retry (429).
        advice = {name: value for name, value in error.get_headers() if name in ("Allow", "Retry-After")}
        return body, status, {**(headers[0] if headers else {}), **advice}

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("unhandled error, request id %s", request_id())
        # A failed statement leaves the session unusable; the error page itself reads the user.
        db.session.rollback()
        return error_response(500)
