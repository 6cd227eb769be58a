"""Test helpers: a JSON API client that signs requests as a user."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def token_for(user: Any) -> str:
    """An access token for ``user`` through the real sign-in service path."""
    from backend.accounts.models import AuthSession
    from backend.accounts.tokens import access_token_issue

    session = AuthSession.objects.create(user=user, method="test")
    token, _ = access_token_issue(user_id=user.pk, session_id=session.pk)
    return token


class ApiClient:
    """Thin wrapper over Django's test client: JSON in and out, ``as_user`` adds a bearer token."""

    prefix = "/api/v1"

    def __init__(self, user: Any = None, lang: str | None = None) -> None:
        self.client = Client()
        self.token = token_for(user) if user is not None else None
        self.lang = lang

    def as_user(self, user: Any, lang: str | None = None) -> ApiClient:
        return ApiClient(user, lang=lang or self.lang)

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if self.lang:
            out["Accept-Language"] = self.lang
        out.update(headers or {})
        return out

    def _url(self, path: str) -> str:
        return (
            path
            if path.startswith("/api/") or not path.startswith("/") or path.startswith("/v/")
            else (self.prefix + path)
        )

    def request(
        self, method: str, path: str, data: Any = None, headers: dict[str, str] | None = None, **extra: Any
    ):
        kwargs: dict[str, Any] = {"headers": self._headers(headers), **extra}
        if data is not None and method in {"post", "put", "patch", "delete"} and "content_type" not in extra:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        elif data is not None:
            kwargs["data"] = data
        return getattr(self.client, method)(self._url(path), **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **kw: Any):
        return self.request("get", path, params, **kw)

    def post(self, path: str, data: Any = None, **kw: Any):
        return self.request("post", path, data, **kw)

    def put(self, path: str, data: Any = None, **kw: Any):
        return self.request("put", path, data, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any):
        return self.request("patch", path, data, **kw)

    def delete(self, path: str, data: Any = None, **kw: Any):
        return self.request("delete", path, data, **kw)

    def upload(
        self, path: str, files: dict[str, tuple[str, bytes, str]], fields: dict[str, str] | None = None, **kw
    ):
        """Multipart POST: ``files={"file": ("a.jpg", b"...", "image/jpeg")}``."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        data: dict[str, Any] = dict(fields or {})
        for name, (filename, content, content_type) in files.items():
            data[name] = SimpleUploadedFile(filename, content, content_type=content_type)
        return self.client.post(
            self._url(path), data=data, headers=self._headers(kw.pop("headers", None)), **kw
        )


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the single error body with ``status`` and ``code``; return the body."""
    body = response.json()
    assert response.status_code == status, (response.status_code, body)
    assert set(body) == {"code", "message", "details"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def admin_client_for(user: Any) -> Client:
    """A browser session in the Django admin as ``user``, as the staff sign-in leaves it: logged
    in and tied to a live ``AuthSession`` (without one the admin sends the user to its login)."""
    from backend.accounts.adminsite import STAFF_SESSION_KEY
    from backend.accounts.models import AuthSession

    client = Client()
    client.force_login(user)
    session = client.session
    session[STAFF_SESSION_KEY] = AuthSession.objects.create(user=user, method="admin").pk
    session.save()
    return client
