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
    path("manual-handling/<int:pk>/correct/", views.case_correct, name="exchanges-case-correct"),
    path("manual-handling/<int:pk>/corrections/<int:correction_pk>/", views.correction_decide,
         name="exchanges-correction-decide"),  # fmt: skip
    path("corrections/", views.CorrectionQueue.as_view(), name="exchanges-corrections"),
]
