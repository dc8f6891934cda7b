"""REST API routes for partner systems; each app mounts its own module (loyalty.plugins.add_urls(api=True))."""

from django.urls import include, path

from loyalty import plugins

urlpatterns = [path(prefix, include(module)) for prefix, module in plugins.API_URLS]
