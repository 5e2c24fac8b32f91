"""Scheduled jobs at a size: time and peak memory of each, with what is naturally due, and of the
schedule job with a fixed number of subscriptions made due (so its cost can be compared across
sizes: it should follow the rows it acts on, not the table)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from bench.servers import ROOT

JOBS = ("schedule", "auto-resume", "cancellations", "renewals", "cancel-follow-up", "sessions")


@dataclass(frozen=True)
class JobRun:
    done: int
    seconds: float
    peak_mb: float


def run_job(url: str, name: str) -> JobRun:
    env = {**os.environ, "PORTAL_ENV": "development", "DATABASE_URL": url, "LOCALSTRIPE_URL": "http://127.0.0.1:9"}
    process = subprocess.Popen([sys.executable, "-m", "bench.job", name], cwd=ROOT, env=env, stdout=subprocess.PIPE)
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"job {name} failed")
    done, seconds = output.split()[-2:]
    return JobRun(int(done), float(seconds), usage.ru_maxrss / 1024)


def make_due(url: str, count: int) -> int:
    """Mark `count` active subscriptions as needing the schedule job (as if their first delivery
    had just left the list). The job reads each, finds it full and sets the date back."""
    engine = create_engine(url)
    with engine.begin() as connection:
        made = connection.execute(
            text(
                "UPDATE subscriptions SET refill_on = CURRENT_DATE - 1 WHERE id IN "
                "(SELECT id FROM subscriptions WHERE status = 'active' ORDER BY id DESC LIMIT :count)"
            ),
            {"count": count},
        ).rowcount
    engine.dispose()
    return made


def measure(url: str, due: int) -> dict[str, JobRun]:
    results = {name: run_job(url, name) for name in JOBS}
    made = make_due(url, due)
    results[f"schedule, {made:,} due"] = run_job(url, "schedule")
    return results
