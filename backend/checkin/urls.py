"""Server-rendered pages of this domain (mounted at the site root by backend/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
