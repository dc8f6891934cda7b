"""Fixtures every test may use: personas per role, the browser."""

import functools
import os

import pytest

from tests.factories import MemberFactory, MembershipFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config):
    from django.conf import settings

    # The production hasher costs ~1 s per user on this machine; tests need no such strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Celery tasks run in the test itself, so a test sees what its task did (no worker, no broker).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Transactional tests empty every table with TRUNCATE between tests; the ledger refuses it to any
    # session that has not said so (migration loyalty 0017).
    for alias in settings.DATABASES.values():
        alias.setdefault("OPTIONS", {})["options"] = "-c loyalty.allow_ledger_truncate=on"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.django_db(transaction=True))
            executable, problem = _browser()
            if not executable and not IN_CI:
                item.add_marker(pytest.mark.skip(reason=f"{BROWSER_SKIPPED}: {problem}"))


@pytest.fixture
def roles(db):
    """The role groups. Browser tests flush the database after each test, which
    empties what the data migration created, so they are re-made when missing."""
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType

    from loyalty.roles import sync_roles

    if not Group.objects.filter(name="CSR").exists():
        ContentType.objects.clear_cache()  # ids changed with the flush
        sync_roles(apps)


# Personas: one fixed user per role, plus an outsider with no role at all.


@pytest.fixture
def csr(roles):
    return UserFactory(username="csr", role="CSR", first_name="Casey")


@pytest.fixture
def supervisor(roles):
    return UserFactory(username="supervisor", role="Supervisor", first_name="Sam")


@pytest.fixture
def admin_user(roles):
    return UserFactory(username="admin", role="Admin", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(roles):
    return UserFactory(username="outsider")


@pytest.fixture
def member_user(roles):
    """A portal user who is a member with one membership."""
    user = UserFactory(username="member", role="Member")
    member = MemberFactory(user=user, first_name="Maëlle", last_name="Dupont-Durand")
    MembershipFactory(member=member)
    return user


# Browser: pytest-playwright against Django's live server, in the Chromium that
# scripts/ensure_browser.py found or installed (make test runs it first and records it).

BROWSER_SKIPPED = "browser tests skipped"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@functools.cache
def _browser():
    """(executable, None) or (None, why there is none): make test's record, else looked for now (pytest alone)."""
    from scripts.ensure_browser import HOW_TO_FIX, find_browser, read_record

    record = read_record()
    if record is None or (record["executable"] and not os.path.exists(record["executable"])):
        executable = find_browser()[0]
        return executable, None if executable else f"no Chromium was found; {HOW_TO_FIX}"
    return record["executable"], record["problem"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable, problem = _browser()
    if not executable:
        # Outside CI the collection hook has skipped these tests already; CI must run them.
        pytest.fail(f"CI must run the browser tests, but {problem}", pytrace=False)
    return {**browser_type_launch_args, "headless": True, "args": CHROMIUM_ARGS, "executable_path": executable}


def pytest_terminal_summary(terminalreporter):
    # One loud line for all the skipped browser tests (xdist workers' skips arrive here as reports).
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if BROWSER_SKIPPED in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} {BROWSER_SKIPPED.upper()}: {_browser()[1]}", red=True, bold=True)


@pytest.fixture(autouse=True)
def _allow_sync_orm_in_browser_tests(request):
    # Playwright's sync API runs an event loop in the test thread; Django then
    # refuses ORM calls from it unless told this is deliberate.
    if request.node.get_closest_marker("browser"):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield


@pytest.fixture
def login(page, live_server):
    """Log a persona in through the real login form; returns the page."""

    def _login(user, password="pass-word-123"):
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login
