"""The member profile's tabs and "More" actions, as registries later features extend.

A tab or action names a URL and a permission; one whose URL does not exist
yet, or that the user may not use, is left out.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class ProfileLink:
    key: str
    label: str
    url_name: str
    permission: str
    url_kwargs: tuple = ("member_number",)


TABS = [
    ProfileLink("summary", "Summary", "member-profile-tab", "loyalty.view_member"),
    ProfileLink("activities", "Activities", "member-profile-tab", "loyalty.view_activity"),
    ProfileLink("flights", "Flights", "member-profile-tab", "loyalty.view_activity"),
    ProfileLink("claims", "Claims", "member-profile-tab", "loyalty.view_member"),
    ProfileLink("retro-claims", "Retro claims", "member-retro-claims", "retro.view_retroclaim"),
]

# Later features add their actions (Retro Claim > Airline, New adjustment, …).
MORE_ACTIONS: list[ProfileLink] = [
    ProfileLink("retro-claim", "Retro claim", "member-retro-claims", "retro.add_retroclaim"),
]


def _resolve(link, user, member):
    if not user.has_perm(link.permission):
        return None
    kwargs = {"member_number": member.member_number}
    if link.url_name == "member-profile-tab":
        kwargs["tab"] = link.key
    try:
        return {"key": link.key, "label": link.label, "url": reverse(link.url_name, kwargs=kwargs)}
    except NoReverseMatch:
        return None


def tabs_for(user, member):
    return [t for t in (_resolve(link, user, member) for link in TABS) if t]


def more_actions_for(user, member):
    return [a for a in (_resolve(link, user, member) for link in MORE_ACTIONS) if a]
