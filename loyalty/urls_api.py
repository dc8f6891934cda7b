"""REST API routes for partner systems; each app contributes its own module."""

from django.urls import include, path

urlpatterns = [
    path("retro/", include("retro.urls_api")),
]
