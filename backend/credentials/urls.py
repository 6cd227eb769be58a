"""Server-rendered pages of this domain (mounted at the site root by backend/urls.py)."""

from django.urls import path

from backend.credentials import views

urlpatterns = [
    path("v/", views.manual_page, name="credential-manual"),
    path("v/<str:token>", views.verify_page, name="credential-verify"),
]
