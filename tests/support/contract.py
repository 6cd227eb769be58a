"""Every API response the suite produces is checked against the served OpenAPI document.

A middleware (installed for the test run by ``backend.settings`` when ``LINLI_CONTRACT_CHECK``
is on, which the suite's conftest sets) looks up the operation of each ``/api/v1/`` response by
method and path template, and checks that its status is declared and that a JSON body validates
against the declared schema (JSON Schema 2020-12, ``$ref`` into ``components``). A response that
breaks the published contract fails the test that produced it, with the operation, status, the
schema error and the body.

Paths that match no operation (unknown URLs, wrong methods) must still answer with the one
error body.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

PREFIX = "/api/v1"
ERROR_KEYS = {"code", "message", "details"}


class ContractViolation(AssertionError):
    pass


@functools.cache
def _document() -> dict[str, Any]:
    from api.main import api

    # The prefix as served (with its slash): without it, routers mounted at "" lose theirs.
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix=PREFIX + "/")))


@functools.cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any], str]]:
    ops = []
    for template, item in _document()["paths"].items():
        pattern = re.compile(
            "^"
            + re.sub(r"\{[^}/]+\}", r"[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
            + "$"
        )
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete", "head", "options"}:
                ops.append((pattern, method, operation, template))
    # Literal segments before parameters: /events/live-stats before /events/{id}.
    ops.sort(key=lambda op: (op[3].count("{"), op[3]))
    return ops


@functools.cache
def _validator_for(schema_json: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    document = _document()
    resource = Resource.from_contents(
        document, default_specification=__import__("referencing.jsonschema").jsonschema.DRAFT202012
    )
    registry = Registry().with_resource("urn:linli:openapi", resource)
    schema = json.loads(schema_json)
    schema = {"$id": "urn:linli:openapi#schema", **_rebase(schema)}
    return Draft202012Validator(schema, registry=registry)


def _rebase(node: Any) -> Any:
    """``#/components/...`` references resolved against the whole document."""
    if isinstance(node, dict):
        return {
            k: (
                "urn:linli:openapi" + v
                if k == "$ref" and isinstance(v, str) and v.startswith("#/")
                else _rebase(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def find_operation(method: str, path: str) -> tuple[dict[str, Any], str] | None:
    if not path.startswith(PREFIX):
        return None
    method = method.lower()
    # The most literal template that matches the path is the one Django routes to: another
    # method on it (PATCH /filings/name-check) is answered 405, not by /filings/{filing_id}.
    chosen = None
    for pattern, op_method, operation, template in _operations():
        if chosen is not None and template != chosen:
            break
        if pattern.match(path):
            chosen = template
            if op_method == method:
                return operation, template
    return None


def check(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    """Raise ``ContractViolation`` when the response breaks the published contract."""
    if not path.startswith(PREFIX + "/") or path.startswith((PREFIX + "/docs", PREFIX + "/openapi.json")):
        return
    found = find_operation(method, path)
    is_json = content_type.split(";")[0].strip() == "application/json"
    if found is None:
        if status >= 400:
            _check_error_body(f"{method} {path}", status, is_json, body)
        return
    operation, template = found
    where = f"{method.upper()} {template} ({path}) -> {status}"
    responses = operation.get("responses", {})
    declared = responses.get(str(status)) or responses.get("default")
    if declared is None:
        raise ContractViolation(
            f"{where}: status {status} is not declared (declared: {sorted(responses)}); body: {body[:500]!r}"
        )
    schema = (declared.get("content") or {}).get("application/json", {}).get("schema")
    if status >= 400:
        _check_error_body(where, status, is_json, body)
    if schema is None or not is_json or not body:
        return
    payload = json.loads(body)
    errors = sorted(
        _validator_for(json.dumps(schema, sort_keys=True)).iter_errors(payload), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        raise ContractViolation(
            f"{where}: body breaks the schema at {'/'.join(map(str, first.absolute_path)) or '(root)'}: "
            f"{first.message}\nbody: {body[:800]!r}"
        )


def _check_error_body(where: str, status: int, is_json: bool, body: bytes) -> None:
    if not is_json:
        raise ContractViolation(f"{where}: error {status} without the JSON error body: {body[:300]!r}")
    payload = json.loads(body)
    if not isinstance(payload, dict) or set(payload) != ERROR_KEYS:
        raise ContractViolation(
            f"{where}: error {status} body is not {{code, message, details}}: {payload!r}"
        )


# What the middleware calls for each response: ``check`` (a violation fails the request, and so
# the test) unless a test collects violations instead (``checking_with``).
_checker: Callable[..., None] = check


@contextlib.contextmanager
def checking_with(checker: Callable[..., None]) -> Iterator[None]:
    """Route every response of the block through ``checker`` (same arguments as ``check``)."""
    global _checker
    previous, _checker = _checker, checker
    try:
        yield
    finally:
        _checker = previous


class ContractMiddleware:
    """Checks each API response (sync and async chains); outermost, so it sees the final body."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        self._check(request, response)
        return response

    async def __acall__(self, request: Any) -> Any:
        response = await self.get_response(request)
        self._check(request, response)
        return response

    @staticmethod
    def _check(request: Any, response: Any) -> None:
        if getattr(response, "streaming", False):
            return
        _checker(
            request.method or "GET",
            request.path,
            response.status_code,
            response.get("Content-Type", ""),
            response.content,
        )
