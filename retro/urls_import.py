"""Routes of the retro transaction import screens (under /retro/import/)."""

from django.urls import path

from retro import views_import

urlpatterns = [
    path("", views_import.import_upload, name="retro-transaction-import"),
    path("flights/", views_import.import_upload, {"kind": "flights"}, name="flight-import"),
    path("<int:pk>/", views_import.import_batch, name="retro-import-batch"),
    # Kinds other apps register (retro.imports.kinds), e.g. the property systems' stays.
    path("<slug:kind>/", views_import.import_upload, name="import-upload"),
    path("<int:pk>/errors.csv", views_import.import_error_report, name="retro-import-errors"),
]
