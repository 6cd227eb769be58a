"""Server-rendered pages of this domain (mounted at the site root by backend/urls.py)."""

from django.urls import path

from backend.volunteers import views

urlpatterns = [
    path("c/<str:token>", views.proof_page, name="volunteer-proof"),
    path("cal/<str:token>.ics", views.calendar_feed, name="volunteers-calendar"),
]
