"""Server-rendered public pages (credential lookup, live dashboards) register their URLs here."""

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, re_path

from backend.wechat import conf as wechat_conf


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><meta charset=utf-8><title>邻里 Linli</title>"
        "<h1>邻里 Linli</h1><p>API: <a href=/api/v1/docs>/api/v1/docs</a></p>",
    )


def wechat_verify_file(request: HttpRequest, name: str) -> HttpResponse:
    """WeChat's domain verification file (``WECHAT_QR_VERIFY_FILE``), served at the site root so
    that "scan ordinary QR code to open the mini-program" can map Linli's link prefixes."""
    configured = wechat_conf.qr_verify_file()
    if configured is None or configured[0] != name:
        raise Http404()
    return HttpResponse(configured[1], content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("", index, name="index"),
    re_path(r"^(?P<name>[A-Za-z0-9_-]{1,64}\.txt)$", wechat_verify_file, name="wechat-verify-file"),
]
