"""History of the roles: which permissions each group had, who changed them and when (django-simple-history).

Group is Django's model: its history lives in this app (the core owns the roles).
"""

from django.contrib.auth.models import Group
from simple_history import register

register(Group, app="loyalty", m2m_fields=["permissions"])
