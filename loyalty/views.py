"""Member screens (placeholder until the screens land)."""

from django.shortcuts import render


def home(request):
    return render(request, "home.html")


def member_search(request):
    return render(request, "home.html")


def member_profile(request, member_number):
    return render(request, "home.html")


def member_profile_tab(request, member_number, tab):
    return render(request, "home.html")


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
