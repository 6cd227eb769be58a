"""Run the real Firebase Auth emulator (firebase-tools@15) for the test suite, offline.

Public API
----------
- ``AuthEmulator``: start/stop object and context manager; ``.host`` is ``"127.0.0.1:PORT"``.
- ``sign_in_with_phone(host, phone_e164, project_id="demo-linli") -> str``: ID token via the
  emulator's SMS flow (sendVerificationCode -> verificationCodes -> signInWithPhoneNumber).
- ``sign_in_with_email(host, email, password="...", project_id="demo-linli") -> str``: ID token
  for an email/password account (``accounts:signUp``, or sign-in when the email already exists).
- ``emulator_available() -> str | None``: path of the ``firebase`` binary, or None.
- ``ensure_firebase_tools() -> str``: runs ``scripts/ensure-firebase-tools.sh``.
- ``require_or_skip(reason)``: ``pytest.skip``, or ``pytest.fail`` when LINLI_REQUIRE_EMULATOR=1.
- ``firebase_auth_emulator``: session-scoped pytest fixture; sets FIREBASE_AUTH_EMULATOR_HOST.

Everything talks to 127.0.0.1 only; no proxy from the environment is ever used.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_PROJECT_ID = "demo-linli"
LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_SCRIPT = REPO_ROOT / "scripts" / "ensure-firebase-tools.sh"
REQUIRE_ENV = "LINLI_REQUIRE_EMULATOR"
EMULATOR_HOST_ENV = "FIREBASE_AUTH_EMULATOR_HOST"

# A direct opener: HTTP(S)_PROXY from the environment must never see loopback test traffic.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_HTTP_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# Locating / installing firebase-tools
# --------------------------------------------------------------------------------------------


def tools_cache_dir() -> Path:
    root = os.environ.get("LINLI_TOOLS_CACHE") or str(Path.home() / ".cache" / "linli")
    return Path(root) / "firebase-tools"


def emulator_available() -> str | None:
    """Path of a usable ``firebase`` binary (cache dir first, then PATH), or None.

    ``LINLI_FIREBASE_BIN`` may point at a specific binary. Node.js must be on PATH too.
    """
    if shutil.which("node") is None:
        return None
    candidates = [
        os.environ.get("LINLI_FIREBASE_BIN"),
        str(tools_cache_dir() / "node_modules" / ".bin" / "firebase"),
        shutil.which("firebase"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_firebase_tools(timeout: float = 900.0) -> str:
    """Install firebase-tools@15 into the cache (if needed) and return the binary path."""
    proc = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(ENSURE_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{ENSURE_SCRIPT.name} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    lines = proc.stdout.strip().splitlines()
    path = lines[-1] if lines else ""
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(f"{ENSURE_SCRIPT.name} printed no usable binary path: {proc.stdout!r}")
    return path


def emulator_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def require_or_skip(reason: str) -> None:
    """Skip the test (local runs without Node), or fail it when LINLI_REQUIRE_EMULATOR=1 (CI)."""
    if emulator_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------
# The emulator process
# --------------------------------------------------------------------------------------------


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all held open at once, then released)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class EmulatorStartError(RuntimeError):
    pass


class AuthEmulator:
    """The Firebase Auth emulator in a subprocess (own process group, own temp dir).

    >>> with AuthEmulator() as emu:
    ...     token = sign_in_with_phone(emu.host, "+8613800138000")
    """

    def __init__(
        self,
        firebase_bin: str | None = None,
        project_id: str = DEFAULT_PROJECT_ID,
        port: int | None = None,
        start_timeout: float = 90.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.firebase_bin = firebase_bin
        self.project_id = project_id
        self.requested_port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        self._log_file: Any = None
        self._lock = threading.Lock()

    # ---- properties ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        if self.port is None:
            raise RuntimeError("emulator not started")
        return f"{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ---- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> AuthEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> AuthEmulator:
        with self._lock:
            if self._proc is not None:
                return self
            binary = self.firebase_bin or emulator_available()
            if binary is None:
                raise EmulatorStartError(
                    "firebase-tools not found; run scripts/ensure-firebase-tools.sh (needs Node.js/npm)"
                )
            self.firebase_bin = binary
            began = time.monotonic()
            attempts = 1 if self.requested_port else 3
            last_error: EmulatorStartError | None = None
            for _ in range(attempts):
                try:
                    self._start_once(binary)
                except EmulatorStartError as exc:  # e.g. a port grabbed between pick and bind
                    last_error = exc
                    continue
                self.startup_seconds = time.monotonic() - began
                atexit.register(self.stop)
                return self
            assert last_error is not None
            raise last_error

    def _start_once(self, binary: str) -> None:
        auth_port, hub_port, logging_port = _free_ports(3)
        if self.requested_port:
            auth_port = self.requested_port
        tmpdir = Path(tempfile.mkdtemp(prefix="linli-fb-auth-"))
        home = tmpdir / "home"
        home.mkdir()
        config = {
            "emulators": {
                "auth": {"host": LOOPBACK, "port": auth_port},
                "hub": {"host": LOOPBACK, "port": hub_port},
                "logging": {"host": LOOPBACK, "port": logging_port},
                "ui": {"enabled": False},
            }
        }
        (tmpdir / "firebase.json").write_text(json.dumps(config, indent=2))
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in {
                EMULATOR_HOST_ENV,
                "GOOGLE_APPLICATION_CREDENTIALS",
                "FIREBASE_TOKEN",
                "GCLOUD_PROJECT",
                "FIREBASE_CONFIG",
            }
        }
        env.update(
            {
                # A throw-away HOME: no stored login, no analytics opt-in, no prompts.
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / ".config"),
                "CI": "true",  # non-interactive
                "NO_UPDATE_NOTIFIER": "1",  # no update check against the package registry
                "FIREBASE_CLI_DISABLE_UPDATE_CHECK": "true",
                "NO_COLOR": "1",
            }
        )
        log_path = tmpdir / "emulator.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [binary, "emulators:start", "--only", "auth", "--project", self.project_id]
        proc = subprocess.Popen(
            cmd,
            cwd=tmpdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group (pgid == pid): stop() kills only that
        )
        self._proc, self._tmpdir, self._log_file, self.port = proc, tmpdir, log_file, auth_port
        try:
            self._wait_ready()
        except BaseException as exc:
            log = self._read_log() or "(no log)"
            self.stop()
            if isinstance(exc, EmulatorStartError):
                raise EmulatorStartError(
                    f"Firebase Auth emulator did not become ready on {LOOPBACK}:{auth_port} ({exc}); "
                    f"log tail:\n{log[-3000:]}"
                ) from None
            raise

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmulatorStartError(f"emulator exited early with code {self._proc.returncode}")
            try:
                with _OPENER.open(f"{self.base_url}/", timeout=2) as resp:
                    body = json.loads(resp.read() or b"{}")
                if body.get("authEmulator", {}).get("ready"):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        raise EmulatorStartError(f"timed out after {self.start_timeout:.0f}s")

    def _read_log(self) -> str | None:
        if self._tmpdir is None:
            return None
        try:
            return (self._tmpdir / "emulator.log").read_text(errors="replace")
        except OSError:
            return None

    def log_text(self) -> str:
        """The emulator's stdout/stderr so far (for debugging failing tests)."""
        return self._read_log() or ""

    def stop(self) -> None:
        """Terminate the process group this object started (and nothing else); idempotent."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        if proc is not None:
            _stop_process_group(proc, self.stop_timeout)
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # ---- emulator REST helpers -------------------------------------------------------------

    def reset(self) -> None:
        """Delete every account in the emulator's project."""
        _request("DELETE", self.host, f"/emulator/v1/projects/{self.project_id}/accounts")

    def sign_in_with_phone(self, phone_e164: str) -> str:
        return sign_in_with_phone(self.host, phone_e164, project_id=self.project_id)

    def sign_in_with_email(self, email: str, password: str = "linli-test-pass") -> str:
        return sign_in_with_email(self.host, email, password, project_id=self.project_id)


def _stop_process_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the group led by ``proc``; SIGKILL it if it lingers.

    The leader is observed with WNOWAIT (not reaped) before the final SIGKILL sweep, so the
    process-group id still belongs to us when we signal it; Popen reaps it afterwards.
    """
    pgid = proc.pid
    if proc.returncode is not None:  # already reaped: its pgid may have been reused
        return

    def signal_group(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def leader_state() -> str:
        try:
            info = os.waitid(os.P_PID, pgid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped behind our back: do not signal a maybe-reused id
            return "gone"
        return "alive" if info is None else "zombie"

    signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    state = leader_state()
    while state == "alive" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = leader_state()
    if state != "gone":
        # The leader is alive or an unreaped zombie, so the pgid is still ours: sweep stragglers.
        signal_group(signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
        proc.wait(timeout=timeout)


# --------------------------------------------------------------------------------------------
# Client-side REST flows (what the Firebase JS/mobile SDK would do)
# --------------------------------------------------------------------------------------------


def _request(method: str, host: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    hostname = host.rsplit(":", 1)[0]
    if hostname not in {"127.0.0.1", "localhost", "::1", "[::1]"}:
        raise ValueError(f"refusing to talk to a non-loopback emulator host: {host!r}")
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(
        f"http://{host}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    try:
        with _OPENER.open(req, timeout=_HTTP_TIMEOUT) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise EmulatorRequestError(exc.code, f"{method} {path}: HTTP {exc.code}: {detail}") from None
    return json.loads(body) if body else {}


class EmulatorRequestError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_IDP = "/identitytoolkit.googleapis.com/v1"


def sign_in_with_phone(host: str, phone_e164: str, project_id: str = DEFAULT_PROJECT_ID) -> str:
    """Sign in (creating the user if needed) with a phone number; return the ID token."""
    return phone_sign_in(host, phone_e164, project_id)["idToken"]


def phone_sign_in(host: str, phone_e164: str, project_id: str = DEFAULT_PROJECT_ID) -> dict[str, Any]:
    """Like ``sign_in_with_phone`` but returns the whole response (idToken, refreshToken, localId…)."""
    sent = _request(
        "POST",
        host,
        f"{_IDP}/accounts:sendVerificationCode?key=any",
        {"phoneNumber": phone_e164, "recaptchaToken": "x"},
    )
    session_info = sent["sessionInfo"]
    codes = _request("GET", host, f"/emulator/v1/projects/{project_id}/verificationCodes")
    matching = [c for c in codes.get("verificationCodes", []) if c.get("sessionInfo") == session_info]
    if not matching:
        raise EmulatorRequestError(404, f"no verification code recorded for {phone_e164}")
    result = _request(
        "POST",
        host,
        f"{_IDP}/accounts:signInWithPhoneNumber?key=any",
        {"sessionInfo": session_info, "code": matching[-1]["code"]},
    )
    if "idToken" not in result:
        raise EmulatorRequestError(500, f"signInWithPhoneNumber returned no idToken: {result}")
    return result


def sign_in_with_email(
    host: str,
    email: str,
    password: str = "linli-test-pass",
    project_id: str = DEFAULT_PROJECT_ID,
) -> str:
    """ID token for an email/password user (sign_in_provider == "password").

    Signs up; if the email already exists, signs in with the password instead.
    ``project_id`` is accepted for symmetry (the emulator runs a single project).
    """
    del project_id
    body = {"email": email, "password": password, "returnSecureToken": True}
    try:
        result = _request("POST", host, f"{_IDP}/accounts:signUp?key=any", body)
    except EmulatorRequestError as exc:
        if "EMAIL_EXISTS" not in str(exc):
            raise
        result = _request("POST", host, f"{_IDP}/accounts:signInWithPassword?key=any", body)
    return result["idToken"]


# --------------------------------------------------------------------------------------------
# pytest fixture
# --------------------------------------------------------------------------------------------

# One emulator per process (one per xdist worker), shared even if the fixture is registered more
# than once (e.g. imported by both the main conftest and a test module).
_shared: dict[str, Any] = {"emulator": None, "users": 0, "saved_env": None}
_shared_lock = threading.Lock()


def _acquire_shared() -> AuthEmulator:
    with _shared_lock:
        if _shared["emulator"] is None:
            binary = emulator_available()
            if binary is None and emulator_required():
                try:
                    binary = ensure_firebase_tools()
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                    pytest.fail(f"could not install firebase-tools: {exc}", pytrace=False)
            if binary is None:
                require_or_skip(
                    "Firebase Auth emulator not installed (run scripts/ensure-firebase-tools.sh; "
                    "needs Node.js + npm)"
                )
            emulator = AuthEmulator(firebase_bin=binary)
            try:
                emulator.start()
            except EmulatorStartError as exc:
                pytest.fail(str(exc), pytrace=False)
            _shared["emulator"] = emulator
            _shared["saved_env"] = os.environ.get(EMULATOR_HOST_ENV)
            os.environ[EMULATOR_HOST_ENV] = emulator.host
        _shared["users"] += 1
        return _shared["emulator"]


def _release_shared() -> None:
    with _shared_lock:
        _shared["users"] -= 1
        if _shared["users"] > 0 or _shared["emulator"] is None:
            return
        emulator, _shared["emulator"] = _shared["emulator"], None
        saved, _shared["saved_env"] = _shared["saved_env"], None
        if saved is None:
            os.environ.pop(EMULATOR_HOST_ENV, None)
        else:
            os.environ[EMULATOR_HOST_ENV] = saved
        emulator.stop()


@pytest.fixture(scope="session")
def firebase_auth_emulator() -> Iterator[AuthEmulator]:
    """The running Auth emulator for this session (per xdist worker); FIREBASE_AUTH_EMULATOR_HOST
    points at it while the session lasts. Skips (or fails with LINLI_REQUIRE_EMULATOR=1) when
    firebase-tools/Node are missing."""
    emulator = _acquire_shared()
    try:
        yield emulator
    finally:
        _release_shared()
