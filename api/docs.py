"""The API docs page (Swagger UI) and who may read the published documents.

Swagger UI's script and style are django-ninja's own copies, served by Linli under ``/static/``
(WhiteNoise): the page works without internet access (no CDN, which is also unreliable in
mainland China), and it links the websocket protocol (``/api/v1/asyncapi.json``).

``LINLI_API_DOCS_PUBLIC`` decides whether the docs page, ``openapi.json`` and ``asyncapi.json``
are public: on by default in development, off in production (where they then answer 404).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja.openapi.docs import Swagger

ASYNCAPI_PATH = "asyncapi.json"


def docs_public() -> bool:
    return bool(getattr(settings, "LINLI_API_DOCS_PUBLIC", not getattr(settings, "IS_PROD", False)))


def docs_visible(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 (the API's error body) for the docs and the published documents unless public."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not docs_public():
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class LinliDocs(Swagger):
    """Swagger UI from static files shipped with django-ninja, with a link to the AsyncAPI."""

    template = "api/docs.html"
    # Swagger UI would send the document to validator.swagger.io for a badge: nothing leaves.
    default_settings = {**Swagger.default_settings, "validatorUrl": None}

    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        openapi_url = str(self.settings["url"])
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "openapi_url": openapi_url,
            "asyncapi_url": openapi_url.rsplit("/", 1)[0] + "/" + ASYNCAPI_PATH,
        }
        return render(request, self.template, context)
