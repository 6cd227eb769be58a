"""Server-rendered pages of this domain (mounted at the site root by backend/urls.py)."""

from django.urls import path

from backend.checkin import views

urlpatterns = [
    path("events/<int:event_id>/live", views.live_page, name="checkin-live"),
]
