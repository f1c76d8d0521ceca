"""Canteen menus: copying a week forward, so a canteen that serves the same rota publishes next
week's menu in one step."""

from datetime import date, timedelta

from django.db import transaction

from facilities.models import Meal
from portal import caching


@transaction.atomic
def copy_week(facilities, today: date) -> tuple[int, int]:
    """Copy the meals of the 7 days from ``today`` to the same weekdays a week later, for the
    given facilities. A meal already published for that day and kind is kept, not overwritten.
    Returns (copied, kept)."""
    week = Meal.objects.filter(
        facility__in=facilities, date__gte=today, date__lt=today + timedelta(days=7)
    )
    existing = set(
        Meal.objects.filter(
            facility__in=facilities,
            date__gte=today + timedelta(days=7),
            date__lt=today + timedelta(days=14),
        ).values_list("facility_id", "date", "kind")
    )
    new = [
        Meal(
            facility_id=meal.facility_id,
            date=meal.date + timedelta(days=7),
            kind=meal.kind,
            dishes=meal.dishes,
            price=meal.price,
        )
        for meal in week
        if (meal.facility_id, meal.date + timedelta(days=7), meal.kind) not in existing
    ]
    Meal.objects.bulk_create(new)
    if new:
        caching.bump_content()  # bulk_create sends no signals
    return len(new), week.count() - len(new)
