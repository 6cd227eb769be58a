from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from api.asyncapi import asyncapi_json
from api.main import api
from backend.core.views import signed_media
from backend.runtime.urls import indexed

urlpatterns: list[URLPattern | URLResolver] = [
    # The websocket protocol (AsyncAPI 3), beside the REST API's openapi.json.
    path("api/v1/asyncapi.json", asyncapi_json, name="asyncapi-json"),
    # Resolved by first path segment (backend.runtime.urls): the API has ~300 routes.
    indexed(path("api/v1/", api.urls)),
    path("admin/", admin.site.urls),
    # Uploads have no public URL: private files leave through signed URLs only, checked here (and
    # sent by nginx in production: LINLI_MEDIA_ACCEL_REDIRECT).
    path("m/<int:expires>/<str:signature>/<path:name>", signed_media, name="signed-media"),
    path("", include("backend.pages")),
    path("", include("backend.credentials.urls")),
    path("", include("backend.checkin.urls")),
    path("", include("backend.volunteers.urls")),
]
