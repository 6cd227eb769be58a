"""ASGI entry point.

HTTP: the JSON API and public lookup pages go to a lean Django handler (no cookie middleware),
everything else (admin, staff pages, static) to the full one. Websocket: ``realtime`` routing
behind the origin check and token auth.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

import django

django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from backend.core.handlers import LeanASGIHandler, http_router  # noqa: E402
from realtime.middleware import websocket_stack  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

django_asgi_app = ASGIHandler()
api_asgi_app = LeanASGIHandler()

application = ProtocolTypeRouter(
    {
        "http": http_router(django_asgi_app, api_asgi_app),
        "websocket": websocket_stack(websocket_urlpatterns),
    }
)
