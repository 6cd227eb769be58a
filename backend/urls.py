from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.static import serve

from api.main import api
from backend.core.views import signed_media

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("m/<int:expires>/<str:signature>/<path:name>", signed_media, name="signed-media"),
    path("", include("backend.pages")),
    path("", include("backend.credentials.urls")),
    path("", include("backend.checkin.urls")),
]

if not settings.IS_PROD:
    # In production nginx serves uploads; here daphne does.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))
