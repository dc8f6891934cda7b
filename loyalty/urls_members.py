"""Member search and the member profile with its tabs."""

from django.urls import path

from loyalty import views

urlpatterns = [
    path("", views.member_search, name="member-search"),
    path("<str:member_number>/", views.member_profile, name="member-profile"),
    path("<str:member_number>/tabs/<slug:tab>/", views.member_profile_tab, name="member-profile-tab"),
]
