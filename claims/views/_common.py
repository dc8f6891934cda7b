"""What the claims screens share: access checks and the query string of a list."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from claims.selectors import may_see_claims


def claims_screen(view):
    """Signed-in users with one of the claims permissions (seed 002); others get the 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_see_claims(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def needs(permission):
    """A signed-in user without `permission` gets the 403 page; anonymous visitors the login page."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def render_part(request, partial, context, *, status=200, title=""):
    """A partial for htmx (a dialog's content), or the same partial on a page of its own."""
    from django.shortcuts import render

    if request.htmx:
        return render(request, partial, context, status=status)
    return render(request, "claims/page.html", {**context, "partial": partial, "title": title}, status=status)
