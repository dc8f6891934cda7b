"""Retro claim screens for staff: Retro Claim Activity, claim detail and decisions, the member's tab, pool search."""

from django.urls import path

from retro.views import activity, approvals, member_tab, pool_search

urlpatterns = [
    path("claims/", activity.retro_claim_activity, name="retro-claim-activity"),
    path("approvals/", approvals.RetroApprovalQueue.as_view(), name="retro-approval-queue"),
    path("claims/export.csv", activity.retro_claim_export, name="retro-claim-export"),
    path("claims/<str:number>/", activity.retro_claim_detail, name="retro-claim-detail"),
    path("claims/<str:number>/approve/", activity.retro_claim_approve, name="retro-claim-approve"),
    path("claims/<str:number>/reject/", activity.retro_claim_reject, name="retro-claim-reject"),
    path("claims/<str:number>/reverse/", activity.retro_claim_reverse, name="retro-claim-reverse"),
    path("claims/<str:number>/withdraw/", activity.retro_claim_withdraw, name="retro-claim-withdraw"),
    path("members/<str:member_number>/claims/", member_tab.member_retro_claims, name="member-retro-claims"),
    path("members/<str:member_number>/pool/", pool_search.member_retro_pool, name="member-retro-pool"),
]
