"""Routes of the exchanges back office (under /exchanges/)."""

from django.urls import path

from exchanges import views

urlpatterns = [
    path("", views.operations, name="exchanges-operations"),
    path("manual-handling/", views.manual_handling_queue, name="exchanges-manual-handling"),
    path("manual-handling/<int:pk>/", views.case_detail, name="exchanges-case"),
    path("manual-handling/<int:pk>/take/", views.case_take, name="exchanges-case-take"),
    path("manual-handling/<int:pk>/notes/", views.case_note, name="exchanges-case-note"),
    path("manual-handling/<int:pk>/close/", views.case_close, name="exchanges-case-close"),
]
