"""ASGI scopes for tests that call an application in process (the fast paths)."""

from __future__ import annotations

from typing import Any


def http_scope(path: str, method: str = "GET", headers: dict[str, str] | None = None, **extra: Any) -> dict:
    """An HTTP scope as daphne builds it, from the loopback, headers given by name."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        **extra,
    }
