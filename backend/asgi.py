"""ASGI entry point.

HTTP: a scanned badge (``GET /api/v1/verify/<TOKEN>``, ``GET /v/<TOKEN>``) to the credential
lookup's raw ASGI fast path, a sign-up (``POST /api/v1/shifts/<id>/signups``) to the sign-up
gate (refusals for a full shift); the rest of the JSON API and public pages to a lean Django handler
(no cookie middleware); everything else (admin, staff pages, static) to the full one.
Websocket: ``realtime`` routing behind the origin check and token auth.
How each part is tuned, and why: ``backend.runtime``.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

import django

django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from api.volunteers.fastpath import SignupGate  # noqa: E402
from backend.credentials import conf as credentials_conf  # noqa: E402
from backend.credentials.lookup.fastpath import LookupFastPath  # noqa: E402
from backend.credentials.lookup.log import lookup_log  # noqa: E402
from backend.runtime.channels import tune_channel_layer  # noqa: E402
from backend.runtime.fastpath import FastPath  # noqa: E402
from backend.runtime.gc import tune_gc  # noqa: E402
from backend.runtime.handlers import LeanASGIHandler, http_router  # noqa: E402
from backend.volunteers import conf as volunteers_conf  # noqa: E402
from realtime.middleware import websocket_stack  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

django_asgi_app = ASGIHandler()
api_asgi_app = LeanASGIHandler()
fast_apps: list[FastPath] = []
if credentials_conf.lookup_fast_path():
    fast_apps.append(LookupFastPath(fallback=api_asgi_app))
if volunteers_conf.signup_fast_path():
    fast_apps.append(SignupGate(fallback=api_asgi_app))

application = ProtocolTypeRouter(
    {
        "http": http_router(django_asgi_app, api_asgi_app, fast_apps=tuple(fast_apps)),
        "websocket": websocket_stack(websocket_urlpatterns),
    }
)

tune_channel_layer()
tune_gc()
# The lookup log's writer, at once: it replays rows a killed process left in the spool.
lookup_log.start()
