"""What the published OpenAPI says beyond what django-ninja writes by itself.

* **Error codes.** Each error response of each operation lists the ``code`` values it can carry
  (``x-error-codes``, also in its description), so a client knows what to switch on. They are
  generated, not written by hand: the generic codes of the status (``not_found`` for 404,
  ``token_expired`` for 401…), the codes of the operation's domain
  (``backend/<domain>/errors.py``, by their status), and the codes a route names with
  ``@raises(...)`` because it calls into another domain. The suite's contract check fails a test
  whose response carries a code its operation does not list (``tests/support/contract.py``).
* **Id range.** Integer path and query parameters without a bound are bigint keys: they take the
  range the database can hold (``bound_ids``), published as ``minimum``/``maximum``; a value
  outside it is a 422, never a database overflow (``api.errors`` catches what is left).
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import annotated_types
from ninja.params.models import PathModel, QueryModel

from backend.core.errors import DomainError

MAX_ID = 2**63 - 1
MIN_ID = -(2**63)

F = TypeVar("F", bound=Callable[..., Any])

#: Codes every operation can answer with a status it declares: the API's own machinery (auth,
#: body parsing, idempotency, throttles, body limit, the database or media storage away).
GENERIC_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request", "invalid_json", "malformed_request"),
    401: ("not_authenticated", "invalid_token", "token_expired"),
    403: ("permission_denied",),
    404: ("not_found",),
    409: ("conflict", "invalid_transition", "idempotency_in_progress"),
    413: ("request_too_large",),
    422: ("validation_error", "idempotency_key_reused"),
    429: ("rate_limited",),
    503: ("service_unavailable", "storage_unavailable"),
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


def _subclasses(cls: type[DomainError]) -> Iterator[type[DomainError]]:
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
            found.setdefault(cls.status, set()).update((cls.code, *cls.codes))
    return found


def codes_for(
    domain: str, statuses: set[int], extra: tuple[type[DomainError], ...] = ()
) -> dict[int, list[str]]:
    """The error codes an operation of ``domain`` that declares ``statuses`` can answer."""
    codes: dict[int, set[str]] = {status: set(GENERIC_CODES.get(status, ())) for status in statuses}
    own = domain_codes(domain)
    for cls in extra:
        own.setdefault(cls.status, set()).update((cls.code, *cls.codes))
    for status, names in own.items():
        if status in codes:
            codes[status] |= names
    return {status: sorted(names) for status, names in codes.items() if names}


def _operations(api: Any) -> Iterator[Any]:
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            yield from path_view.operations


def _view_extras(api: Any) -> dict[str, tuple[type[DomainError], ...]]:
    extras: dict[str, tuple[type[DomainError], ...]] = {}
    for operation in _operations(api):
        marked = getattr(operation.view_func, "__linli_raises__", ())
        if marked:
            extras[api.get_openapi_operation_id(operation)] = marked
    return extras


def _plain_int(annotation: Any) -> bool:
    return annotation is int or (
        typing.get_origin(annotation) in (typing.Union, types.UnionType)
        and int in typing.get_args(annotation)
        and not {a for a in typing.get_args(annotation) if a not in (int, type(None))}
    )


def bound_ids(api: Any) -> None:
    """Every unbounded integer path or query parameter takes the bigint range: a larger value is
    a 422 from parameter validation, and the range is published. Called once the routers are
    mounted (api.main)."""
    seen: set[int] = set()
    for operation in _operations(api):
        for model in operation.models:
            if id(model) in seen or not issubclass(model, PathModel | QueryModel):
                continue
            seen.add(id(model))
            changed = False
            for field in model.model_fields.values():
                bounded = any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in field.metadata)
                if _plain_int(field.annotation) and not bounded:
                    field.metadata += [annotated_types.Ge(MIN_ID), annotated_types.Le(MAX_ID)]
                    changed = True
            if changed:
                model.model_rebuild(force=True)


_DOCUMENTED = re.compile(r"`([a-z][a-z0-9_]*)`")


def _with_codes(
    responses: dict[Any, Any], domain: str, extra: tuple[type[DomainError], ...]
) -> dict[str, Any]:
    """Responses keyed by status text (ninja's int keys merged with ``openapi_extra``'s text
    ones), each error response with its codes: generated ones, and codes a route's own
    description names in backticks (``CONTENT_CHECKED``'s `content_rejected`)."""
    merged: dict[str, dict[str, Any]] = {}
    for key, response in responses.items():
        merged[str(key)] = {**merged.get(str(key), {}), **response}
    codes = codes_for(domain, {int(k) for k in merged if int(k) >= 400}, extra)
    for key, response in merged.items():
        if int(key) < 400:
            continue
        description = response.get("description", "")
        names = sorted({*codes.get(int(key), ()), *_DOCUMENTED.findall(description)})
        response["x-error-codes"] = names
        listed = f"Error codes: {', '.join(f'`{n}`' for n in names)}."
        response["description"] = f"{description} {listed}" if _DOCUMENTED.search(description) else listed
    return merged


def publish(api: Any, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (ninja's OpenAPI) with error codes per response and id ranges."""
    extras = _view_extras(api)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            op_id = operation.get("operationId", "")
            domain = op_id.split("_")[1] if op_id.count("_") >= 2 else ""
            operation["responses"] = _with_codes(
                operation.get("responses", {}), domain, extras.get(op_id, ())
            )
    return document
