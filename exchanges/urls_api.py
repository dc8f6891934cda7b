"""The booking engine's web service, under /api/exchanges/."""

from django.urls import path

from exchanges import api

urlpatterns = [
    path("quote/", api.QuoteView.as_view(), name="api-exchanges-quote"),
    path("eligibility/", api.EligibilityView.as_view(), name="api-exchanges-eligibility"),
    path("redemptions/", api.AuthorizeView.as_view(), name="api-exchanges-authorize"),
    path("redemptions/<str:redemption_id>/", api.RedemptionDetailView.as_view(), name="api-exchanges-redemption"),
    path("redemptions/<str:redemption_id>/capture/", api.CaptureView.as_view(), name="api-exchanges-capture"),
    path("redemptions/<str:redemption_id>/release/", api.ReleaseView.as_view(), name="api-exchanges-release"),
    path("redemptions/<str:redemption_id>/refunds/", api.RefundView.as_view(), name="api-exchanges-refund"),
    path("redemptions/<str:redemption_id>/failures/", api.FailureView.as_view(), name="api-exchanges-failure"),
]
