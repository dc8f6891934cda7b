"""Navigation shows only what the signed-in user's role may use."""

from loyalty.permissions import navigation_for


def navigation(request):
    return {"nav_items": navigation_for(request.user)}
