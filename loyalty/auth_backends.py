"""The sign-in backend: Django's ModelBackend, reading the signed-in user and their permissions with
prepared statements.

Every screen asks has_perm() (the navigation, the screen's own check, the lamps); ModelBackend answers the
first question of a request with two compiled queries, the user's own permissions and their groups', each a
three-table join: 1.5 to 2 ms of a 15 ms search grid. Here they are one statement, built once per process
from the models' _meta and prepared by the server (loyalty.sql.run). Superusers and inactive users are
answered as ModelBackend answers them, and the answer is kept on the user for the request, as there.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from loyalty import sql

_statement = []
_user_statement = []


def _permissions_statement():
    if not _statement:
        User = get_user_model()
        own = User._meta.get_field("user_permissions").remote_field.through
        member_of = User._meta.get_field("groups").remote_field.through
        granted = Group.permissions.through

        def col(model, name):
            return sql.column(model, name)

        _statement.append(
            f"SELECT ct.{col(ContentType, 'app_label')}, p.{col(Permission, 'codename')} "
            f"FROM {sql.table(Permission)} p JOIN {sql.table(ContentType)} ct "
            f"ON ct.{col(ContentType, 'id')} = p.{col(Permission, 'content_type')} "
            f"WHERE p.{col(Permission, 'id')} IN ("
            f"SELECT u.{col(own, 'permission')} FROM {sql.table(own)} u WHERE u.{col(own, 'user')} = %s "
            f"UNION SELECT g.{col(granted, 'permission')} FROM {sql.table(granted)} g "
            f"JOIN {sql.table(member_of)} m ON m.{col(member_of, 'group')} = g.{col(granted, 'group')} "
            f"WHERE m.{col(member_of, 'user')} = %s)"
        )
    return _statement[0]


def _user_read():
    """The statement reading a user by primary key, and the reader of its row."""
    if not _user_statement:
        User = get_user_model()
        columns, (read,) = sql.joined_columns([("u", User)])
        pk = sql.column(User, User._meta.pk.name)
        _user_statement.append((f"SELECT {', '.join(columns)} FROM {sql.table(User)} u WHERE u.{pk} = %s", read))
    return _user_statement[0]


class ModelBackendOneQuery(ModelBackend):
    def get_user(self, user_id):
        # The signed-in user of every screen request, by a prepared statement (ModelBackend compiles a get()).
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        statement, read = _user_read()
        rows = sql.run(statement, [pk])
        user = read(rows[0]) if rows else None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                rows = sql.run(_permissions_statement(), [user_obj.pk, user_obj.pk])
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
