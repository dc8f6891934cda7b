"""Flight claim screens: the wizard and manual entry from the member profile, the Flights tab, the approval queue."""

from django.urls import path

from retro.flights import queue, views

urlpatterns = [
    path("members/<str:member_number>/flights/claim/", views.flight_claim_wizard, name="member-flight-claim-wizard"),
    path("members/<str:member_number>/flights/add/", views.manual_flight_entry, name="member-manual-flight"),
    path("flights/approvals/", queue.FlightApprovalQueue.as_view(), name="flight-approval-queue"),
]
