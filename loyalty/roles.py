"""The four roles and the permission codenames each is granted, as the apps registered them (loyalty.plugins).

sync_roles() is idempotent and runs after every migrate (LoyaltyConfig), so a
feature app only grants its codenames from its AppConfig.ready(). Admins may
change grants in Django admin afterwards; a re-sync only adds, never removes.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from loyalty.plugins import ADMIN, ADMIN_APPS, CSR, MEMBER, ROLE_PERMISSIONS, SUPERVISOR

__all__ = ["ADMIN", "CSR", "MEMBER", "SUPERVISOR", "sync_roles"]


def sync_roles(apps=global_apps, schema_editor=None):
    """Create the groups and grant their permissions (usable as a RunPython function)."""
    # Permissions are normally created after migrate; grants need them now.
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def lookup(dotted):
        app_label, codename = dotted.split(".", 1)
        return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        # A permission whose model is not migrated yet (an early data migration) is granted by a later sync.
        group.permissions.add(*[p for p in (lookup(c) for c in codenames) if p is not None])
    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.add(*Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))


def sync_roles_after_migrate(sender, **kwargs):
    sync_roles()
