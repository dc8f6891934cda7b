"""Signed-in sessions in the database, kept as Django's db engine keeps them, read with one prepared statement.

Every screen request reads its session first; Django compiles that query anew each time (a third of a
millisecond of Python for a one-row read by primary key). The row, its expiry and everything written are
Django's own (SESSION_ENGINE = "loyalty.sessions").
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from loyalty import sql

_statement = []


def _session_statement():
    if not _statement:
        data, key, expiry = (sql.column(Session, name) for name in ("session_data", "session_key", "expire_date"))
        _statement.append(f"SELECT {data} FROM {sql.table(Session)} WHERE {key} = %s AND {expiry} > %s")
    return _statement[0]


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        rows = sql.run(_session_statement(), [self.session_key, timezone.now()])
        if not rows:
            self._session_key = None  # as Django's: an unknown or expired key starts a new session
            return None
        return self.model(session_key=self.session_key, session_data=rows[0][0])
