"""Websocket routes. Domain sockets (event scanners, live dashboards) add their paths here."""

from django.urls import path

from realtime.checkin import LiveConsumer, ScanConsumer
from realtime.consumers import EchoConsumer

websocket_urlpatterns = [
    path("ws/v1/echo", EchoConsumer.as_asgi()),
    path("ws/v1/events/<int:event_id>/scan", ScanConsumer.as_asgi()),
    path("ws/v1/events/<int:event_id>/live", LiveConsumer.as_asgi()),
]
