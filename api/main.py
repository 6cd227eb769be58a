"""The Linli API: one NinjaAPI at /api/v1/, one router module per domain."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.operation import Operation
from ninja.renderers import JSONRenderer

from api import (
    accounts,
    checkin,
    credentials,
    divisions,
    errors,
    filings,
    health,
    notifications,
    rivers,
    volunteers,
    wechat,
)
from api.auth import bearer
from api.docs import LinliDocs, docs_visible


class LinliApi(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``api_<domain>_<view>``: named after the domain package, not the sub-module a view
        lives in, so the ids clients generate method names from survive splitting a router."""
        module = operation.view_func.__module__.split(".")
        return "_".join([*module[:2], operation.view_func.__name__])


class Renderer(JSONRenderer):
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
