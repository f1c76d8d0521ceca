"""The audit trail: who changed what, when, and what it was before.

Recording happens in PostgreSQL itself (django-pghistory's row triggers), so a change is kept
however it was made: an admin form, a bulk action, a sheet import, a management command, even SQL
typed into psql. Each event row is a copy of the tracked row after an insert or update, or before
a delete; the event tables are append-only (a trigger refuses UPDATE and DELETE on them), and no
page offers to edit them. The request's user and path are attached as context by
pghistory.middleware.HistoryMiddleware; commands attach their own name (``command_context``).

Reading goes through ``communities.access`` like every scoped query: ``for_facility`` for one
facility's page, ``in_scope`` for everything a user may read.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

import pghistory
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _

# The tracked models, by the name their event model gets (<Model>Event): a community and the rows
# that name it (their events carry a community id), and the rows that hang off a facility (their
# events carry a facility id).
COMMUNITY_AND_PLACES = [
    "communities.Community",
    "communities.ResidentialCompound",
    "facilities.IdleRoom",
    "facilities.Facility",
]
FACILITY_PARTS = [
    "facilities.OpeningHours",
    "facilities.HoursException",
    "facilities.Meal",
    "facilities.SeniorPrice",
    "facilities.FacilityPhoto",
]
# A compound's gates: their events carry a compound id.
COMPOUND_PARTS = ["communities.CompoundGate"]
TRACKED = COMMUNITY_AND_PLACES + FACILITY_PARTS + COMPOUND_PARTS
FACILITY_AND_PARTS = ["facilities.Facility", *FACILITY_PARTS]
# A lottery class's trail shows its commitment (the digest and when it was made: the event table
# has no column for the secret) and its draw beside its own changes.
CLASS_AND_DRAW = ["courses.CourseClass", "courses.DrawCommitment", "courses.Draw"]
# Columns no reader needs to see change.
QUIET_FIELDS = {"id", "slug", "updated_at", "key", "widths"}


def track(model_name: str, *, exclude: list[str] | None = None):
    """The class decorator every tracked model wears: inserts, updates that change a tracked
    field, and deletes, into an append-only <model_name>Event table."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
        model_name=f"{model_name}Event",
        append_only=True,
    )


def command_context(name: str):
    """Context for changes made by a management command (usable as a decorator)."""
    return pghistory.context(command=name)


def record_baseline(*labels: str):
    """A migration operation that copies every existing row of the tracked models into their
    event tables as a "baseline" event, so that the first change after tracking began still
    shows what the value was before. Baselines are never listed themselves."""
    from django.db import migrations

    def run(apps, schema_editor):
        for label in labels:
            app_label, name = label.split(".")
            model = apps.get_model(app_label, name)
            event = apps.get_model(app_label, f"{name}Event")
            columns = ", ".join(
                f'"{f.column}"'
                for f in event._meta.concrete_fields
                if not f.name.startswith("pgh_")
            )
            schema_editor.execute(
                f'INSERT INTO "{event._meta.db_table}" '
                f"(pgh_created_at, pgh_label, pgh_obj_id, {columns}) "
                f'SELECT clock_timestamp(), %s, "{model._meta.pk.column}", {columns} '
                f'FROM "{model._meta.db_table}"',
                [BASELINE],
            )

    return migrations.RunPython(run, migrations.RunPython.noop)


BASELINE = "baseline"
LABELS = {
    "insert": _("added"),
    "update": _("changed"),
    "delete": _("deleted"),
}


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class Entry:
    """One event, ready for a page."""

    at: datetime
    action: str  # insert / update / delete
    model: type[models.Model]
    object_id: int
    object_label: str
    who: str
    via: str  # the page path or command that made the change
    changes: list[Change]
    facility_id: int | None = None
    facility_name: str = ""

    @property
    def action_label(self) -> str:
        return LABELS.get(self.action, self.action)

    @property
    def model_label(self) -> str:
        return str(self.model._meta.verbose_name)


def event_model(label: str) -> type[models.Model]:
    app_label, name = label.split(".")
    return apps.get_model(app_label, f"{name}Event")


@functools.cache
def _fields(model: type[models.Model]) -> dict[str, models.Field]:
    return {f.attname: f for f in model._meta.concrete_fields}


class _Reader:
    """Turns event rows into entries: stored values as a reader would write them, related rows
    by name (each looked up once per page)."""

    def __init__(self, rows, users: dict[int, str]):
        self.users = users
        self.related: dict[tuple[type, object], str] = {}
        # The names of every related row the events mention: one query per related model.
        wanted: dict[type[models.Model], set] = {}
        for row in rows:
            fields = _fields(apps.get_model(row.pgh_obj_model))
            mentioned = list((row.pgh_data or {}).items())
            mentioned += [(k, before) for k, (before, _after) in (row.pgh_diff or {}).items()]
            for column, value in mentioned:
                field = fields.get(column)
                if field is not None and field.is_relation and column not in QUIET_FIELDS:
                    wanted.setdefault(field.related_model, set()).add(value)
        for related_model, ids in wanted.items():
            ids.discard(None)
            for obj in related_model._default_manager.filter(pk__in=ids):
                self.related[(related_model, obj.pk)] = str(obj)

    def field(self, model: type[models.Model], column: str) -> models.Field | None:
        return _fields(model).get(column)

    def shown(self, model: type[models.Model], column: str, value) -> str:
        """Choices by label, booleans as yes/no, times without seconds, related rows by name."""
        if value is None or value == "":
            return "—"
        field = self.field(model, column)
        if field is None:
            return str(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.BooleanField):
            return str(_("yes") if value else _("no"))
        if isinstance(field, models.TimeField):
            return str(value)[:5]
        if field.is_relation:
            return self.related.get((field.related_model, value), f"#{value}")
        return str(value)

    def label(self, model: type[models.Model], column: str) -> str:
        field = self.field(model, column)
        return str(field.verbose_name) if field else column

    def describe(self, model: type[models.Model], data: dict) -> str:
        """The row as its own __str__ writes it (公园路食堂, 星期一 07:00–19:00, …)."""
        values = {}
        for field in model._meta.concrete_fields:
            if field.attname in data and not field.is_relation:
                try:
                    values[field.attname] = field.to_python(data[field.attname])
                except Exception:  # an old event of a since-changed column: the id will do
                    return ""
        try:
            return str(model(**values))
        except Exception:
            return ""

    def entry(self, row) -> Entry | None:
        model = apps.get_model(row.pgh_obj_model)
        data = row.pgh_data or {}
        if row.pgh_label == "update":
            diff = row.pgh_diff or {}
        elif row.pgh_label == "insert":
            diff = {k: [None, v] for k, v in data.items() if v is not False}
        else:
            diff = {k: [v, None] for k, v in data.items() if v is not False}
        quiet = QUIET_FIELDS | ({"facility_id"} if "facility_id" in data else set())
        changes = [
            Change(self.label(model, k), self.shown(model, k, old), self.shown(model, k, new))
            for k, (old, new) in diff.items()
            if k not in quiet and (old not in (None, "") or new not in (None, ""))
        ]
        if row.pgh_label == "update" and not changes:
            return None
        context = row.pgh_context or {}
        user_id = context.get("user")
        # No user: a command, a migration, or SQL typed into psql.
        who = (self.users.get(user_id) or f"#{user_id}") if user_id else str(_("system"))
        is_facility = model._meta.label == "facilities.Facility"
        return Entry(
            at=row.pgh_created_at,
            action=row.pgh_label,
            model=model,
            object_id=int(row.pgh_obj_id),
            object_label=self.describe(model, data),
            who=who,
            via=context.get("url") or context.get("command") or "",
            changes=changes,
            facility_id=int(row.pgh_obj_id) if is_facility else data.get("facility_id"),
            # A part's facility, named by the lookup of related rows above.
            facility_name=self.shown(model, "facility_id", data["facility_id"])
            if "facility_id" in data
            else "",
        )


def _user_names(rows) -> dict[int, str]:
    ids = {(r.pgh_context or {}).get("user") for r in rows} - {None}
    User = get_user_model()
    return {u.pk: u.get_full_name() or u.get_username() for u in User.objects.filter(pk__in=ids)}


def _read(queryset, limit: int) -> list[Entry]:
    rows = list(queryset.exclude(pgh_label=BASELINE).order_by("-pgh_created_at", "-pgh_id")[:limit])
    reader = _Reader(rows, _user_names(rows))
    return [entry for row in rows if (entry := reader.entry(row))]


def for_facility(facility, limit: int = 200) -> list[Entry]:
    """Everything that happened to a facility and the rows hanging off it (hours, exceptions,
    menus, prices, photos), newest first."""
    events = pghistory.models.Events.objects.references(facility).across(
        *[event_model(label) for label in FACILITY_AND_PARTS]
    )
    return _read(events, limit)


def for_object(obj, limit: int = 200) -> list[Entry]:
    """The events of one tracked row (a community, a compound, a meal …)."""
    events = pghistory.models.Events.objects.tracks(obj).across(event_model(obj._meta.label))
    return _read(events, limit)


def history_of(obj, limit: int = 200) -> list[Entry]:
    """A row's history page: a facility with its parts, a community with its compounds and
    facilities, a class with its lottery's commitment and draw, anything else by itself."""
    label = obj._meta.label
    if label == "facilities.Facility":
        return for_facility(obj, limit)
    if label == "courses.CourseClass":
        events = pghistory.models.Events.objects.references(obj).across(
            *[event_model(m) for m in CLASS_AND_DRAW]
        )
        return _read(events, limit)
    if label == "communities.Community":
        events = pghistory.models.Events.objects.references(obj).across(
            *[event_model(m) for m in COMMUNITY_AND_PLACES]
        )
        return _read(events, limit)
    if label == "communities.ResidentialCompound":
        events = pghistory.models.Events.objects.references(obj).across(
            event_model(label), *[event_model(m) for m in COMPOUND_PARTS]
        )
        return _read(events, limit)
    return for_object(obj, limit)


# Who may read which communities is communities.access's to say, an app above this module: it
# registers a reader here when it starts (communities.apps), a function of a user giving
# (whether they read everything, the communities they read).
_scope_reader = None


def register_scope(reader) -> None:
    global _scope_reader
    _scope_reader = reader


def in_scope(user, limit: int = 100) -> list[Entry]:
    """The latest changes a user may read: their communities' (staff), their area's (officials),
    everything (city administrators). Facilities deleted long ago still count for the community
    their last event names."""
    if _scope_reader is None:
        raise RuntimeError("no scope reader registered (communities.apps registers it)")
    everything, community_rows = _scope_reader(user)
    Events = pghistory.models.Events
    if everything:
        return _read(Events.objects.across(*[event_model(m) for m in TRACKED]), limit)
    community_rows = list(community_rows)
    if not community_rows:
        return []
    communities = [c.pk for c in community_rows]
    # The facilities ever in these communities, from their own events (so deleted ones too).
    FacilityEvent = event_model("facilities.Facility")
    facility_ids = set(
        FacilityEvent.objects.filter(community_id__in=communities).values_list(
            "pgh_obj_id", flat=True
        )
    )
    place_events = Events.objects.references(community_rows).across(
        *[event_model(m) for m in COMMUNITY_AND_PLACES]
    )
    entries = _read(place_events, limit)
    if facility_ids:
        facilities = [apps.get_model("facilities", "Facility")(pk=pk) for pk in facility_ids]
        child_events = Events.objects.references(facilities).across(
            *[event_model(label) for label in FACILITY_PARTS]
        )
        entries += _read(child_events, limit)
    # The compounds ever in these communities, for their gates' events likewise.
    CompoundEvent = event_model("communities.ResidentialCompound")
    compound_ids = set(
        CompoundEvent.objects.filter(community_id__in=communities).values_list(
            "pgh_obj_id", flat=True
        )
    )
    if compound_ids:
        compounds = [
            apps.get_model("communities", "ResidentialCompound")(pk=pk) for pk in compound_ids
        ]
        entries += _read(
            Events.objects.references(compounds).across(
                *[event_model(label) for label in COMPOUND_PARTS]
            ),
            limit,
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
