"""Starting and stopping the processes a benchmark measures: gunicorn (with the project's
gunicorn.conf.py), localstripe."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answers(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def gunicorn(app_path: str, env: dict[str, str], probe: str = "/"):
    """gunicorn with the production settings; yields (base URL, master pid)."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", app_path],
            cwd=ROOT,
            env={**os.environ, "GUNICORN_ACCESS_LOG": "", **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_answers(base + probe)
            except RuntimeError as error:
                log.seek(0)
                raise RuntimeError(f"{error}; gunicorn said:\n{log.read().decode()[-2000:]}") from None
            yield base, process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


def worker_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB."""
    output = subprocess.run(["ps", "--ppid", str(master_pid), "-o", "rss="], capture_output=True, text=True).stdout
    return [int(line) / 1024 for line in output.split()]


@contextmanager
def localstripe():
    """localstripe without its write of the whole store after every change
    (bench/localstripe_fast.py); yields (base URL, pid)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.localstripe_fast", "--port", str(port), "--from-scratch"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{url}/js.stripe.com/v3/")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
