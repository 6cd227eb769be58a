"""Server-rendered public pages (credential lookup, live dashboards) register their URLs here."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><meta charset=utf-8><title>邻里 Linli</title>"
        "<h1>邻里 Linli</h1><p>API: <a href=/api/v1/docs>/api/v1/docs</a></p>",
    )


urlpatterns = [path("", index, name="index")]
