"""Routes of the membership claims screens (under /claims/)."""

from django.urls import path

from claims.views import batches, claim, imports, search, transactions

urlpatterns = [
    path("", search.claim_search, name="claim-search"),
    path("export.csv", search.claim_export, name="claim-export"),
    path("new/", claim.claim_new, name="claim-new"),
    path("members/<str:member_number>/new/", claim.claim_new_for_member, name="claim-new-for-member"),
    path("<int:pk>/", claim.claim_detail, name="claim-detail"),
    path("<int:pk>/notes/", claim.claim_note_add, name="claim-note-add"),
    path("<int:pk>/notes/<int:sequence>/", claim.claim_note_view, name="claim-note-view"),
    path("<int:pk>/transactions/", transactions.claim_transactions, name="claim-transactions"),
    path("adjustment-codes/thresholds/", claim.adjustment_code_thresholds, name="adjustment-code-thresholds"),
    path("stays/<int:pk>/", transactions.stay_detail, name="stay-detail"),
    path("stays/<int:pk>/card/", transactions.stay_attach_card, name="stay-attach-card"),
    path("stays/<int:pk>/estimate/", transactions.stay_estimate, name="stay-estimate"),
    path("transactions/<int:pk>/", transactions.activity_detail, name="claim-activity-detail"),
    path("adjustment-files/", batches.AdjustmentBatchQueue.as_view(), name="adjustment-batch-queue"),
    path("import/stays/", imports.stay_import, name="stay-import"),
    path("import/adjustments/", imports.adjustment_import, name="adjustment-import"),
]
