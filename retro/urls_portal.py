"""The member portal: a member's own retro claims."""

from django.urls import path

from retro.views import portal

urlpatterns = [
    path("", portal.portal_home, name="portal-home"),
    path("claims/<str:number>/", portal.portal_claim_detail, name="portal-claim-detail"),
]
