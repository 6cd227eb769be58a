"""What the published OpenAPI says beyond what django-ninja writes by itself.

* **Error codes.** Each error response of each operation lists the ``code`` values it can carry
  (``x-error-codes``, also in its description), so a client knows what to switch on. They are
  generated, not written by hand: the generic codes of the status (``not_found`` for 404,
  ``token_expired`` for 401…), the codes of the operation's domain
  (``backend/<domain>/errors.py``, by their status), and the codes a route names with
  ``@raises(...)`` because it calls into another domain. The suite's contract check fails a test
  whose response carries a code its operation does not list (``tests/support/contract.py``).
* **Id range.** Integer path and query parameters without a bound are bigint keys: the range the
  database can hold is published (``minimum``/``maximum``), and a value outside it is a 422
  (``api.errors``), never a database overflow.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from backend.core.errors import DomainError

MAX_ID = 2**63 - 1
MIN_ID = -(2**63)

F = TypeVar("F", bound=Callable[..., Any])

#: Codes every operation can answer with a status it declares: the API's own machinery (auth,
#: body parsing, idempotency, throttles, body limit).
GENERIC_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request", "invalid_json", "malformed_request"),
    401: ("not_authenticated", "invalid_token", "token_expired"),
    403: ("permission_denied",),
    404: ("not_found",),
    409: ("conflict", "invalid_transition", "idempotency_in_progress"),
    413: ("request_too_large",),
    422: ("validation_error", "idempotency_key_reused"),
    429: ("rate_limited",),
    503: ("service_unavailable",),
}


def raises(*error_classes: type[DomainError]) -> Callable[[F], F]:
    """Name the errors of other domains a route can answer (its own domain's are listed anyway)::

    @router.post("/shifts/{shift_id}/signups", response=...)
    @raises(AccountCancelled)
    def shift_signup(request, shift_id: int): ...
    """

    def mark(func: F) -> F:
        func.__linli_raises__ = (*getattr(func, "__linli_raises__", ()), *error_classes)  # type: ignore[attr-defined]
        return func

    return mark


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def domain_codes(domain: str) -> dict[int, set[str]]:
    """``{status: {code}}`` of the DomainErrors defined in ``backend/<domain>/errors.py``."""
    module = f"backend.{domain}.errors"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        return {}
    found: dict[int, set[str]] = {}
    for cls in _subclasses(DomainError):
        if cls.__module__ == module:
            found.setdefault(cls.status, set()).add(cls.code)
    return found


def codes_for(
    domain: str, statuses: set[int], extra: tuple[type[DomainError], ...] = ()
) -> dict[int, list[str]]:
    """The error codes an operation of ``domain`` that declares ``statuses`` can answer."""
    codes: dict[int, set[str]] = {status: set(GENERIC_CODES.get(status, ())) for status in statuses}
    own = domain_codes(domain)
    for cls in extra:
        own.setdefault(cls.status, set()).add(cls.code)
    for status, names in own.items():
        if status in codes:
            codes[status] |= names
    return {status: sorted(names) for status, names in codes.items() if names}


def _view_extras(api: Any) -> dict[str, tuple[type[DomainError], ...]]:
    extras: dict[str, tuple[type[DomainError], ...]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                marked = getattr(operation.view_func, "__linli_raises__", ())
                if marked:
                    extras[api.get_openapi_operation_id(operation)] = marked
    return extras


def _bound_ids(parameters: list[dict[str, Any]]) -> None:
    for parameter in parameters:
        if parameter.get("in") not in {"path", "query"}:
            continue
        schema = parameter.get("schema", {})
        for branch in [schema, *schema.get("anyOf", [])]:
            if branch.get("type") == "integer":
                branch.setdefault("maximum", MAX_ID)
                branch.setdefault("minimum", MIN_ID)


def publish(api: Any, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (ninja's OpenAPI) with error codes per response and id ranges."""
    extras = _view_extras(api)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            _bound_ids(operation.get("parameters", []))
            op_id = operation.get("operationId", "")
            domain = op_id.split("_")[1] if op_id.count("_") >= 2 else ""
            # ninja's keys are ints until the document is serialised.
            responses = {int(key): value for key, value in operation.get("responses", {}).items()}
            statuses = {status for status in responses if status >= 400}
            for status, names in codes_for(domain, statuses, extras.get(op_id, ())).items():
                response = responses[status]
                response["x-error-codes"] = names
                response["description"] = f"Error codes: {', '.join(f'`{n}`' for n in names)}."
    return document
