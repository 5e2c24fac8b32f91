"""gunicorn settings for `make serve` and production (`gunicorn -c gunicorn.conf.py wsgi:app`).

Every value can be changed from the environment. Workers are processes: each has its own database
connections and keeps nothing of its own between requests (sessions live in PostgreSQL, rate-limit
counters in Redis), so more processes, or more machines behind a load balancer, serve more."""

import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Requests spend part of their time waiting on PostgreSQL, so a core serves more than one worker.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request still running after this long is stuck: its worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Replace each worker after this many requests, so no slow leak can grow a worker without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Load the app once in the master and fork it: workers share its memory and start at once.
preload_app = True
# The request id (also in the app's own log lines and on error pages) ties a complaint to its line.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
# Behind a proxy, PROXY_COUNT makes the app trust X-Forwarded-*; gunicorn itself trusts none.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # A connection opened before the fork (preload) must not be shared by two processes.
    app = server.app.wsgi()
    if "sqlalchemy" in getattr(app, "extensions", {}):
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)


def when_ready(server):
    # Compile every template once, in the master: each forked worker (and each replacement after
    # max_requests) starts with them compiled instead of compiling on its first requests.
    app = server.app.wsgi()
    environment = getattr(app, "jinja_env", None)
    if environment is not None:
        for name in environment.list_templates(extensions=("html", "txt")):
            environment.get_template(name)
