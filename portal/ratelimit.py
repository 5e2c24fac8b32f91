"""Rate limits on the routes that carry one (sign-in, link requests, surveys, email changes, the
JSON API), counted where `RATELIMIT_STORAGE_URI` says: Redis in production, so every process and
machine shares one count.

The counting itself (fixed windows, atomic in Redis) is the `limits` library's. Only a limited
route does any work. (Flask-Limiter, built on the same library, runs app-wide hooks on every
request to find out whether the route has a limit: measured, that cost as much as all the rest
of a `/healthz` request.)"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import lru_cache, wraps

from flask import Blueprint, Flask, after_this_request, request
from limits import RateLimitItem, parse_many, storage, strategies
from werkzeug.exceptions import TooManyRequests

LimitValue = Callable[[], str]
KeyFunction = Callable[[], str]


@lru_cache(maxsize=64)
def _parsed(value: str) -> tuple[RateLimitItem, ...]:
    # "10 per minute;60 per hour": every part counts, the first one used up refuses.
    return tuple(parse_many(value))


class RateLimiter:
    def __init__(self, key_func: KeyFunction) -> None:
        self._default_key = key_func
        self._storage: storage.Storage | None = None
        self._strategy: strategies.FixedWindowRateLimiter | None = None
        self._prefix = ""
        self._headers = False

    def init_app(self, app: Flask) -> None:
        self._storage = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self._strategy = strategies.FixedWindowRateLimiter(self._storage)
        self._prefix = app.config["RATELIMIT_KEY_PREFIX"]
        self._headers = app.config["RATELIMIT_HEADERS_ENABLED"]

    def limit(
        self, value: LimitValue, *, key_func: KeyFunction | None = None, methods: Iterable[str] | None = None
    ) -> Callable:
        """A view decorator: `value()` is read on each request, so a changed setting applies at once."""
        only = frozenset(method.upper() for method in methods) if methods else None
        key = key_func or self._default_key

        def decorate(view: Callable) -> Callable:
            # Two limits on one view count apart: one per client address, one per account, say.
            scope = f"{view.__module__}.{view.__qualname__}/{key.__name__}"

            @wraps(view)
            def limited(*args, **kwargs):
                if only is None or request.method in only:
                    self.hit(scope, value, key)
                return view(*args, **kwargs)

            return limited

        return decorate

    def limit_blueprint(
        self, blueprint: Blueprint, value: LimitValue, *, key_func: KeyFunction, exempt: Iterable[str] = ()
    ) -> None:
        """One limit over every route of a blueprint but the `exempt` endpoints, counted together."""
        exempt_endpoints = frozenset(exempt)

        @blueprint.before_request
        def _rate_limit() -> None:
            if request.endpoint not in exempt_endpoints:
                self.hit(blueprint.name, value, key_func)

    def hit(self, scope: str, value: LimitValue, key_func: KeyFunction) -> None:
        """Count this request against every part of the limit; 429 when one is used up."""
        key = key_func()
        counts = []
        for item in _parsed(value()):
            allowed = self._strategy.hit(item, self._prefix, scope, key)
            reset_at, remaining = self._strategy.get_window_stats(item, self._prefix, scope, key)
            counts.append((allowed, remaining, int(reset_at), item))
        refused = [count for count in counts if not count[0]]
        # The headers tell of the part that refused, or else of the one closest to refusing.
        _, remaining, reset_at, item = refused[0] if refused else min(counts, key=lambda count: count[1])
        if self._headers:
            self._add_headers(reset_at, remaining, item)
        if refused:
            raise TooManyRequests(retry_after=max(reset_at - int(time.time()), 1))

    @staticmethod
    def _add_headers(reset_at: int, remaining: int, item: RateLimitItem) -> None:
        @after_this_request
        def headers(response):
            response.headers["X-RateLimit-Limit"] = str(item.amount)
            response.headers["X-RateLimit-Remaining"] = str(remaining)
            response.headers["X-RateLimit-Reset"] = str(reset_at)
            return response

    def reset(self) -> None:
        """Forget every count (tests)."""
        self._storage.reset()
