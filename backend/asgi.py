"""ASGI entry point: HTTP → Django (API, admin, pages, static); websocket → ``realtime``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from realtime.middleware import websocket_stack  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_stack(websocket_urlpatterns),
    }
)
