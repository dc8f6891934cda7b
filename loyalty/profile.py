"""The member profile's tabs, "More" actions and header indicators, as the apps registered them (loyalty.plugins).

A tab or action names a URL and a permission; one whose URL does not exist, or
that the user may not use, is left out.
"""

from django.urls import NoReverseMatch, reverse

from loyalty import plugins


def _resolve(link, user, member):
    if not user.has_perm(link.permission):
        return None
    kwargs = {"member_number": member.member_number}
    if link.url_name == "member-profile-tab":
        kwargs["tab"] = link.key
    try:
        url = reverse(link.url_name, kwargs=kwargs)
        return {"key": link.key, "label": link.label, "url": url, "group": link.group, "modal": link.modal}
    except NoReverseMatch:
        return None


def tabs_for(user, member):
    return [t for t in (_resolve(link, user, member) for link in plugins.PROFILE_TABS) if t]


def more_actions_for(user, member):
    return [a for a in (_resolve(link, user, member) for link in plugins.MORE_ACTIONS) if a]


def header_indicators_for(user, member, membership):
    """[{"template", "state"}] for the indicators this user may see and that have something to show."""
    shown = []
    for indicator in plugins.HEADER_INDICATORS:
        if not any(user.has_perm(permission) for permission in indicator.permissions):
            continue
        state = indicator.state(user, member, membership)
        if state is not None:
            shown.append({"key": indicator.key, "template": indicator.template, "state": state})
    return shown


def tab_sections_for(request, tab, membership):
    """[{"key", "template", "data"}] of the sections apps add to a core tab, for this user and membership."""
    if membership is None:
        return []
    return [
        {"key": s.key, "template": s.template, "data": s.context(request, membership)}
        for s in plugins.TAB_SECTIONS
        if s.tab == tab and request.user.has_perm(s.permission)
    ]
