"""Who may use what: navigation and screen access, decided by Django permission codenames.

Permissions are granted to the groups CSR, Supervisor, Admin and Member (see
loyalty.roles), so admins can change who sees what without code. The screens
in the navigation are registered by their apps (loyalty.plugins).
"""

from django.urls import NoReverseMatch, reverse
from rest_framework.permissions import BasePermission

from loyalty import plugins


def navigation_for(user):
    if not user.is_authenticated:
        return []
    items = []
    for item in plugins.NAVIGATION:
        if not user.has_perm(item.permission):
            continue
        try:
            items.append({"label": item.label, "url": reverse(item.url_name)})
        except NoReverseMatch:
            continue
    if user.is_staff:
        items.append({"label": "Admin", "url": reverse("admin:index")})
    return items


def require(permission):
    """A DRF permission class for one Django codename (anonymous callers get a 401, others a 403)."""

    class HasPermission(BasePermission):
        message = f"Your account lacks the permission {permission}."

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(permission))

    HasPermission.__name__ = f"Has_{permission.replace('.', '_')}"
    return HasPermission
