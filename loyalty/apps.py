"""The loyalty core's app: registers the core's own screens, tabs and grants like any feature app."""

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate

from loyalty import plugins
from loyalty.plugins import CSR, SUPERVISOR, NavItem, ProfileLink


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty core"

    def ready(self):
        # These read models, which exist only once apps are ready; tasks registers the core's task names.
        from loyalty import tasks, views  # noqa: F401
        from loyalty.health import CORE_PARTS
        from loyalty.middleware import IdleSessionMiddleware
        from loyalty.reconciliation import CORE_CHECKS
        from loyalty.roles import sync_roles_after_migrate

        plugins.add_navigation(NavItem("Members", "member-search", "loyalty.view_member"))
        for order, (key, label, permission, context) in enumerate(
            [
                ("summary", "Summary", "loyalty.view_member", views.summary_tab),
                ("activities", "Activities", "loyalty.view_activity", views.activities_tab),
                ("flights", "Flights", "loyalty.view_activity", views.flights_tab),
            ],
            start=1,
        ):
            template = f"loyalty/partials/tab_{key}.html"
            link = ProfileLink(key, label, "member-profile-tab", permission, template, context, order=order * 10)
            plugins.add_profile_tab(link)
        core = ["loyalty.view_program", "loyalty.view_member", "loyalty.view_membership", "loyalty.view_activity"]
        plugins.grant(CSR, *core, "loyalty.view_tier")
        plugins.grant(SUPERVISOR, *core, "loyalty.view_tier")
        plugins.administer("loyalty", "django_celery_beat", "knox", "auth", "axes")
        for check in CORE_CHECKS:
            plugins.add_reconciliation_check(check)
        for part in CORE_PARTS:  # the database, the broker and the outbox first: apps add their own after
            plugins.add_health_part(part)
        user_logged_in.connect(IdleSessionMiddleware.on_login, dispatch_uid="loyalty-idle-session-start")
        # Roles follow the registries: every migrate grants what the apps registered.
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="loyalty-sync-roles")
