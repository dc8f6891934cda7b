"""Member screens: search, the profile and its tabs, plus the layout's error pages."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from loyalty import plugins, selectors
from loyalty.filters import MATCH_CAP, MemberSearchFilter
from loyalty.models import Activity
from loyalty.pagination import CappedPaginator, serial_plans
from loyalty.profile import header_indicators_for, more_actions_for, tab_sections_for, tabs_for
from loyalty.valuation import tier_on

PAGE_SIZE = 25
staff_screen = permission_required("loyalty.view_member", raise_exception=True)


@login_required
def home(request):
    panels = []
    for panel in plugins.HOME_PANELS:
        if request.user.has_perm(panel.permission):
            data = panel.context(request)
            if data is not None:
                panels.append({"panel": panel, "data": data})
    return render(request, "home.html", {"panels": panels})


@login_required
@staff_screen
def member_search(request):
    search = MemberSearchFilter(request.GET or None)
    page = None
    # An invalid criterion lists no one (the form says why); no criterion lists no one either.
    if search.is_bound and search.is_valid() and search.has_criteria():
        with serial_plans():
            page = CappedPaginator(search.results(), PAGE_SIZE, cap=MATCH_CAP).get_page(request.GET.get("page"))
    context = {"search": search, "page": page, "query": _query_without_page(request)}
    template = "loyalty/partials/member_results.html" if request.htmx else "loyalty/member_search.html"
    return render(request, template, context)


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _selected_membership(request, member):
    memberships = list(member.memberships.all())
    wanted = request.GET.get("membership")
    for membership in memberships:
        if membership.membership_number == wanted:
            return membership, memberships
    return (memberships[0] if memberships else None), memberships


@login_required
@staff_screen
def member_profile(request, member_number):
    member = selectors.member_with_memberships(member_number)
    if member is None:
        return page_not_found(request, f"No member has the number “{member_number}”.")
    membership, memberships = _selected_membership(request, member)
    today = timezone.localdate(timezone=membership.program.tz) if membership else timezone.localdate()
    context = {
        "member": member,
        "membership": membership,
        "memberships": memberships,
        "tier": tier_on(membership, today) if membership else None,
        "award_balance": selectors.award_balance(membership) if membership else 0,
        "tabs": tabs_for(request.user, member),
        "more_actions": more_actions_for(request.user, member),
        "header_indicators": header_indicators_for(request.user, member, membership),
        "active_tab": request.GET.get("tab", "summary"),
    }
    return render(request, "loyalty/member_profile.html", context)


def _core_served_tab(key):
    return next((t for t in plugins.PROFILE_TABS if t.key == key and t.url_name == "member-profile-tab"), None)


@login_required
@staff_screen
def member_profile_tab(request, member_number, tab):
    link = _core_served_tab(tab)
    if link is None:
        return page_not_found(request, f"The profile has no tab “{tab}”.")
    if not request.user.has_perm(link.permission):
        return permission_denied(request)
    member = selectors.member_with_memberships(member_number)
    if member is None:
        return page_not_found(request, f"No member has the number “{member_number}”.")
    membership, _ = _selected_membership(request, member)
    context = {"member": member, "membership": membership, "program": membership.program if membership else None}
    if membership is not None and link.context is not None:
        context.update(link.context(request, membership))
    context["sections"] = tab_sections_for(request, tab, membership)
    if not request.htmx:
        # Opened directly (new browser tab, bookmark): the profile with that tab selected.
        query = request.GET.copy()
        query["tab"] = tab
        return redirect(f"{member.get_absolute_url()}?{query.urlencode()}")
    return render(request, link.template, context)


def summary_tab(request, membership):
    return {"balances": selectors.balances(membership), "tier_periods": selectors.tier_history(membership)}


def activities_tab(request, membership, *, flights_only=False):
    activities = selectors.member_activities(membership)
    if flights_only:
        activities = activities.filter(kind=Activity.Kind.FLIGHT)
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    return {"activities": page, "page": page}


def flights_tab(request, membership):
    return activities_tab(request, membership, flights_only=True)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    # Called by Django (handler404) and by views directly, so that an unknown
    # member is a 404 inside the layout even with DEBUG on.
    message = exception if isinstance(exception, str) else None
    return render(request, "404.html", {"message": message}, status=404)
