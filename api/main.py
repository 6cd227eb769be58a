"""The Linli API: one NinjaAPI at /api/v1/, one router module per domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from api import (
    accounts,
    checkin,
    credentials,
    divisions,
    errors,
    filings,
    health,
    notifications,
    openapi,
    rivers,
    volunteers,
    wechat,
)
from api.auth import bearer
from api.docs import LinliDocs, docs_visible
from backend.core.times import iso_local


class LinliApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """ninja's document, with each error response's codes and the id ranges (api.openapi)."""
        return openapi.publish(
            self, super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        )

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``api_<domain>_<view>``: named after the domain package, not the sub-module a view
        lives in, so the ids clients generate method names from survive splitting a router."""
        module = operation.view_func.__module__.split(".")
        return "_".join([*module[:2], operation.view_func.__name__])


class LocalTimeEncoder(NinjaJSONEncoder):
    """Times leave in the server's zone with its offset (``2026-12-05T09:30:00.123+08:00``), as on
    the websockets and the lookup pages: one format a client parses everywhere."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return iso_local(o)
        return super().default(o)


class Renderer(JSONRenderer):
    encoder_class = LocalTimeEncoder
    json_dumps_params = {"ensure_ascii": False}


api = LinliApi(
    title="Linli API",
    version="1",
    description=(
        "Linli (邻里): community-group filing, volunteer sign-ups and service hours, practitioner "
        "credential lookup, live event check-in. Errors always come as "
        '`{"code", "message", "details"}`; unsafe requests accept an `Idempotency-Key` header. '
        "The websocket protocol: [AsyncAPI document](/api/v1/asyncapi.json)."
    ),
    urls_namespace="api-v1",
    auth=bearer,
    renderer=Renderer(),
    docs_url="/docs",
    docs=LinliDocs(),
    docs_decorator=docs_visible,
    openapi_url="/openapi.json",
)
errors.install(api)

api.add_router("", health.router)
api.add_router("/auth", accounts.router)
api.add_router("/me", accounts.me_router)
api.add_router("", accounts.staff_router)
api.add_router("", divisions.router)
api.add_router("", notifications.router)
api.add_router("", filings.router)
api.add_router("", volunteers.router)
api.add_router("", credentials.router)
api.add_router("", checkin.router)
api.add_router("", rivers.router)
api.add_router("", wechat.router)
openapi.bound_ids(api)
