"""The roles (Django's groups) in admin with their history: which permissions a role had, changed by whom, when."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from simple_history.admin import SimpleHistoryAdmin

admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(SimpleHistoryAdmin, GroupAdmin):
    pass
