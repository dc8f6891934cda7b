"""Retro REST API: claims (submit, read, list, approve/reject) and transactions (search, batch import)."""

from django.urls import include, path

urlpatterns = [
    path("", include("retro.api.urls_claims")),
    path("", include("retro.api.urls_transactions")),
    path("", include("retro.flights.urls_api")),
]
