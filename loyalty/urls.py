"""Root URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from loyalty import plugins, views, views_operations

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says; the icon lives with the static files.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    # Answered before the middleware stack by OperationsEndpointsMiddleware; routed too, for reverse().
    path("health/", views_operations.health, name="health"),
    path("metrics", views_operations.metrics, name="metrics"),
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("members/", include("loyalty.urls_members")),
    # Each feature app mounts its screens from its AppConfig (loyalty.plugins.add_urls).
    *[path(prefix, include(module)) for prefix, module in plugins.URLS],
    path("api/", include("loyalty.urls_api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script from a URL: the Content-Security-Policy forbids inline ones.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler403 = "loyalty.views.permission_denied"
handler404 = "loyalty.views.page_not_found"
