"""Who may use what: navigation and screen access, decided by Django permission codenames.

Permissions are granted to the groups CSR, Supervisor, Admin and Member by
data migrations, so admins can change who sees what without code.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str


# Later features append their screens here; an item whose URL does not exist
# yet is simply not shown.
NAVIGATION = [
    NavItem("Members", "member-search", "loyalty.view_member"),
    NavItem("Retro claim activity", "retro-claim-activity", "retro.view_retroclaim"),
    NavItem("Import retro transactions", "retro-transaction-import", "retro.add_retrotransaction"),
    NavItem("My retro claims", "portal-home", "retro.submit_own_retro_claim"),
]


def navigation_for(user):
    if not user.is_authenticated:
        return []
    items = []
    for item in NAVIGATION:
        if not user.has_perm(item.permission):
            continue
        try:
            items.append({"label": item.label, "url": reverse(item.url_name)})
        except NoReverseMatch:
            continue
    if user.is_staff:
        items.append({"label": "Admin", "url": reverse("admin:index")})
    return items
