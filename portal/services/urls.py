"""Absolute links for emails, the CLI and the API: built from the URL map under PUBLIC_BASE_URL,
so they are right with or without a request, and follow the routes when these move."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
