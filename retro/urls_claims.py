"""Placeholder routes; the screens arrive in this module."""

urlpatterns = []
