"""Websocket routes. Domain sockets (event scanners, live dashboards) add their paths here."""

from django.urls import path

from realtime.consumers import EchoConsumer

websocket_urlpatterns = [
    path("ws/v1/echo", EchoConsumer.as_asgi()),
]
