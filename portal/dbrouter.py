"""Reads of the officials' reports and of the open-data API from a streaming read replica; every
other read, and every write, on the primary (README "Scaling out").

On when ``DATABASE_REPLICA_URL`` is set: the settings then add the ``replica`` alias, this
router and its middleware. Without it nothing here runs.

Which requests. ``ReplicaMiddleware`` marks a GET or HEAD whose view belongs to one of
``REPLICA_APPS`` (by the URL's application namespace), and the router reads the mark from a
context variable: the views, ``reports.report_data.gather`` and the API's querysets need to know
nothing. Other pages, commands and threads of their own read from the primary.

What is never read there, in any request: who is signed in and what they may do (sessions,
users, authenticators, roles, the sign-in throttle) and the cache table. A role taken away a
moment ago must not be read back from a replica that has not replayed it yet, and be kept in an
account snapshot (communities/sessions.py).

Never behind a write. A replica is a moment behind the primary (about a millisecond on one
machine, README; much more under load), and cached fragments are kept under the content
version, which an edit moves on at once (portal/caching.py): a report gathered from a replica
that has not replayed the edit would be kept under the new version as if it were up to date,
until the next edit. So:

- once a request has written (or inside a transaction), its reads are on the primary;
- a request that wrote publishes, after its answer (its writes committed), the primary's WAL
  position in the shared cache (``WRITTEN``); a process outside requests (a command) does so
  when it exits;
- a request marked for the replica first asks it how far it has replayed (one query) and reads
  from the primary while it is short of that position.

The person who saved sees their edit on the next page, however far behind the replica is, and so
does everyone else. What remains is a report read between an edit's signal moving the version
on and its request's answer; without a replica, the same holds between the signal and the
commit.

When the replica cannot be reached, that first query fails: the error is caught, the process
leaves the replica alone for ``DOWN_SECONDS`` and the request reads from the primary, so no
page shows an error. A replica lost in the middle of a request, after that query, costs that
request the outage page (portal/outage.py).
"""

import atexit
import contextvars
import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
)
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
# The URL namespaces whose GET requests read from the replica.
REPLICA_APPS = {"reports", "opendata"}
# Read and written on the primary only (app labels, or app.model).
PRIMARY_ONLY = {
    "admin",
    "auth",
    "contenttypes",
    "django_cache",  # the database cache's table
    "otp_static",
    "otp_totp",
    "sessions",
    "communities.membership",
    "communities.signinfailure",
}
# How long a process reads from the primary after the replica could not be reached.
DOWN_SECONDS = 5.0
# The shared cache's key for the primary's WAL position after the last published write.
WRITTEN = "replica-written-lsn"


@dataclass
class _Request:
    replica: bool = False  # a report or API read
    wrote: bool = False
    ready: bool | None = None  # the replica answered and has replayed the last write


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar(
    "replica_request", default=None
)
_down_until = 0.0
_publish_at_exit = False


def _primary_only(model) -> bool:
    meta = model._meta
    return meta.app_label in PRIMARY_ONLY or f"{meta.app_label}.{meta.model_name}" in PRIMARY_ONLY


def _replica_ready() -> bool:
    """Whether the replica answers and has replayed the last published write; a replica that
    does not answer is left alone for DOWN_SECONDS."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    try:
        with connections[REPLICA].cursor() as cursor:
            # NULL on a server that is not a standby: nothing to replay.
            cursor.execute("SELECT pg_last_wal_replay_lsn() - '0/0'")
            (replayed,) = cursor.fetchone()
    except (OperationalError, InterfaceError) as error:
        _down_until = time.monotonic() + DOWN_SECONDS
        logger.warning("read replica unreachable, reading from the primary: %s", error)
        return False
    written = cache.get(WRITTEN)
    return replayed is None or written is None or replayed >= written


def publish() -> None:
    """Put the primary's WAL position in the shared cache: the replica serves reads again once
    it has replayed it."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn() - '0/0'")
            (position,) = cursor.fetchone()
    except DatabaseError:
        return  # the primary cannot be reached: nothing was written
    if position > (cache.get(WRITTEN) or 0):
        cache.set(WRITTEN, int(position), None)


def _publish_quietly() -> None:
    try:
        publish()
    except Exception:
        logger.exception("could not publish the last write for the read replica")


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        request = _current.get()
        if (
            request is None
            or not request.replica
            or request.wrote
            or _primary_only(model)
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        if request.ready is None:
            request.ready = _replica_ready()
        return REPLICA if request.ready else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        global _publish_at_exit
        if not _primary_only(model):
            request = _current.get()
            if request is not None:
                request.wrote = True
            elif not _publish_at_exit:
                _publish_at_exit = True
                atexit.register(_publish_quietly)
        # Also for a row read from the replica: Django would otherwise save it there.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The same rows, whichever server they were read from.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica receives the primary's schema by streaming


class ReplicaMiddleware:
    """Marks the report and API requests for the replica (see the module's docstring), and
    publishes the WAL position after a request that wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _Request()
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if state.wrote:
            publish()
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        state = _current.get()
        if (
            state is not None
            and request.method in ("GET", "HEAD")
            and REPLICA_APPS & set(request.resolver_match.app_names)
        ):
            state.replica = True
