"""Retro claim screens for staff: claim activity, member tab, imports."""

from django.urls import include, path

urlpatterns = [
    path("", include("retro.urls_claims")),
    path("import/", include("retro.urls_import")),
    path("", include("retro.flights.urls")),
]
