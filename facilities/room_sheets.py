"""The idle room list (闲置用房清单): the "4+N" inventory of empty rooms as a spreadsheet.

Districts survey their idle rooms before they build (洛龙区 surveyed every subdistrict's before
building its neighbourhood centres; 雷锋社区 listed its resources before finding a room for its
supermarket), and the survey comes back as a spreadsheet. One row a room: who holds it, where it
is (its point in WGS-84, GCJ-02 or BD-09), its floor area, from when it is free, notes, and the
services it could take (category names; empty: any its floor area allows). The coverage reports
rank these rooms as candidate sites.

The key is 编号, the room's id; a row without one changes its community's room of the same
name, else it is new. Rooms missing from the sheet are left alone. The shared machinery is
``portal.lib.sheets`` and ``communities.sheet_admin``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from communities import access, points, sheet_places
from communities.models import Community
from facilities.models import Category, IdleRoom
from portal.lib import sheets
from portal.lib.sheets import BAD, CHANGED, NEW, UNCHANGED, Column, Plan, Sheet
from portal.lib.text import unix_newlines

SHEET_TITLE = "闲置用房清单"

COLUMNS = (
    Column(
        "id",
        "编号",
        ("key", "id"),
        _(
            "The room's key, given by the portal. Leave it empty for a new room; keep it as "
            "exported to change or rename one."
        ),
    ),
    Column(
        "community",
        "社区",
        ("community",),
        _(
            "The community's name (its URL name where two share a name). Staff of one "
            "community may leave it empty."
        ),
        "雷锋社区",
    ),
    Column(
        "name",
        "名称",
        ("name", "room"),
        _("What the room is called, unique within the community."),
        "示例：原物业用房一层",
        required=True,
    ),
    Column("owner", "权属单位", ("owner",), _("Who holds the room."), "物业公司"),
    Column("address", "地址", ("address",), _("Where it is."), "雷锋路3号", wide=True),
    Column(
        "latitude",
        "纬度",
        ("latitude", "lat"),
        _("Degrees, in the system the 坐标系 column names; within the community's district."),
        43.8702,
        required=True,
    ),
    Column(
        "longitude", "经度", ("longitude", "lng", "lon"), _("Degrees."), 125.3008, required=True
    ),
    Column(
        "point_system",
        "坐标系",
        ("coordinate system", "coordinates"),
        sheets.SYSTEM_GUIDE,
        "百度",
        optional=True,
    ),
    Column(
        "floor_area",
        "面积(m²)",
        ("floor area", "floor area (m²)", "area", "面积", "面积(m2)", "面积(平方米)"),
        _("Whole square metres; decides which services fit (a canteen needs 150 m²)."),
        180,
        required=True,
    ),
    Column(
        "available_from",
        "可用日期",
        ("available from",),
        sheets.DATE_GUIDE,
        "2027-03-01",
    ),
    Column(
        "services",
        "可承接服务",
        ("services", "could take"),
        _(
            "Category names separated by 、 (see the list below); empty: any service its floor "
            "area allows."
        ),
        "社区食堂、养老服务站",
        optional=True,
    ),
    Column("notes", "备注", ("notes",), _("Anything else."), "需加装无障碍坡道", wide=True),
)
LAYOUT = sheets.Layout(
    title=SHEET_TITLE,
    columns=COLUMNS,
    guide_heading=_("How to fill in the idle room list"),
    guide_intro=_(
        "The sheet “%(sheet)s” is imported: one idle room a row, the column names in its first "
        "row. This sheet is not imported. A room missing from the sheet is left as it is; if "
        "any row has a problem, nothing is saved."
    ),
)
FIELDS = ("name", "owner", "address", "floor_area", "available_from", "notes")
UPDATED = [*FIELDS, "community", "latitude", "longitude", "point_system"]


@dataclass
class RoomRow(sheets.RowPlan):
    existing: IdleRoom | None = None
    room: IdleRoom | None = None
    community: Community | None = None
    given: tuple[float, float, str] | None = None
    services: set[int] = field(default_factory=set)
    old_services: set[int] = field(default_factory=set)
    fields_changed: bool = False


class _Lists:
    """Categories by their names and codes, and the user's rooms the sheet may name."""

    def __init__(self, plan: Plan, user, lock: bool) -> None:
        self.categories = {c.pk: c for c in Category.objects.all()}
        self._order = {pk: i for i, pk in enumerate(self.categories)}
        self.category_by_text = {
            text: c
            for c in self.categories.values()
            for text in (c.name_zh, c.code, c.name_en.lower())
        }
        ids = {int(r.cells["id"]) for r in plan.rows if r.cells["id"].isdigit()}
        names = {r.name for r in plan.rows} - {""}
        rooms = access.editable(IdleRoom.objects.filter(Q(pk__in=ids) | Q(name__in=names)), user)
        if lock:
            rooms = rooms.select_for_update(of=("self",))
        found = list(rooms)
        self.by_id = {r.pk: r for r in found}
        self.by_pair = {(r.community_id, r.name): r for r in found}
        self.services = self.services_of(found)
        self.outside = dict(
            IdleRoom.objects.filter(pk__in=ids - self.by_id.keys()).values_list(
                "pk", "community__name"
            )
        )

    @staticmethod
    def services_of(rooms) -> dict[int, set[int]]:
        services: dict[int, set[int]] = {r.pk: set() for r in rooms}
        through = IdleRoom.services.through.objects.filter(idleroom__in=rooms)
        for room_id, category_id in through.values_list("idleroom_id", "category_id"):
            services[room_id].add(category_id)
        return services

    def names(self, ids) -> str:
        return "、".join(
            self.categories[pk].name_zh for pk in sorted(ids, key=self._order.__getitem__)
        )


def export_cells(room: IdleRoom, services: str, label: str) -> list:
    lat, lng, system = sheets.point_cells(room.latitude, room.longitude, room.point_system)
    values = {
        "id": room.pk or "",
        "community": label,
        "name": room.name,
        "owner": room.owner,
        "address": room.address,
        "latitude": lat,
        "longitude": lng,
        "point_system": system,
        "floor_area": room.floor_area,
        "available_from": sheets.iso(room.available_from),
        "services": services,
        "notes": room.notes,
    }
    return [values[c.key] for c in COLUMNS]


def plan_import(sheet: Sheet, filename: str, user, *, can_add: bool, lock: bool = False) -> Plan:
    """What importing the sheet would do, row by row, writing nothing, in a few queries."""
    plan = Plan(filename=filename, headers=sheet.headers, ignored_headers=sheet.ignored)
    plan.rows = [RoomRow(number=number, cells=cells) for number, cells in sheet.rows]
    places = sheet_places.Communities(user)
    places.learn_elsewhere(r.cells["community"] for r in plan.rows)
    lists = _Lists(plan, user, lock)
    for row in plan.rows:
        _match(row, places, lists)
        _validate(row, lists)
    _check_names(plan, lists)
    _check_points(plan)
    for row in plan.rows:
        _decide(row, plan, places, lists, can_add)
    return plan


def _match(row: RoomRow, places: sheet_places.Communities, lists: _Lists) -> None:
    sheet_places.match_by_id(
        row,
        places,
        lists,
        unknown=gettext(
            "No idle room has the 编号 “%(key)s”. Leave it empty for a new room; for an "
            "existing one, copy it from an export."
        ),
    )
    if row.existing is not None:
        row.old_services = lists.services[row.existing.pk]


def _validate(row: RoomRow, lists: _Lists) -> None:
    if row.name.startswith(sheets.EXAMPLE_PREFIX):
        row.bad(
            "name",
            gettext(
                "This is the template's example row: delete it, or write your own room's name."
            ),
        )
    instance = copy.copy(row.existing) if row.existing is not None else IdleRoom()
    if row.community is not None:
        instance.community = row.community
    data = {name: row.cells[name] for name in FIELDS}
    told = row.told
    for name, messages in sheets.clean_into(instance, data, FIELDS).items():
        if name not in told:
            row.bad(name, " ".join(messages))
    if instance.floor_area == 0 and "floor_area" not in row.told:
        row.bad("floor_area", gettext("The floor area must be more than 0 m²."))
    unix_newlines(IdleRoom, instance)
    row.given = sheets.read_point(row, instance, row.existing)
    row.room = instance
    for word in sheets.LIST_SPLIT.split(row.cells["services"]):
        if not word:
            continue
        category = lists.category_by_text.get(word) or lists.category_by_text.get(word.lower())
        if category is None:
            row.bad(
                "services",
                gettext(
                    "There is no category “%(name)s”: use a name from the list on the guide "
                    "sheet (说明) of the blank template, e.g. 社区食堂."
                )
                % {"name": word},
            )
        else:
            row.services.add(category.pk)


def _check_names(plan: Plan, lists: _Lists) -> None:
    sheets.check_names(
        plan,
        lists.by_pair,
        key="id",
        same=gettext("Row %(row)d is the same idle room already."),
        twice=gettext("Row %(row)d already has an idle room “%(name)s” in %(community)s."),
        taken=gettext("%(community)s already has an idle room called “%(name)s” (编号 %(key)s)."),
    )


def _check_points(plan: Plan) -> None:
    sheet_places.check_moved_points(plan.rows, lambda row: row.room, points.DISTRICT_MARGIN_M)


def _decide(
    row: RoomRow, plan: Plan, places: sheet_places.Communities, lists: _Lists, can_add: bool
) -> None:
    if row.existing is None and not row.problems and not can_add:
        row.bad("name", gettext("You may change idle rooms but not add new ones."))
    if row.problems:
        row.action = BAD
        return
    if row.existing is None:
        row.action = NEW
        return
    before = export_cells(
        row.existing, lists.names(row.old_services), places.label(row.existing.community_id)
    )
    after = export_cells(row.room, lists.names(row.services), places.label(row.room.community_id))
    changed = sheets.compare(LAYOUT, plan, row, before, after)
    row.fields_changed = any(key != "services" for key in changed)
    row.action = CHANGED if changed else UNCHANGED


@transaction.atomic
def apply(plan: Plan) -> dict[str, int]:
    """Write every new and changed row, or nothing."""
    from django.db.models.signals import m2m_changed

    from portal import caching

    if not plan.ok:
        raise ValueError("a plan with problems cannot be applied")
    new, changed = plan.of(NEW), plan.of(CHANGED)
    IdleRoom.objects.bulk_create([r.room for r in new], batch_size=sheets.BATCH)
    sheets.update_rows([r.room for r in changed if r.fields_changed], UPDATED)
    through = IdleRoom.services.through
    rewritten = [r for r in new + changed if r.services != r.old_services]
    through.objects.filter(idleroom_id__in=[r.room.pk for r in rewritten]).delete()
    through.objects.bulk_create(
        [through(idleroom_id=r.room.pk, category_id=pk) for r in rewritten for pk in r.services],
        batch_size=sheets.BATCH,
    )
    if rewritten:
        # Bulk writes send no signals, and the audit trail does not see the services: send the
        # one the admin's form would, so whoever keeps figures built on them hears of it.
        transaction.on_commit(
            lambda: m2m_changed.send(
                sender=through,
                instance=None,
                action="post_add",
                reverse=False,
                model=Category,
                pk_set=None,
                using="default",
            )
        )
    transaction.on_commit(caching.bump_content)
    return plan.counts


def export_rows(user) -> list[list]:
    places = sheet_places.Communities(user)
    rooms = list(
        access.editable(IdleRoom.objects.all(), user).order_by(
            "community__subdistrict__code", "community__name", "name"
        )
    )
    categories = {c.pk: c for c in Category.objects.all()}
    order = {pk: i for i, pk in enumerate(categories)}
    services = _Lists.services_of(rooms)
    return [
        export_cells(
            room,
            "、".join(categories[pk].name_zh for pk in sorted(services[room.pk], key=order.get)),
            places.label(room.community_id),
        )
        for room in rooms
    ]


def _guide_lists() -> list[sheets.GuideList]:
    from facilities.taxonomy import MIN_FLOOR_AREA_M2

    return [
        (
            gettext("Services (categories) a room could take, and the floor area each needs"),
            [
                (c.name_zh, "", c.code, f"≥ {MIN_FLOOR_AREA_M2[c.code]} m²")
                if c.code in MIN_FLOOR_AREA_M2
                else (c.name_zh, "", c.code)
                for c in Category.objects.all()
            ],
        )
    ]


def _kind():
    from communities.sheet_admin import SheetKind

    return SheetKind(
        layout=LAYOUT,
        plan=plan_import,
        apply=apply,
        export_rows=export_rows,
        guide_lists=_guide_lists,
        import_title=_("Import idle room list"),
        intro=_(
            "Add and change your idle rooms from a spreadsheet, such as the survey of the "
            "community's resources. Download an export (or the blank template), change it in "
            "Excel, then upload it here: you will see every row as new, changed or unchanged "
            "before anything is saved."
        ),
        file_label=_("Idle room list file"),
        changed_words=ngettext_lazy(
            "%(rows)s idle room changes", "%(rows)s idle rooms change", "rows"
        ),
        new_words=ngettext_lazy("%(rows)s new idle room", "%(rows)s new idle rooms", "rows"),
        unchanged_words=ngettext_lazy(
            "%(rows)s idle room stays as it is", "%(rows)s idle rooms stay as they are", "rows"
        ),
        new_columns=(
            (_("Name"), lambda row: row.name),
            (_("Community"), lambda row: row.community.name),
            (_("Floor area (m²)"), lambda row: row.room.floor_area),
        ),
    )


KIND = _kind()
