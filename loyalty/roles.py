"""The four roles and the permission codenames each is granted.

Data migrations call sync_roles(); it is idempotent, so a later feature adds
its codenames here and ships a migration that calls it again. Admins may
change grants in Django admin afterwards; a re-sync only adds, never removes.
"""

CSR = "CSR"
SUPERVISOR = "Supervisor"
ADMIN = "Admin"
MEMBER = "Member"

_CSR = [
    "loyalty.view_program",
    "loyalty.view_member",
    "loyalty.view_membership",
    "loyalty.view_activity",
    "loyalty.view_tier",
    "retro.view_retroclaim",
    "retro.add_retroclaim",
    "retro.view_retrotransaction",
]
_SUPERVISOR = _CSR + [
    "retro.approve_retroclaim",
    "retro.reverse_retroclaim",
    "retro.add_retrotransaction",
    "retro.view_retroimportbatch",
]
_MEMBER = ["retro.submit_own_retro_claim"]

ROLE_PERMISSIONS = {
    CSR: _CSR,
    SUPERVISOR: _SUPERVISOR,
    MEMBER: _MEMBER,
}
# Admins get every permission of these apps (they configure the program in Django admin).
ADMIN_APPS = ["loyalty", "retro", "claims", "exchanges", "django_celery_beat", "authtoken", "auth"]


def sync_roles(apps, schema_editor=None):
    """Create the groups and grant their permissions (usable as a RunPython function)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; grants need them now.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def lookup(dotted):
        app_label, codename = dotted.split(".", 1)
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*[lookup(c) for c in codenames])
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
