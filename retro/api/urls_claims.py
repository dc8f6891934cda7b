"""Retro claims API routes (under /api/retro/)."""

from django.urls import path

from retro.api import claims

urlpatterns = [
    path("claims/", claims.RetroClaimSubmitView.as_view(), name="api-retro-claim-submit"),
    path("claims/<str:number>/", claims.RetroClaimDetailView.as_view(), name="api-retro-claim-detail"),
    path("claims/<str:number>/approve/", claims.RetroClaimApproveView.as_view(), name="api-retro-claim-approve"),
    path("claims/<str:number>/reject/", claims.RetroClaimRejectView.as_view(), name="api-retro-claim-reject"),
    path(
        "members/<str:membership_number>/claims/",
        claims.MemberRetroClaimListView.as_view(),
        name="api-retro-member-claims",
    ),
]
