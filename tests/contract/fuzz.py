"""Schemathesis over the whole API, in process, as the public and as each kind of staff.

The ASGI application (``backend.asgi.application``: the lean API handler, the lookup fast path)
is called in this process through Schemathesis' ASGI transport, against the test database seeded
with the demo data (``manage.py seed_demo``), so generated ids meet real rows. Every request is
counted, and every response also goes through the suite's contract check
(``tests/support/contract.py``: declared status, JSON error body, declared error code).

Bounded by default (a fixed seed, few examples per operation, no coverage phase) so it runs with
the suite in a few minutes; ``LINLI_FUZZ=long`` runs every phase (coverage included) with 25
examples per operation for every identity, and ``LINLI_FUZZ_SEED`` picks the seed.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/api/v1"
# Statuses that say the server failed; 503 (an outside service not configured or away) is a
# declared answer with its own code.
SERVER_ERRORS = {500, 501, 502, 504, 505}
IDENTITIES = ("anonymous", "volunteer", "coordinator", "reviewer", "platform_admin")
# Demo account of each identity (backend/accounts/demo.py): the demo data gives each its scope.
DEMO_ROLE = {"volunteer": "volunteer", "coordinator": "coordinator", "reviewer": "reviewer"}


def long_run() -> bool:
    return os.environ.get("LINLI_FUZZ", "").lower() == "long"


def settings_for(identity: str) -> dict[str, Any]:
    """Schemathesis settings of one identity's run (the keys of ``schemathesis.toml``)."""
    seed = int(os.environ.get("LINLI_FUZZ_SEED", "17"))
    checks = {
        # Valid-looking input may still be refused for what JSON Schema cannot say (a check
        # digit, a name already taken, a date in the past): 422 with its own code is an answer.
        # 503 is the declared answer of an outside service this server has no configuration
        # for (Firebase, WeChat): an answer, not a crash (the contract check holds it to the
        # operation's declared statuses and error codes).
        "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 401, 403, 404, 409, 422, 429, 503]},
        "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 503]},
    }
    if long_run():
        return {"seed": seed, "generation": {"max-examples": 25}, "checks": checks}
    # The bounded run: valid and invalid input generated per operation and links followed
    # (stateful), for every identity, a few examples each. The coverage phase (boundary values of
    # every parameter: ~6,000 requests, minutes here) runs in the long run.
    phases = ["examples", "fuzzing", "stateful"]
    return {
        "seed": seed,
        "generation": {"max-examples": 4 if identity == "platform_admin" else 3},
        "checks": checks,
        "phases": {
            name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")
        },
    }


@dataclass
class Report:
    identity: str
    requests: int = 0
    seconds: float = 0.0
    server_errors: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    contract: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.identity}: {self.requests} requests in {self.seconds:.0f} s, "
            f"{sum(self.server_errors.values())} server errors, {len(self.failures)} failing checks, "
            f"{len(self.contract)} contract violations, {len(self.errors)} errors"
        )

    def details(self) -> str:
        lines = [self.summary()]
        lines += [f"  5xx {k}: {v}" for k, v in self.server_errors.items()]
        lines += [f"  check {k}\n    {v}" for k, v in self.failures.items()]
        lines += [f"  contract {k}\n    {v}" for k, v in self.contract.items()]
        lines += [f"  error {e}" for e in self.errors]
        return "\n".join(lines)


class CountingApp:
    """The ASGI application, counting HTTP requests and recording server errors."""

    def __init__(self, app: Any, report: Report) -> None:
        self.app = app
        self.report = report

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.report.requests += 1
        # The test client names itself "testclient"; a server is always given an address.
        scope = {**scope, "client": ("127.0.0.1", 50000)}

        async def counted(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] in SERVER_ERRORS:
                self.report.server_errors[f"{scope['method']} {scope['path']} -> {message['status']}"] += 1
            await send(message)

        return await self.app(scope, receive, counted)


def bearer_for(identity: str) -> dict[str, str]:
    if identity == "anonymous":
        return {}
    from backend.accounts.demo import demo_user
    from tests.helpers import token_for

    return {"Authorization": f"Bearer {token_for(demo_user(DEMO_ROLE.get(identity, identity)))}"}


def run(identity: str) -> Report:
    """One identity's Schemathesis run over the API; the report of what it found."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import Status, events, from_schema

    from api.main import api
    from backend.asgi import application
    from tests.support import contract

    report = Report(identity)
    config = SchemathesisConfig.from_dict(
        {
            **settings_for(identity),
            "headers": {**bearer_for(identity), "Accept-Language": "en"},
            "suppress-health-check": ["all"],
            # A shared, loaded machine (and SQLite's one writer) can hold a request past the
            # default 10 s: the long run once timed out on POST /associations that way.
            "request-timeout": 60,
        }
    )
    document = api.get_openapi_schema(path_prefix=PREFIX + "/")
    schema = schemathesis.openapi.from_dict(document, config=config)
    schema.app = CountingApp(application, report)
    schema.config.update(base_url="http://testserver")

    def record(method: str, path: str, status: int, content_type: str, body: bytes, **kw: Any) -> None:
        try:
            contract.check(method, path, status, content_type, body, **kw)
        except contract.ContractViolation as exc:
            report.contract.setdefault(str(exc).split(":", 1)[0], str(exc)[:600])

    started = time.monotonic()
    with contract.checking_with(record):
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                _collect(report, event, Status)
            elif isinstance(event, events.NonFatalError):
                report.errors.append(f"{event.label}: {str(event.value)[:300]}")
            elif isinstance(event, events.FatalError):
                report.errors.append(f"fatal: {event.exception!r}"[:300])
    report.seconds = time.monotonic() - started
    return report


def _collect(report: Report, event: Any, status: Any) -> None:
    for checks in event.recorder.checks.values():
        for check in checks:
            if check.status != status.FAILURE or check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = f"{event.recorder.label} {check.name}: {getattr(failure, 'title', '')}"
            if key not in report.failures:
                report.failures[key] = (
                    f"{str(failure)[:300]} | {check.failure_info.code_sample[:500]}".replace("\n", " ")
                )
