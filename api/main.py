"""The Linli API: one NinjaAPI at /api/v1/, one router module per domain."""

from __future__ import annotations

from ninja import NinjaAPI
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


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Linli API",
    version="1",
    description=(
        "Linli (邻里): community-group filing, volunteer sign-ups and service hours, practitioner "
        "credential lookup, live event check-in. Errors always come as "
        '`{"code", "message", "details"}`; unsafe requests accept an `Idempotency-Key` header.'
    ),
    urls_namespace="api-v1",
    auth=bearer,
    renderer=Renderer(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

api.add_router("", health.router)
api.add_router("/auth", accounts.router)
api.add_router("/me", accounts.me_router)
api.add_router("", divisions.router)
api.add_router("", notifications.router)
api.add_router("", filings.router)
api.add_router("", volunteers.router)
api.add_router("", credentials.router)
api.add_router("", checkin.router)
api.add_router("", rivers.router)
api.add_router("", wechat.router)
