"""Where feature apps plug into the core: their URLs, screens in the navigation, member-profile tabs,
"More" actions, header indicators, role permissions, demo-data steps, the parts of the health check
and of the /metrics page, and the links between their API operations in the OpenAPI schema.

The core names no feature app. Each app fills these registries from its own
AppConfig.ready() (Django runs every ready() before the first request and
before migrations), and the core's screens, roles and demo read them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

CSR = "CSR"
SUPERVISOR = "Supervisor"
ADMIN = "Admin"
MEMBER = "Member"
ROLES = (CSR, SUPERVISOR, ADMIN, MEMBER)


@dataclass(frozen=True)
class ProfileLink:
    """A member-profile tab or "More" action: a URL taking the member number, and the permission it needs.

    A tab served by the core's own tab route ("member-profile-tab") names its partial `template`
    and, when it shows more than the member and membership, `context(request, membership)`.
    """

    key: str
    label: str
    url_name: str
    permission: str
    template: str = ""
    context: Callable | None = None
    order: int = 100  # tabs and actions are shown by this, then in the order they were registered
    group: str = ""  # a "More" action's submenu heading, e.g. "Retro Claim" (seed 000: More > Retro Claim > Airline)
    modal: bool = False  # a "More" action that opens in a dialog over the profile (its URL serves the step partials)


@dataclass(frozen=True)
class TabSection:
    """A feature app's part of a core profile tab, above the tab's own list (e.g. flight claims on Flights).

    `context(request, membership)` gives the section's `data`; its template reads `data`, `member`, `membership`.
    """

    tab: str
    key: str
    template: str
    permission: str
    context: Callable


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str


@dataclass(frozen=True)
class HeaderIndicator:
    """A lamp or badge in the member-profile header, e.g. the claims lamp.

    `state(user, member, membership)` returns what the template shows ({"lit", "count", "title",
    "url"}) or None to show nothing; it is only asked when the user has one of `permissions`.
    """

    key: str
    template: str
    permissions: tuple
    state: Callable


@dataclass(frozen=True)
class HomePanel:
    """A panel on a staff user's home page, e.g. "My claims due today or overdue".

    `context(request)` returns the panel's `data`, or None to show nothing; asked only with `permission`.
    """

    key: str
    template: str
    permission: str
    context: Callable
    order: int = 100


@dataclass(frozen=True)
class DemoStep:
    """Part of `manage.py seed_demo` after the core's members: `run(programs=, anchor=, log=)` -> summary."""

    name: str
    run: Callable


@dataclass(frozen=True)
class ReconciliationCheck:
    """One invariant the daily reconciliation proves: `find()` yields (subject, what is wrong) per violation."""

    name: str
    proves: str  # the invariant, in the business's words
    find: Callable


@dataclass(frozen=True)
class HealthPart:
    """One part of GET /health/: `check()` returns (healthy, detail), the detail saying why when it is not.

    Keep it cheap (an indexed query or two): the load balancer asks every few seconds.
    """

    name: str
    check: Callable


@dataclass(frozen=True)
class BusinessGauge:
    """Gauges read from the database at each /metrics scrape, e.g. the claims whose posting failed.

    `read()` yields (label values, number) with one value per name in `labels`. Several registrations
    may share a metric `name` (each app adds its own label values): they are shown as one metric.
    """

    key: str
    name: str
    documentation: str
    read: Callable
    labels: tuple = ()


@dataclass(frozen=True)
class ApiLink:
    """An OpenAPI link: what a partner can call next with a value from an operation's answer.

    E.g. a hold's 201 answer links to capturing it: `parameters={"redemption_id": "$response.body#/id"}`.
    Operations are named by their published operationId; `parameters` and `request_body` (fields merged into
    the next call's body) hold runtime expressions ("$response.body#/<JSON pointer>").
    """

    operation: str
    status: str  # the answer that carries the value, e.g. "201"
    name: str  # the link's name in that answer, e.g. "CaptureHeldPoints"
    target: str
    description: str
    parameters: dict = field(default_factory=dict)
    request_body: dict | None = None


URLS: list[tuple[str, str]] = []
API_URLS: list[tuple[str, str]] = []
NAVIGATION: list[NavItem] = []
PROFILE_TABS: list[ProfileLink] = []
MORE_ACTIONS: list[ProfileLink] = []
TAB_SECTIONS: list[TabSection] = []
HEADER_INDICATORS: list[HeaderIndicator] = []
HOME_PANELS: list[HomePanel] = []
ROLE_PERMISSIONS: dict[str, list[str]] = {role: [] for role in ROLES}
# Admins get every permission of these apps (they configure the program in Django admin).
ADMIN_APPS: list[str] = []
DEMO_STEPS: list[DemoStep] = []
RECONCILIATION_CHECKS: list[ReconciliationCheck] = []
HEALTH_PARTS: list[HealthPart] = []
BUSINESS_GAUGES: list[BusinessGauge] = []
API_LINKS: list[ApiLink] = []


def _add(registry, item, key=lambda item: item):
    # ready() may run twice (tests that reload apps): registering is idempotent.
    if all(key(existing) != key(item) for existing in registry):
        registry.append(item)


def add_urls(prefix, module, *, api=False):
    """Mount an app's URL module under `prefix` (of the site, or of /api/ when `api`)."""
    _add(API_URLS if api else URLS, (prefix, module))


def add_navigation(item: NavItem):
    _add(NAVIGATION, item, key=lambda i: i.url_name)


def add_profile_tab(link: ProfileLink):
    _add(PROFILE_TABS, link, key=lambda i: i.key)
    PROFILE_TABS.sort(key=lambda i: i.order)  # stable: equal orders keep their registration order


def add_tab_section(section: TabSection):
    _add(TAB_SECTIONS, section, key=lambda i: i.key)


def add_more_action(link: ProfileLink):
    _add(MORE_ACTIONS, link, key=lambda i: i.key)
    MORE_ACTIONS.sort(key=lambda i: i.order)


def add_header_indicator(indicator: HeaderIndicator):
    _add(HEADER_INDICATORS, indicator, key=lambda i: i.key)


def add_home_panel(panel: HomePanel):
    _add(HOME_PANELS, panel, key=lambda i: i.key)
    HOME_PANELS.sort(key=lambda i: i.order)


def grant(role, *codenames):
    """Give a role these permission codenames ("app_label.codename"); roles are synced after migrate."""
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"No role {role!r}; the roles are {', '.join(ROLES)}.")
    for codename in codenames:
        _add(ROLE_PERMISSIONS[role], codename)


def administer(*app_labels):
    """Admins may do everything in these apps (models they configure in Django admin)."""
    for label in app_labels:
        _add(ADMIN_APPS, label)


def add_demo_step(step: DemoStep):
    _add(DEMO_STEPS, step, key=lambda s: s.name)


def add_reconciliation_check(check: ReconciliationCheck):
    _add(RECONCILIATION_CHECKS, check, key=lambda c: c.name)


def add_health_part(part: HealthPart):
    _add(HEALTH_PARTS, part, key=lambda p: p.name)


def add_business_gauge(gauge: BusinessGauge):
    _add(BUSINESS_GAUGES, gauge, key=lambda g: g.key)


def add_api_link(link: ApiLink):
    _add(API_LINKS, link, key=lambda i: (i.operation, i.status, i.name))
