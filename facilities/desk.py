"""The staff desk: what in my community needs attention, each item linked to the form that
fixes it. Read through communities.access like every scoped query."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Exists, OuterRef

from communities import access
from facilities.models import Facility, FacilityPhoto, Meal, OpeningHours
from portal import audit

MENU_DAYS_AHEAD = 3  # a canteen should have published the next three days
RECENT_SHOWN = 6


@dataclass
class Desk:
    no_hours: list[Facility] = field(default_factory=list)
    no_photo: list[Facility] = field(default_factory=list)
    no_phone: list[Facility] = field(default_factory=list)
    no_menu: list[Facility] = field(default_factory=list)
    overdue: list[Facility] = field(default_factory=list)  # planned, opening date passed
    recent: list[audit.Entry] = field(default_factory=list)  # from the audit trail

    @property
    def empty(self) -> bool:
        return not (self.no_hours or self.no_photo or self.no_phone or self.no_menu or self.overdue)


def for_user(user, today: date) -> Desk | None:
    """The desk of someone who keeps communities; None for anyone else (nothing to keep)."""
    scope = access.scope_for(user)
    if not scope.community_ids:
        return None
    menu_days = Meal.objects.filter(
        facility=OuterRef("pk"),
        date__gt=today,
        date__lte=today + timedelta(days=MENU_DAYS_AHEAD),
    )
    facilities = list(
        access.editable(Facility.objects.visible(), user)
        .select_related("category")
        .annotate(
            has_hours=Exists(OpeningHours.objects.filter(facility=OuterRef("pk"))),
            has_photo=Exists(FacilityPhoto.objects.filter(facility=OuterRef("pk"))),
            has_menu=Exists(menu_days),
        )
        .order_by("name")
    )
    built = [f for f in facilities if f.is_built]
    return Desk(
        no_hours=[f for f in built if not f.has_hours],
        no_photo=[f for f in built if not f.has_photo],
        no_phone=[f for f in built if not f.phone],
        no_menu=[
            f
            for f in built
            if f.category.code == "canteen" and f.status == Facility.Status.OPEN and not f.has_menu
        ],
        overdue=[
            f
            for f in facilities
            if not f.is_built and f.planned_opening and f.planned_opening < today
        ],
        recent=audit.in_scope(user, RECENT_SHOWN),
    )
