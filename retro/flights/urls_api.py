"""Flight claims API routes (under /api/retro/)."""

from django.urls import path

from retro.flights import api

urlpatterns = [
    path("flights/", api.FlightSearchView.as_view(), name="api-flight-search"),
    path("flights/batch/", api.FlightBatchView.as_view(), name="api-flight-batch"),
    path("flight-claims/", api.FlightClaimSubmitView.as_view(), name="api-flight-claim-submit"),
    path("flight-claims/<str:number>/", api.FlightClaimDetailView.as_view(), name="api-flight-claim-detail"),
    path("flight-claims/<str:number>/approve/", api.FlightClaimApproveView.as_view(), name="api-flight-claim-approve"),
    path("flight-claims/<str:number>/reject/", api.FlightClaimRejectView.as_view(), name="api-flight-claim-reject"),
]
