"""Process and measurement helpers shared by the benchmarks.

``Server`` starts one real daphne process on a loopback port, waits until it answers, and on exit
stops that process (and only that one) by its pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import importlib.metadata
import logging
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parent.parent
"""The project root: daphne runs here so ``backend.asgi`` and ``bench.apps`` import."""

LINLI_APP = "backend.asgi:application"
READY_PATH = "/api/v1/ping"
LOOPBACK = "127.0.0.1"

_PR_SET_PDEATHSIG = 1


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS`` in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ProcessLookupError(pid)  # a zombie has no VmRSS line


def cpu_plan() -> tuple[list[int] | None, list[int] | None]:
    """(server cpus, load generator cpus): one core each when we may use two or more, else no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return [cpus[0]], [cpus[1]]


@contextlib.contextmanager
def pinned(cpus: Iterable[int] | None) -> Iterator[None]:
    """Pin the current process to ``cpus`` for the duration of the block (no-op for ``None``)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values``, linear between closest ranks (numpy's default).

    ``values`` need not be sorted. An empty sequence gives ``nan``.
    """
    return percentiles(values, (p,))[0]


def percentiles(values: Sequence[float], ps: Iterable[float]) -> list[float]:
    """``percentile`` for several ``ps`` at the cost of one sort."""
    ps = list(ps)
    for p in ps:
        if not 0 <= p <= 100:
            raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return [math.nan for _ in ps]
    ordered = sorted(values)
    last = len(ordered) - 1
    out = []
    for p in ps:
        rank = last * p / 100
        low = math.floor(rank)
        high = min(low + 1, last)
        out.append(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))
    return out


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    try:
        daphne = importlib.metadata.version("daphne")
    except importlib.metadata.PackageNotFoundError:
        daphne = None
    return {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "daphne": daphne,
        "platform": platform.platform(terse=True),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def result(name: str, **figures: Any) -> dict[str, Any]:
    """The one JSON object a benchmark prints: its name, its figures, then the machine it ran on."""
    return {"bench": name, **figures, **machine()}


def _child_setup(cpus: list[int] | None, die_with_parent: bool) -> None:
    # Runs in the forked child before exec: only async-signal-safe-ish work.
    if cpus:
        os.sched_setaffinity(0, cpus)
    if die_with_parent:
        # If the benchmark process is killed outright, the server goes with it.
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def django_command(module: str, code: str) -> list[str]:
    """A command running ``code`` with Django set up and ``module``'s names imported: a bench's
    seed or change step, given to ``Server(prepare=...)`` or run by ``Server.run_django``."""
    return [sys.executable, "-c", f"import os, django; django.setup(); from {module} import *; {code}"]


class ServerError(RuntimeError):
    """The server did not start (its log tail is in the message)."""


class Server:
    """A real daphne process serving ``app`` on a free loopback port.

    ``with Server() as server: ...`` starts ``python -m backend.serve -b 127.0.0.1 -p PORT app`` (daphne) in the
    project root, runs the ``prepare`` commands first (same cwd and env), waits until
    ``GET ready_path`` answers 200, and on exit sends SIGTERM to that pid, waits, then SIGKILLs.

    The environment is ``os.environ`` plus Linli's dev settings and a throwaway SQLite database in
    a temporary directory (``server.tmp``, also ``$BENCH_TMP``), plus ``env`` overrides.
    """

    def __init__(
        self,
        app: str = LINLI_APP,
        *,
        env: Mapping[str, str] | None = None,
        cpus: Iterable[int] | None = None,
        prepare: Sequence[Sequence[str]] = (),
        ready_path: str = READY_PATH,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        prepare_timeout: float = 300.0,
        port: int | None = None,
        daphne_args: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.host = LOOPBACK
        self.port = port or free_port()
        self.cpus = sorted(cpus) if cpus is not None else None
        self.prepare = [list(cmd) for cmd in prepare]
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.prepare_timeout = prepare_timeout
        self.daphne_args = list(daphne_args)
        self._env_overrides = dict(env or {})
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    @classmethod
    def linli(cls, **kwargs: Any) -> Server:
        """Linli's real ASGI app on a freshly migrated throwaway SQLite database."""
        kwargs.setdefault("prepare", [[sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]])
        return cls(LINLI_APP, **kwargs)

    # -- what callers use -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("server is not running")
        return self._proc.pid

    @property
    def tmp(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("server is not running")
        return Path(self._tmp.name)

    @property
    def log_path(self) -> Path:
        return self.tmp / "daphne.log"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, RuntimeError):
            return ""

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "backend.settings",
                "LINLI_ENV": "dev",
                "DATABASE_URL": f"sqlite:///{self.tmp / 'db.sqlite3'}",
                "BENCH_TMP": str(self.tmp),
                "PYTHONUNBUFFERED": "1",
                "LINLI_ACCESS_LOG": "0",  # as in production, where nginx writes the access log
                "DEBUG": "0",  # as in production: no per-query SQL logging
            }
        )
        env.update(self._env_overrides)
        pythonpath = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + pythonpath if pythonpath else "")
        return env

    def run_django(self, module: str, code: str, *, timeout: float) -> None:
        """Run ``django_command(module, code)`` against this server's database and files."""
        done = subprocess.run(
            django_command(module, code),
            cwd=ROOT,
            env=self.environ(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._proc is not None:
            raise RuntimeError("server already started")
        self._tmp = tempfile.TemporaryDirectory(prefix="linli-bench-")
        try:
            env = self.environ()
            for cmd in self.prepare:
                log.info("prepare: %s", " ".join(cmd))
                done = subprocess.run(
                    cmd,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=self.prepare_timeout,
                    check=False,
                )
                if done.returncode != 0:
                    output = (done.stdout + done.stderr).decode(errors="replace")[-4000:]
                    raise ServerError(f"prepare command {cmd} failed ({done.returncode}):\n{output}")
            self._spawn(env)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, env: dict[str, str]) -> None:
        cmd = [
            sys.executable,
            "-m",
            "backend.serve",  # daphne's command line, as Linli runs it
            "-b",
            self.host,
            "-p",
            str(self.port),
            *self.daphne_args,
            self.app,
        ]
        log.info("start: %s (cpus %s)", " ".join(cmd), self.cpus or "any")
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        die_with_parent = threading.current_thread() is threading.main_thread()
        self._proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _child_setup(self.cpus, die_with_parent),
        )

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerError(
                    f"daphne exited with {self._proc.returncode} before answering:\n{self.log_tail()}"
                )
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
            try:
                conn.request("GET", self.ready_path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    log.info("ready: %s%s (pid %d)", self.url, self.ready_path, self._proc.pid)
                    return
                last_error = f"HTTP {response.status}"
            except OSError as exc:
                last_error = repr(exc)
            finally:
                conn.close()
            time.sleep(0.05)
        raise ServerError(
            f"{self.url}{self.ready_path} not ready after {self.ready_timeout}s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("daphne pid %d ignored SIGTERM for %ss; killing it", proc.pid, self.stop_timeout)
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
