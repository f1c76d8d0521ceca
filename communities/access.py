"""Who may see and change which communities: the one place every scoped query goes through.

Views, admin classes and reports never filter by membership themselves; they ask for
``scope_for(user)`` and apply its ``Q`` objects, so a rule cannot be remembered in one place and
forgotten in another.

This module imports nothing above ``communities``. Where a rule depends on an app above (staff look
after the people in their classes), that app registers what it knows here when it starts
(``register_learners``, called from ``courses.apps``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from communities.models import Community, Membership

_NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    community_ids: frozenset[int] = frozenset()  # kept as staff
    subdistrict_ids: frozenset[int] = frozenset()  # read as an official
    district_ids: frozenset[int] = frozenset()  # read as an official

    def editable_q(self, to_community: str = "") -> Q:
        """Rows whose community this user keeps. ``to_community`` is the lookup path from the
        model being filtered to Community, with a trailing ``__`` (``"community__"``), or ``""``
        for Community itself."""
        if self.everything:
            return Q()
        if not self.community_ids:
            return _NOTHING
        return Q(**{f"{to_community}id__in": self.community_ids})

    def readable_q(self, to_community: str = "") -> Q:
        """Rows this user may read in reports: what they keep plus their official area."""
        if self.everything:
            return Q()
        q = _NOTHING
        if self.community_ids:
            q |= Q(**{f"{to_community}id__in": self.community_ids})
        if self.subdistrict_ids:
            q |= Q(**{f"{to_community}subdistrict_id__in": self.subdistrict_ids})
        if self.district_ids:
            q |= Q(**{f"{to_community}subdistrict__district_id__in": self.district_ids})
        return q

    def districts_q(self, to_district: str = "") -> Q:
        """Rows of the districts where this user keeps or reads a community: what belongs to a
        whole district (its street network) is read by everyone who works inside it.
        ``to_district`` is the lookup path to District with a trailing ``__``, or ``""``."""
        if self.everything:
            return Q()
        if not self.reads_anything:
            return _NOTHING
        inside = Community.objects.filter(self.readable_q()).values("subdistrict__district_id")
        return Q(**{f"{to_district}id__in": inside})

    @property
    def edits_anything(self) -> bool:
        return self.everything or bool(self.community_ids)

    @property
    def reads_anything(self) -> bool:
        """Whether ``readable_q`` lets any community through: the coverage reports' test."""
        return self.everything or bool(
            self.community_ids or self.subdistrict_ids or self.district_ids
        )

    @property
    def reads_reports(self) -> bool:
        return self.everything or bool(self.subdistrict_ids or self.district_ids)


def scope_for(user) -> Scope:
    """The user's scope, read once per request object and cached on it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_portal_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True)
    else:
        rows = list(
            Membership.objects.filter(user=user).values_list(
                "role", "community_id", "subdistrict_id", "district_id"
            )
        )
        scope = Scope(
            everything=any(role == Membership.Role.CITY_ADMIN for role, *_ in rows),
            community_ids=frozenset(c for role, c, _s, _d in rows if role == Membership.Role.STAFF),
            subdistrict_ids=frozenset(s for role, _c, s, _d in rows if s),
            district_ids=frozenset(d for role, _c, _s, d in rows if d),
        )
    if scope != Scope():
        # Roles count only once the session passed the second sign-in step.
        from communities import two_factor

        if not two_factor.is_verified(user):
            scope = Scope()
    user._portal_scope = scope
    return scope


def editable(queryset, user):
    """``queryset`` cut down to rows of communities ``user`` keeps. The model says how it reaches
    Community through its ``community_path`` attribute."""
    return queryset.filter(scope_for(user).editable_q(queryset.model.community_path))


def readable(queryset, user):
    """``queryset`` cut down to rows ``user`` may read in reports."""
    return queryset.filter(scope_for(user).readable_q(queryset.model.community_path))


def district_wide(queryset, user, to_district: str = "district__"):
    """``queryset`` of district-wide rows cut down to the districts ``user`` works in (staff:
    their communities' districts; officials: their area's). Read-only access: who may change
    such rows is the city administrator, who sees them all."""
    return queryset.filter(scope_for(user).districts_q(to_district))


# Each gives, for a user, a query of the user ids of people in that user's care beyond the
# residents of their compounds: courses registers the people holding a place in their classes.
_LEARNERS: list[Callable] = []


def register_learners(users_of: Callable) -> None:
    """Add ``users_of(user)``: a queryset of the ``user_id`` values of people ``user`` looks
    after through an app above this one (registered once, when that app starts)."""
    if users_of not in _LEARNERS:
        _LEARNERS.append(users_of)


def residents(queryset, user):
    """The residents (a ``residents.Resident`` queryset) ``user`` looks after: those living in a
    compound of a community they keep, and those the registered apps name (courses: a seat or a
    waiting-list place in one of its classes; the desk enrols people from anywhere). Officials
    look after nobody."""
    scope = scope_for(user)
    if scope.everything:
        return queryset
    cared_for = scope.editable_q("compound__community__")
    for users_of in _LEARNERS:
        cared_for |= Q(user__in=users_of(user))
    return queryset.filter(cared_for)


def trail_scope(user) -> tuple[bool, object]:
    """For the audit trail (portal.audit.in_scope): whether ``user`` reads everything, and the
    communities they read."""
    scope = scope_for(user)
    return scope.everything, ([] if scope.everything else readable(Community.objects.all(), user))
