"""The membership claims app (seed 002) plugs its screens, claims lamp, tab, grants, demo and policies into the core."""

from django.apps import AppConfig

from loyalty import plugins
from loyalty.plugins import CSR, SUPERVISOR, DemoStep, HeaderIndicator, HomePanel, NavItem, ProfileLink

CSR_PERMISSIONS = [
    "claims.view_membershipclaim",
    "claims.change_membershipclaim",
    "claims.submit_primary_claim",
    "claims.submit_nonprimary_claim",
    "claims.add_claimnote",
    "claims.view_stay",
    "claims.change_stay",
]
SUPERVISOR_PERMISSIONS = [
    "claims.approve_limited_adjustment",
    "claims.add_stay",
    "claims.add_adjustmentbatch",
    "claims.view_adjustmentbatch",
    "claims.approve_adjustmentbatch",
]


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Membership claims"

    def ready(self):
        from claims import imports, tasks  # noqa: F401 - registers the import kinds and the task names
        from claims.decisions import ADJUSTMENT_BATCH_APPROVALS, MEMBERSHIP_CLAIM_APPROVALS
        from claims.demo import seed_claims
        from claims.operations import GAUGES, HEALTH
        from claims.reconciliation import CHECKS as RECONCILIATION
        from claims.selectors import VIEW_PERMISSIONS, claims_lamp
        from claims.views.home import due_claims_panel
        from claims.views.member_tab import claims_tab_context
        from loyalty.lifecycle.decisions import register_policy

        plugins.add_urls("claims/", "claims.urls")
        for item in [
            NavItem("Membership claims", "claim-search", "claims.view_membershipclaim"),
            NavItem("Adjustment files", "adjustment-batch-queue", "claims.approve_adjustmentbatch"),
            NavItem("Import stays", "stay-import", "claims.add_stay"),
            NavItem("Bulk adjustments", "adjustment-import", "claims.add_adjustmentbatch"),
        ]:
            plugins.add_navigation(item)
        plugins.add_profile_tab(
            ProfileLink("claims", "Claims", "member-profile-tab", "claims.view_membershipclaim",
                        "claims/partials/tab_claims.html", context=claims_tab_context, order=40)
        )  # fmt: skip
        plugins.add_more_action(
            ProfileLink("membership-claim", "Membership claim", "claim-new-for-member", "claims.view_membershipclaim",
                        order=30)
        )  # fmt: skip
        # Seed 002: anyone with one of the claims permissions sees the lamp.
        plugins.add_header_indicator(
            HeaderIndicator("claims-lamp", "claims/partials/lamp.html", VIEW_PERMISSIONS, claims_lamp)
        )
        plugins.add_home_panel(
            HomePanel("claims-due", "claims/partials/home_due.html", "claims.change_membershipclaim", due_claims_panel)
        )
        plugins.grant(CSR, *CSR_PERMISSIONS)
        plugins.grant(SUPERVISOR, *CSR_PERMISSIONS, *SUPERVISOR_PERMISSIONS)
        plugins.administer("claims")
        plugins.add_demo_step(DemoStep("claims", seed_claims))
        register_policy(MEMBERSHIP_CLAIM_APPROVALS)
        register_policy(ADJUSTMENT_BATCH_APPROVALS)
        for check in RECONCILIATION:
            plugins.add_reconciliation_check(check)
        for part in HEALTH:
            plugins.add_health_part(part)
        for gauge in GAUGES:
            plugins.add_business_gauge(gauge)
