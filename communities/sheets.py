"""The compound list (小区清单): residential compounds and their gates as a spreadsheet.

Every coverage figure divides by compounds' residents and walks from their gates, so a district
going live brings its compounds in one sheet, not one admin form at a time. One row a compound;
its gates in one cell (``北门 43.88651,125.28402；东门 43.88590,125.28733``), in the same
coordinate system as the compound's own point (``坐标系``: WGS-84, GCJ-02 from 高德/腾讯, BD-09
from 百度), all stored in WGS-84.

- The key is 编号, the compound's id. A row without one changes its community's compound of the
  same name, else it is new. Compounds missing from the sheet are left alone; a row's gates
  replace that compound's gates (a gate left out is removed, so an export lists them all).
- Scope comes from ``communities.access``: staff name their own community (or leave it empty),
  the city administrator any.
- A point, the compound's or a gate's, new or moved, must lie in the community's district
  (``portal.lib.sheet_places.PointCheck``), else it is refused with its likely cause.
- The shared machinery (reading, the plan, writing, the admin pages) is ``portal.lib.sheets``
  and ``communities.sheet_admin``; this module is what is particular to compounds.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from communities import access, sheet_places
from communities.models import Community, CompoundGate, ResidentialCompound
from portal import caching
from portal.lib import coords, sheets
from portal.lib.sheets import BAD, CHANGED, NEW, UNCHANGED, Column, Plan, Sheet
from portal.lib.text import unix_newlines

SHEET_TITLE = "小区清单"
# A district's compounds fit in one sheet: 洛龙区 has some 400, a large city district 2,000.
MAX_ROWS = 20_000

# Compounds may lie this far beyond the box around the district's communities and compounds, wider
# than a single point's margin in the admin (communities.points): a district's compounds are what
# draws its extent, and its first sheet extends it from its communities' offices alone.
DISTRICT_MARGIN_M = 2000

COLUMNS = (
    Column(
        "id",
        "编号",
        ("key", "id"),
        _(
            "The compound's key, given by the portal. Leave it empty for a new compound; keep "
            "it as exported to change or rename one."
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
        "林园社区",
    ),
    Column(
        "name",
        "名称",
        ("name", "compound"),
        _("The compound's name, unique within the community."),
        "示例：林园小区",
        required=True,
    ),
    Column("address", "地址", ("address",), _("As residents know it."), "林园路8号", wide=True),
    Column(
        "population",
        "人口",
        ("population", "residents"),
        _("Residents living there, a whole number; the coverage figures count them."),
        2400,
    ),
    Column("households", "户数", ("households",), _("A whole number."), 860),
    Column(
        "latitude",
        "纬度",
        ("latitude", "lat"),
        _(
            "The compound's middle, in degrees, in the system the 坐标系 column names; it must "
            "lie within the community's district."
        ),
        43.8853,
        required=True,
    ),
    Column(
        "longitude", "经度", ("longitude", "lng", "lon"), _("Degrees."), 125.2846, required=True
    ),
    Column(
        "point_system",
        "坐标系",
        ("coordinate system", "coordinates"),
        sheets.SYSTEM_GUIDE,
        "GCJ-02",
        optional=True,
    ),
    Column(
        "gates",
        "出入口",
        ("gates", "entrances"),
        _(
            "Where residents walk out, each a name and latitude,longitude in the same system as "
            "the compound's point, separated by ；. The walks of the coverage reports start "
            "here; empty: from the compound's point. The cell replaces the compound's gates."
        ),
        sheets.GATES_EXAMPLE,
        optional=True,
        wide=True,
    ),
)
LAYOUT = sheets.Layout(
    title=SHEET_TITLE,
    columns=COLUMNS,
    guide_heading=_("How to fill in the compound list"),
    guide_intro=_(
        "The sheet “%(sheet)s” is imported: one residential compound a row, the column names "
        "in its first row. This sheet is not imported. A compound missing from the sheet is "
        "left as it is; if any row has a problem, nothing is saved."
    ),
    max_rows=MAX_ROWS,
)
FIELDS = ("name", "address", "population", "households")
UPDATED = [*FIELDS, "community", "latitude", "longitude", "point_system"]

Gate = tuple[str, float, float, str]  # (name, latitude, longitude, system given), WGS-84
GATE_FIELDS = ("compound", "name", "latitude", "longitude", "point_system")  # key, then a Gate


@dataclass
class CompoundRow(sheets.RowPlan):
    existing: ResidentialCompound | None = None
    compound: ResidentialCompound | None = None
    community: Community | None = None
    given: tuple[float, float, str] | None = None
    gates: list[Gate] = field(default_factory=list)
    gates_given: list[tuple[float, float]] = field(default_factory=list)
    old_gates: list[CompoundGate] = field(default_factory=list)
    gates_changed: bool = False
    fields_changed: bool = False


class _Existing:
    """The user's compounds the sheet may name, by id and by (community, name), with their gates;
    and which ids belong to compounds elsewhere."""

    def __init__(self, plan: Plan, user, lock: bool) -> None:
        ids = {int(r.cells["id"]) for r in plan.rows if r.cells["id"].isdigit()}
        names = {r.name for r in plan.rows} - {""}
        found = access.editable(
            ResidentialCompound.objects.filter(Q(pk__in=ids) | Q(name__in=names)), user
        )
        if lock:
            found = found.select_for_update(of=("self",))
        compounds = list(found)
        self.by_id = {c.pk: c for c in compounds}
        self.by_pair = {(c.community_id, c.name): c for c in compounds}
        self.gates: dict[int, list[CompoundGate]] = {c.pk: [] for c in compounds}
        for gate in CompoundGate.objects.filter(compound__in=compounds).order_by("name", "id"):
            self.gates[gate.compound_id].append(gate)
        self.outside = dict(
            ResidentialCompound.objects.filter(pk__in=ids - self.by_id.keys()).values_list(
                "pk", "community__name"
            )
        )


def export_cells(compound: ResidentialCompound, gates, label: str) -> list:
    """The compound as the sheet's cells in column order: points in the system it was given
    in, its gates in the same one."""
    lat, lng, system = sheets.point_cells(
        compound.latitude, compound.longitude, compound.point_system
    )
    shown = []
    for gate in gates:
        if compound.point_system == coords.System.WGS84:
            shown.append((gate.name, gate.latitude, gate.longitude))
        else:
            glat, glng = coords.from_wgs84(gate.latitude, gate.longitude, compound.point_system)
            shown.append((gate.name, round(glat, 7), round(glng, 7)))
    values = {
        "id": compound.pk or "",
        "community": label,
        "name": compound.name,
        "address": compound.address,
        "population": compound.population,
        "households": compound.households,
        "latitude": lat,
        "longitude": lng,
        "point_system": system,
        "gates": sheets.format_gates(shown),
    }
    return [values[c.key] for c in COLUMNS]


def plan_import(sheet: Sheet, filename: str, user, *, can_add: bool, lock: bool = False) -> Plan:
    """What importing the sheet would do, row by row, writing nothing, in the same few queries
    for ten rows or twenty thousand."""
    plan = Plan(filename=filename, headers=sheet.headers, ignored_headers=sheet.ignored)
    plan.rows = [CompoundRow(number=number, cells=cells) for number, cells in sheet.rows]
    places = sheet_places.Communities(user)
    places.learn_elsewhere(r.cells["community"] for r in plan.rows)
    existing = _Existing(plan, user, lock)
    for row in plan.rows:
        _match(row, places, existing)
        _validate(row)
    _check_names(plan, existing)
    _check_points(plan)
    for row in plan.rows:
        _decide(row, plan, places, existing, can_add)
    return plan


def _match(row: CompoundRow, places: sheet_places.Communities, existing: _Existing) -> None:
    sheet_places.match_by_id(
        row,
        places,
        existing,
        unknown=gettext(
            "No compound has the 编号 “%(key)s”. Leave it empty for a new compound; for "
            "an existing one, copy it from an export."
        ),
    )
    if row.existing is not None:
        row.old_gates = existing.gates[row.existing.pk]


def _validate(row: CompoundRow) -> None:
    """The row's own fields by the model's rules, its point and its gates; ``row.compound``
    becomes the compound as it would be saved."""
    if row.name.startswith(sheets.EXAMPLE_PREFIX):
        row.bad(
            "name",
            gettext(
                "This is the template's example row: delete it, or write your own compound's name."
            ),
        )
    instance = copy.copy(row.existing) if row.existing is not None else ResidentialCompound()
    if row.community is not None:
        instance.community = row.community
    data = {name: row.cells[name] for name in FIELDS}
    for name in ("population", "households"):
        data[name] = data[name] or "0"
    told = row.told
    for name, messages in sheets.clean_into(instance, data, FIELDS).items():
        if name not in told:
            row.bad(name, " ".join(messages))
    unix_newlines(ResidentialCompound, instance)
    row.given = sheets.read_point(row, instance, row.existing)
    row.compound = instance
    try:
        gates = sheets.parse_gates(row.cells["gates"])
    except ValueError as error:
        row.bad("gates", str(error))
        return
    system = sheets.read_system(row.cells["point_system"])
    if system is None:
        return
    old = list(row.old_gates)
    for name, lat, lng in gates:
        wgs = coords.to_wgs84(lat, lng, system)
        kept = next(
            (
                g
                for g in old
                if g.name == name
                and abs(g.latitude - wgs[0]) <= sheets.SAME_POINT_DEG
                and abs(g.longitude - wgs[1]) <= sheets.SAME_POINT_DEG
            ),
            None,
        )
        if kept is not None:
            old.remove(kept)
            row.gates.append((kept.name, kept.latitude, kept.longitude, kept.point_system))
        else:
            row.gates.append((name, *wgs, system))
            row.gates_given.append((lat, lng))
        if len(name) > CompoundGate._meta.get_field("name").max_length:
            row.bad(
                "gates",
                gettext("A gate's name is at most 40 characters: “%(name)s”.") % {"name": name},
            )


def _check_names(plan: Plan, existing: _Existing) -> None:
    sheets.check_names(
        plan,
        existing.by_pair,
        key="id",
        same=gettext("Row %(row)d is the same compound already."),
        twice=gettext("Row %(row)d already has a compound “%(name)s” in %(community)s."),
        taken=gettext("%(community)s already has a compound called “%(name)s” (编号 %(key)s)."),
    )


def _check_points(plan: Plan) -> None:
    """New or moved points, the compounds' and their gates', must lie in the district."""
    judged = []
    for row in plan.rows:
        if row.community is None:
            continue
        before, after = row.existing, row.compound
        moved = row.given is not None and (
            before is None
            or (before.latitude, before.longitude, before.community_id)
            != (after.latitude, after.longitude, after.community_id)
        )
        if moved or row.gates_given:
            judged.append((row, moved))
    if not judged:
        return
    check = sheet_places.PointCheck(
        {r.community.subdistrict.district_id for r, _moved in judged}, DISTRICT_MARGIN_M
    )
    for row, moved in judged:
        district = row.community.subdistrict.district_id
        if moved and (problem := check.problem(district, *row.given)):
            row.bad(sheets.POINT, problem)
        system = sheets.read_system(row.cells["point_system"])
        for lat, lng in row.gates_given:
            if problem := check.problem(district, lat, lng, system):
                row.bad("gates", problem)
                break


def _decide(
    row: CompoundRow,
    plan: Plan,
    places: sheet_places.Communities,
    existing: _Existing,
    can_add: bool,
) -> None:
    if row.existing is None and not row.problems and not can_add:
        row.bad("name", gettext("You may change compounds but not add new ones."))
    if row.problems:
        row.action = BAD
        return
    if row.existing is None:
        row.action = NEW
        row.gates_changed = bool(row.gates)
        return
    label = places.label
    before = export_cells(row.existing, row.old_gates, label(row.existing.community_id))
    after_gates = [CompoundGate(name=n, latitude=a, longitude=o) for n, a, o, _s in row.gates]
    after = export_cells(row.compound, after_gates, label(row.compound.community_id))
    changed = sheets.compare(LAYOUT, plan, row, before, after)
    old = [(g.name, g.latitude, g.longitude, g.point_system) for g in row.old_gates]
    row.gates_changed = old != row.gates
    row.fields_changed = any(key != "gates" for key in changed)
    row.action = CHANGED if changed or row.gates_changed else UNCHANGED


@transaction.atomic
def apply(plan: Plan) -> dict[str, int]:
    """Write every new and changed row, or nothing: a few bulk statements whatever the number of
    rows. Gates are written as a difference, so the audit trail lists what changed."""
    if not plan.ok:
        raise ValueError("a plan with problems cannot be applied")
    new, changed = plan.of(NEW), plan.of(CHANGED)
    ResidentialCompound.objects.bulk_create([r.compound for r in new], batch_size=sheets.BATCH)
    sheets.update_rows([r.compound for r in changed if r.fields_changed], UPDATED)
    gone, come = [], []
    for row in new + changed:
        if not row.gates_changed:
            continue
        wanted = list(row.gates)
        for gate in row.old_gates:
            mine = (gate.name, gate.latitude, gate.longitude, gate.point_system)
            if mine in wanted:
                wanted.remove(mine)
            else:
                gone.append(gate.pk)
        come += [(row.compound.pk, *gate) for gate in wanted]
    CompoundGate.objects.filter(pk__in=gone).delete()
    sheets.insert_rows(CompoundGate, GATE_FIELDS, come)
    # Bulk statements send no signals; pages cached in between would keep the old compounds.
    transaction.on_commit(caching.bump)
    return plan.counts


def export_rows(user) -> list[list]:
    """Every compound of the user's communities as sheet rows, in three queries."""
    places = sheet_places.Communities(user)
    compounds = access.editable(ResidentialCompound.objects.all(), user)
    ordered = list(
        compounds.order_by("community__subdistrict__code", "community__name", "name", "pk")
    )
    gates: dict[int, list[CompoundGate]] = {c.pk: [] for c in ordered}
    for gate in CompoundGate.objects.filter(compound__in=compounds).order_by("name", "id"):
        gates[gate.compound_id].append(gate)
    return [export_cells(c, gates[c.pk], places.label(c.community_id)) for c in ordered]


def _guide_lists() -> list[sheets.GuideList]:
    with translation.override("zh-hans"):
        systems = [
            (sheets.system_word(value), "", "、".join(words[1:]))
            for value, words in sheets.SYSTEM_WORDS.items()
        ]
    return [(gettext("Coordinate systems, and the words each may be written as"), systems)]


def _kind():
    from communities.sheet_admin import SheetKind

    return SheetKind(
        layout=LAYOUT,
        plan=plan_import,
        apply=apply,
        export_rows=export_rows,
        guide_lists=_guide_lists,
        import_title=_("Import compound list"),
        intro=_(
            "Add and change your residential compounds and their gates from a spreadsheet. "
            "Download an export (or the blank template), change it in Excel, then upload it "
            "here: you will see every row as new, changed or unchanged before anything is saved."
        ),
        file_label=_("Compound list file"),
        changed_words=ngettext_lazy(
            "%(rows)s compound changes", "%(rows)s compounds change", "rows"
        ),
        new_words=ngettext_lazy("%(rows)s new compound", "%(rows)s new compounds", "rows"),
        unchanged_words=ngettext_lazy(
            "%(rows)s compound stays as it is", "%(rows)s compounds stay as they are", "rows"
        ),
        new_columns=(
            (_("Name"), lambda row: row.name),
            (_("Community"), lambda row: row.community.name),
            (_("Residents"), lambda row: row.compound.population),
            (_("Gates"), lambda row: len(row.gates)),
        ),
    )


KIND = _kind()
