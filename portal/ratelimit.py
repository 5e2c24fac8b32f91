"""Rate limits on the routes that carry one (sign-in, link requests, surveys, email changes, the
JSON API), counted where `RATELIMIT_STORAGE_URI` says: Redis in production, so every process and
machine shares one count.

The counting itself (fixed windows, atomic in Redis) is the `limits` library's. Only a limited
route does any work. (Flask-Limiter, built on the same library, runs app-wide hooks on every
request to find out whether the route has a limit: measured, that cost as much as all the rest
of a `/healthz` request.)

A limit of several parts ("10 per minute;60 per hour") is checked from the shortest window up
and stops at the first part that refuses, so a burst refused by the minute's part does not also
use up the hour. When the shared storage cannot be reached, each process counts on its own
(logged) rather than refusing or failing every limited route."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, wraps

from flask import Blueprint, Flask, after_this_request, current_app, g, request
from limits import RateLimitItem, parse_many, storage, strategies
from limits.errors import StorageError
from werkzeug.exceptions import TooManyRequests

LimitValue = Callable[[], str]
KeyFunction = Callable[[], str]
log = logging.getLogger(__name__)

# A storage that does not answer within this long counts as down: a limited request must not
# hold a worker waiting on it.
STORAGE_TIMEOUT_SECONDS = 0.5


@lru_cache(maxsize=64)
def parse_limit(value: str) -> tuple[RateLimitItem, ...]:
    """The parts of a limit, shortest window first; ValueError for a value that is not a limit."""
    parts = tuple(sorted(parse_many(value), key=lambda item: item.get_expiry()))
    if not parts:
        raise ValueError(f"no limit in {value!r}")
    return parts


@dataclass(frozen=True)
class _Counters:
    """One app's counting: its storage, the per-process stand-in, its key prefix."""

    shared: strategies.FixedWindowRateLimiter
    fallback: strategies.FixedWindowRateLimiter
    prefix: str
    headers: bool


class RateLimiter:
    def __init__(self, key_func: KeyFunction) -> None:
        self._default_key = key_func

    def init_app(self, app: Flask) -> None:
        # A mistyped limit in the settings stops the start, not every request to its route.
        for name, value in app.config.items():
            if name.endswith("_RATE_LIMIT"):
                try:
                    parse_limit(value)
                except ValueError as error:
                    raise RuntimeError(f"{name} is not a rate limit ({value!r}): {error}") from None
        shared = storage.storage_from_string(
            app.config["RATELIMIT_STORAGE_URI"],
            wrap_exceptions=True,
            socket_timeout=STORAGE_TIMEOUT_SECONDS,
            socket_connect_timeout=STORAGE_TIMEOUT_SECONDS,
        )
        app.extensions["rate_limits"] = _Counters(
            strategies.FixedWindowRateLimiter(shared),
            strategies.FixedWindowRateLimiter(storage.MemoryStorage()),
            app.config["RATELIMIT_KEY_PREFIX"],
            app.config["RATELIMIT_HEADERS_ENABLED"],
        )

    def limit(
        self, value: LimitValue, *, key_func: KeyFunction | None = None, methods: Iterable[str] | None = None
    ) -> Callable:
        """A view decorator: `value()` is read on each request, so a changed setting applies at once."""
        only = frozenset(method.upper() for method in methods) if methods else None
        key = key_func or self._default_key

        def decorate(view: Callable) -> Callable:
            # Two limits on one view count apart (one per client address, one per account):
            # their key functions are named apart.
            scope = f"{view.__module__}.{view.__qualname__}/{key.__module__}.{key.__qualname__}"

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
        """Count this request against the limit; 429 when a part of it is used up."""
        counters: _Counters = current_app.extensions["rate_limits"]
        identifiers = (counters.prefix, scope, key_func())
        try:
            self._count(counters, counters.shared, value(), identifiers)
        except StorageError as error:
            log.warning("rate-limit storage unreachable, counting in this process: %s", error)
            self._count(counters, counters.fallback, value(), identifiers)

    def _count(self, counters: _Counters, strategy, value: str, identifiers: tuple[str, ...]) -> None:
        for item in parse_limit(value):
            allowed = strategy.hit(item, *identifiers)
            reset_at, remaining = strategy.get_window_stats(item, *identifiers)
            if counters.headers:
                _tell(item, remaining, int(reset_at))
            if not allowed:
                raise TooManyRequests(retry_after=max(int(reset_at) - int(time.time()), 1))

    def storage_reachable(self) -> bool:
        """Whether the current app's shared counts answer (when not, each process counts alone)."""
        return current_app.extensions["rate_limits"].shared.storage.check()

    def reset(self) -> None:
        """Forget every count of the current app (tests)."""
        counters: _Counters = current_app.extensions["rate_limits"]
        counters.shared.storage.reset()
        counters.fallback.storage.reset()


def _tell(item: RateLimitItem, remaining: int, reset_at: int) -> None:
    """The headers tell of the part closest to refusing, of every limit the request counted against."""
    closest = g.get("rate_limit_closest")
    if closest is None:

        @after_this_request
        def headers(response):
            shown, left, reset = g.rate_limit_closest
            response.headers["X-RateLimit-Limit"] = str(shown.amount)
            response.headers["X-RateLimit-Remaining"] = str(left)
            response.headers["X-RateLimit-Reset"] = str(reset)
            return response

    if closest is None or remaining < closest[1]:
        g.rate_limit_closest = (item, remaining, reset_at)
