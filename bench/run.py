"""`make bench`: every figure of the performance targets, printed. Sizes and durations come from the
environment (see README, Performance): BENCH_SMALL (1,000 customers), BENCH_LARGE (100,000; the
README's figures are from 1,000,000), BENCH_SECONDS (10 per URL), BENCH_CONNECTIONS (32),
BENCH_RENEWAL_ORDERS (10,000), BENCH_JOB_DUE (500), BENCH_PARTS (pages,scale,jobs,renewals)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from bench import data, jobs, pages, renewals, wrk

SMALL = int(os.environ.get("BENCH_SMALL", "1000"))
LARGE = int(os.environ.get("BENCH_LARGE", "100000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
RENEWAL_ORDERS = int(os.environ.get("BENCH_RENEWAL_ORDERS", "10000"))
JOB_DUE = int(os.environ.get("BENCH_JOB_DUE", "500"))
PARTS = os.environ.get("BENCH_PARTS", "pages,scale,jobs,renewals").split(",")
RATIO_TARGETS = {"/healthz": 0.7, "dashboard": 0.3, "subscription page": 0.3}
P99_TARGET_MS = 50
RSS_TARGET_MB = 150
FLAT_TARGET = 1.3


def _mark(ok: bool) -> str:
    return "meets" if ok else "SHORT"


def machine() -> None:
    cpuinfo, meminfo = Path("/proc/cpuinfo").read_text(), Path("/proc/meminfo").read_text()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    memory = next(int(line.split()[1]) // 1024**2 for line in meminfo.splitlines() if line.startswith("MemTotal"))
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"Machine: {os.cpu_count()} cores ({cpu}), {memory} GB, {platform.python_version()}, {postgres}")
    print(f"Load average at start: {' '.join(load)}")


def page_table(size: int, results: dict) -> None:
    hello = results["hello"]
    print(
        f"\nPages at {size:,} customers: gunicorn (gunicorn.conf.py), wrk {CONNECTIONS} connections, {SECONDS} s each"
    )
    print("  (x hello: against the hello app measured just before each page, in the last column)")
    print(f"  {'':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8}  target")
    print(f"  {'hello app':24} {hello.requests_per_second:8.0f} {hello.p50_ms:8.1f} {hello.p99_ms:8.1f}")
    for label, result in results.items():
        if not isinstance(result, wrk.Result) or label == "hello":
            continue
        beside = results["hello beside"][label].requests_per_second
        ratio = result.requests_per_second / beside
        target = ""
        if label in RATIO_TARGETS:
            ok = ratio >= RATIO_TARGETS[label] and (label == "/healthz" or result.p99_ms < P99_TARGET_MS)
            p99 = "" if label == "/healthz" else f", p99 < {P99_TARGET_MS} ms"
            target = f">= {RATIO_TARGETS[label]} x hello{p99}: {_mark(ok)}"
        errors = f"  ({result.errors} errors)" if result.errors else ""
        print(
            f"  {label:24} {result.requests_per_second:8.0f} {result.p50_ms:8.1f} {result.p99_ms:8.1f} "
            f"{ratio:8.3f}  {target}{errors}  [hello {beside:.0f}]"
        )
    rss = results["worker_rss_mb"]
    print(
        f"  web worker RSS after the load: {', '.join(f'{mb:.0f}' for mb in rss)} MB "
        f"(target < {RSS_TARGET_MB}: {_mark(max(rss) < RSS_TARGET_MB)})"
    )


def scale_table(small: dict, large: dict) -> None:
    print(f"\nLatency at {LARGE:,} against {SMALL:,} customers (p50, same run settings; target within {FLAT_TARGET}x)")
    for label, result in large.items():
        if not isinstance(result, wrk.Result) or label == "hello":
            continue
        ratio = result.p50_ms / small[label].p50_ms
        print(
            f"  {label:24} {small[label].p50_ms:7.1f} ms -> {result.p50_ms:7.1f} ms  {ratio:5.2f}x  "
            f"{_mark(ratio <= FLAT_TARGET)}"
        )


def job_table(size: int, results: dict) -> None:
    print(f"\nScheduled jobs at {size:,} customers (one run each, in its own process)")
    for name, run in results.items():
        print(f"  {name:28} {run.seconds:8.3f} s   peak RSS {run.peak_mb:5.0f} MB   did {run.done}")


def renewal_table(result: dict) -> None:
    ratio = result["running_renewals_per_second"] / result["raw_intents_per_second"]
    print(f"\nRenewals: {renewals.WORKERS} workers over {result['due_orders']:,} due orders against localstripe")
    print(f"  localstripe raw PaymentIntents (create + confirm): {result['raw_intents_per_second']:.0f}/s")
    print(
        f"  renewals charged: {result['running_renewals_per_second']:.0f}/s once the workers run "
        f"({ratio:.2f} x raw; target >= 0.5: {_mark(ratio >= 0.5)}); {result['renewals_per_second']:.0f}/s "
        f"counting their start"
    )
    raw_cpu, used = result["raw_cpu_ms"], result["renewal_cpu_ms"]
    print(
        f"  CPU per raw PaymentIntent: localstripe {raw_cpu['localstripe']:.1f} ms, "
        f"the clients {raw_cpu['client']:.1f} ms"
    )
    # The rate the cores allow: 0.5 x raw leaves each renewal this much CPU, all processes together.
    budget = os.cpu_count() * 1000 / (0.5 * result["raw_intents_per_second"])
    print(
        f"  CPU per renewal (first run): workers {used['workers']:.1f} ms, localstripe {used['localstripe']:.1f} ms, "
        f"PostgreSQL {used['postgresql']:.1f} ms; the whole machine {used['machine']:.1f} ms, busy "
        f"{result['machine_busy']:.0%} of its {os.cpu_count()} cores (0.5 x raw leaves {budget:.1f} ms a renewal)"
    )
    print(
        f"  one worker killed with SIGKILL halfway; {result['stuck_after_kill']} charge(s) left mid-way, "
        f"finished by the repeated run"
    )
    print(
        f"  orders paid: {result['paid']:,}; with exactly one PaymentIntent: {result['orders_with_one_intent']:,}; "
        f"with more than one: {result['orders_with_more']} "
        f"({_mark(result['orders_with_more'] == 0 and result['orders_with_one_intent'] == result['due_orders'])}); "
        f"charged more than once: {result['orders_charged_twice']}"
    )


def main() -> None:
    if not wrk.available():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    machine()
    small_url = data.prepare(SMALL)
    small_pages = None
    if "pages" in PARTS or "scale" in PARTS:
        small_pages = pages.measure(small_url, data.sample(small_url), seconds=SECONDS, connections=CONNECTIONS)
        page_table(SMALL, small_pages)
    if "scale" in PARTS:
        large_url = data.prepare(LARGE)
        large_pages = pages.measure(large_url, data.sample(large_url), seconds=SECONDS, connections=CONNECTIONS)
        page_table(LARGE, large_pages)
        scale_table(small_pages, large_pages)
    if "jobs" in PARTS:
        job_table(SMALL, jobs.measure(small_url, JOB_DUE))
        if "scale" in PARTS:
            job_table(LARGE, jobs.measure(data.database_url(str(LARGE)), JOB_DUE))
    if "renewals" in PARTS:
        renewal_table(renewals.measure(RENEWAL_ORDERS))


if __name__ == "__main__":
    main()
