"""What a signed-in request reads before its page: the session, and the account it signs in (the
user, the authenticator that passed the second step, the scope of their roles), in one round
trip to the shared store.

Django alone reads the session from the store, then the user from the database, then
django-otp the authenticator, then the page its memberships: three round trips and two more
queries on every page. Here the session store (``SessionStore``, the cached-database engine)
reads three entries at once: the session, this session's *account snapshot* (the user, the
device and the scope as they were read last) and the *accounts version*. ``AccountMiddleware``
(in place of Django's and django-otp's middleware) takes the snapshot when it was made under the
current accounts version for this very session state (user, password hash, device), and reads
the account from the database and snapshots it otherwise.

Any change to an account moves the accounts version on (signals on users, authenticators,
recovery codes and memberships: ``bump_accounts``), so no snapshot outlives a changed password,
a removed role or a deactivated user by a single request; the snapshot's own time limit bounds a
change made past the signals (a raw UPDATE). Signing in is not such a change: the last-login
moment is left out.

A read-only request writes nothing back: the snapshot is written once per session and accounts
version, and the session only when something in it changed.
"""

import time

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user,
)
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

ACCOUNTS_VERSION_KEY = "accounts-version"
SNAPSHOT_PREFIX = "account-snapshot:"
# A change made past the signals is seen within this long.
SNAPSHOT_SECONDS = 600


def bump_accounts(*args, **kwargs) -> None:
    """Move the accounts version on: every snapshot is read again. A signal receiver; a user's
    save that only records the sign-in moment changes nothing a page shows."""
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    from django.core.cache import caches

    store = caches[settings.SESSION_CACHE_ALIAS]
    try:
        store.incr(ACCOUNTS_VERSION_KEY)
    except ValueError:  # not there (yet, or evicted): start from the clock, never reused
        store.set(ACCOUNTS_VERSION_KEY, int(time.time() * 1000), None)


class SessionStore(CachedDBStore):
    """The cached-database session, read together with its account snapshot and the accounts
    version (one ``get_many``: one Redis round trip, or one query on the database cache)."""

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.snapshot = None
        self.accounts_version = None

    @property
    def snapshot_key(self) -> str:
        return SNAPSHOT_PREFIX + self._get_or_create_session_key()

    def load(self):
        try:
            found = self._cache.get_many([self.cache_key, self.snapshot_key, ACCOUNTS_VERSION_KEY])
        except Exception:  # an unusable key (see cached_db): no session
            found = {}
        self.snapshot = found.get(self.snapshot_key)
        self.accounts_version = found.get(ACCOUNTS_VERSION_KEY)
        data = found.get(self.cache_key)
        if data is None:
            self.snapshot = None  # a session read again from the database is read anew
            s = self._get_session_from_db()
            if s:
                data = self.decode(s.session_data)
                self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=s.expire_date))
            else:
                data = {}
        return data

    def keep_snapshot(self, snapshot: dict) -> None:
        if self.accounts_version is None:
            # No version yet: make one, so that a later change is seen.
            self._cache.add(ACCOUNTS_VERSION_KEY, int(time.time() * 1000), None)
            self.accounts_version = self._cache.get(ACCOUNTS_VERSION_KEY)
            snapshot["version"] = self.accounts_version
        self._cache.set(self.snapshot_key, snapshot, SNAPSHOT_SECONDS)

    def delete(self, session_key=None):
        key = session_key or self.session_key
        super().delete(session_key)
        if key:
            self._cache.delete(SNAPSHOT_PREFIX + key)

    def cycle_key(self):
        old = self.session_key
        super().cycle_key()
        if old:
            self._cache.delete(SNAPSHOT_PREFIX + old)


def _state(session) -> tuple:
    """What the snapshot must have been made for: the user, their password's hash as the
    session holds it, and the device that passed the second step."""
    return (
        session.get(SESSION_KEY),
        session.get(BACKEND_SESSION_KEY),
        session.get(HASH_SESSION_KEY),
        session.get(DEVICE_ID_SESSION_KEY),
    )


def _from_snapshot(request):
    session = request.session
    snapshot = getattr(session, "snapshot", None)
    if (
        not snapshot
        or snapshot.get("version") != session.accounts_version
        or snapshot.get("state") != _state(session)
    ):
        return None
    user = snapshot["user"]
    # The session's hash still checked against the user's (the secret may have changed).
    session_hash = session.get(HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return None
    return user, snapshot["device"], snapshot["scope"]


def _device(request, user):
    """The device that passed this session's second step, as django-otp's middleware finds it:
    one of this user's, confirmed, else none (and the session forgets it)."""
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is not None and (device.user_id != user.pk or not device.confirmed):
        device = None
    if device is None and DEVICE_ID_SESSION_KEY in request.session:
        del request.session[DEVICE_ID_SESSION_KEY]
    return device


def _verified(user) -> bool:
    return user.otp_device is not None


def _account(request):
    from communities import access

    found = _from_snapshot(request) if SESSION_KEY in request.session else None
    if found is not None:
        user, device, scope = found
    else:
        user = get_user(request)
        if not user.is_authenticated:
            device, scope = None, None
        else:
            device = _device(request, user)
            user.otp_device = device
            user.is_verified = lambda: _verified(user)
            scope = access.scope_for(user)
            for name in ("otp_device", "is_verified", "_portal_scope"):
                user.__dict__.pop(name, None)  # the snapshot keeps the plain user
            session = request.session
            if isinstance(session, SessionStore) and session.session_key:
                session.keep_snapshot(
                    {
                        "version": session.accounts_version,
                        "state": _state(session),
                        "user": user,
                        "device": device,
                        "scope": scope,
                    }
                )
    user.otp_device = device
    user.is_verified = lambda: _verified(user)
    if scope is not None:
        user._portal_scope = scope
    return user


class AccountMiddleware(AuthenticationMiddleware):
    """``request.user``, read when first asked for: from the session's snapshot, else from the
    database (then snapshotted); with ``otp_device`` and ``is_verified()`` as django-otp gives
    them, and the scope of its roles (communities.access.scope_for) already known. (Django's
    middleware's subclass: the admin's checks ask for it.)"""

    def process_request(self, request):
        request.user = SimpleLazyObject(lambda: _account(request))
