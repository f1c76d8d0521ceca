"""The community list (社区清单): districts, subdistricts and communities as a spreadsheet, for the
city administrator bringing a new district in (``../shared/divisions`` gives its real codes).

One row a community, under its subdistrict and district by their statistical codes (区县代码 six
digits, 街道代码 nine). A district or subdistrict the portal does not know yet is made from the
row's names; one it knows must be named as it is (or the name left empty). A row with no community
name makes or confirms the subdistrict alone, so a district's subdistricts can come first.

The key of a community is 编号, its URL name; a row without one changes the subdistrict's
community of the same name, else it is new. Nothing is ever deleted. The shared machinery is
``portal.lib.sheets`` and ``communities.sheet_admin``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from communities import access, sheet_places
from communities.models import Community, District, Subdistrict
from portal import caching
from portal.lib import sheets
from portal.lib.sheets import BAD, CHANGED, NEW, UNCHANGED, Column, Plan, Sheet
from portal.lib.text import unix_newlines

SHEET_TITLE = "社区清单"

# As for compounds (communities.sheets): a district's communities draw its extent.
DISTRICT_MARGIN_M = 2000

COLUMNS = (
    Column(
        "province_code", "省代码", ("province code",), _("Two digits; for a new district."), "22"
    ),
    Column("province", "省", ("province",), _("For a new district."), "吉林省"),
    Column("city_code", "市代码", ("city code",), _("Four digits; for a new district."), "2201"),
    Column("city", "市", ("city",), _("For a new district."), "长春市"),
    Column(
        "district_code",
        "区县代码",
        ("district code",),
        _("The district's six-digit statistical code."),
        "220102",
        required=True,
    ),
    Column("district", "区县", ("district",), _("For a new district."), "南关区"),
    Column(
        "subdistrict_code",
        "街道代码",
        ("subdistrict code",),
        _("The subdistrict's nine-digit statistical code, starting with the district's."),
        "220102001",
        required=True,
    ),
    Column("subdistrict", "街道", ("subdistrict",), _("For a new subdistrict."), "南岭街道"),
    Column(
        "slug",
        "编号",
        ("key", "slug", "url name"),
        _(
            "The community's URL name, given by the portal. Leave it empty for a new community; "
            "keep it as exported to change or rename one."
        ),
    ),
    Column(
        "name",
        "社区",
        ("community", "name"),
        _("The community's name, unique within its subdistrict. Empty: the subdistrict alone."),
        "示例：南岭社区",
    ),
    Column("population", "人口", ("population",), _("A whole number."), 12000),
    Column("households", "户数", ("households",), _("A whole number."), 4300),
    Column(
        "latitude",
        "纬度",
        ("latitude", "lat"),
        _("The community office, in degrees, in the system the 坐标系 column names."),
        43.8531,
    ),
    Column("longitude", "经度", ("longitude", "lng", "lon"), _("Degrees."), 125.3345),
    Column(
        "point_system",
        "坐标系",
        ("coordinate system", "coordinates"),
        sheets.SYSTEM_GUIDE,
        "GCJ-02",
        optional=True,
    ),
    Column("office_address", "办公地址", ("office address",), "", "南岭大街1号", wide=True),
    Column("phone", "电话", ("phone",), _("Digits, spaces, + or -."), "0431-85550100"),
    Column("feature", "特色", ("feature",), _("A few words."), "一社区一策", optional=True),
    Column("description", "简介", ("description",), "", "", optional=True, wide=True),
)
LAYOUT = sheets.Layout(
    title=SHEET_TITLE,
    columns=COLUMNS,
    guide_heading=_("How to fill in the community list"),
    guide_intro=_(
        "The sheet “%(sheet)s” is imported: one community a row under its subdistrict and "
        "district, the column names in its first row. This sheet is not imported. Nothing "
        "missing from the sheet is removed; if any row has a problem, nothing is saved."
    ),
    marker="district_code",
)
FIELDS = (
    "name",
    "population",
    "households",
    "office_address",
    "phone",
    "feature",
    "description",
)
_DIGITS = {"province_code": 2, "city_code": 4, "district_code": 6, "subdistrict_code": 9}


@dataclass
class CommunityRow(sheets.RowPlan):
    district: District | None = None
    subdistrict: Subdistrict | None = None
    existing: Community | None = None
    community: Community | None = None
    given: tuple[float, float, str] | None = None
    new_district: bool = False
    new_subdistrict: bool = False


class _Known:
    def __init__(self, plan: Plan, lock: bool) -> None:
        codes = {r.cells["district_code"] for r in plan.rows}
        sub_codes = {r.cells["subdistrict_code"] for r in plan.rows}
        self.districts = {d.code: d for d in District.objects.filter(code__in=codes)}
        self.subdistricts = {s.code: s for s in Subdistrict.objects.filter(code__in=sub_codes)}
        slugs = {r.cells["slug"] for r in plan.rows} - {""}
        names = {r.name for r in plan.rows} - {""}
        found = Community.objects.filter(slug__in=slugs) | Community.objects.filter(
            name__in=names, subdistrict__code__in=sub_codes
        )
        if lock:
            found = found.select_for_update(of=("self",))
        communities = list(found)
        self.by_slug = {c.slug: c for c in communities}
        self.by_pair = {(c.subdistrict_id, c.name): c for c in communities}


def export_cells(community: Community | None, subdistrict: Subdistrict) -> list:
    district = subdistrict.district
    values = {
        "province_code": district.province_code,
        "province": district.province,
        "city_code": district.city_code,
        "city": district.city,
        "district_code": district.code,
        "district": district.name,
        "subdistrict_code": subdistrict.code,
        "subdistrict": subdistrict.name,
    }
    if community is not None:
        lat, lng, system = sheets.point_cells(
            community.latitude, community.longitude, community.point_system
        )
        values.update(
            slug=community.slug,
            latitude=lat,
            longitude=lng,
            point_system=system,
            **{name: getattr(community, name) for name in FIELDS},
        )
    return [values.get(c.key, "") for c in COLUMNS]


def plan_import(sheet: Sheet, filename: str, user, *, can_add: bool, lock: bool = False) -> Plan:
    plan = Plan(filename=filename, headers=sheet.headers, ignored_headers=sheet.ignored)
    plan.rows = [CommunityRow(number=number, cells=cells) for number, cells in sheet.rows]
    known = _Known(plan, lock)
    made_districts: dict[str, District] = {}
    made_subdistricts: dict[str, Subdistrict] = {}
    for row in plan.rows:
        _places(row, known, made_districts, made_subdistricts)
        if row.name:
            _community(row, known)
    _check_names(plan)
    _check_points(plan)
    for row in plan.rows:
        _decide(row, plan, can_add)
    return plan


def _code(row: CommunityRow, key: str) -> str:
    text = row.cells[key]
    if text and not re.fullmatch(rf"\d{{{_DIGITS[key]}}}", text):
        row.bad(key, gettext("Write the %(n)d-digit code.") % {"n": _DIGITS[key]})
    return text


def _named(row: CommunityRow, key: str, thing, label: str) -> None:
    """A known district or subdistrict must be named as it is, or not at all."""
    text = row.cells[key]
    if text and text != thing.name:
        row.bad(
            key,
            gettext("%(code)s is %(name)s: write that name, or leave the cell empty.")
            % {"code": label, "name": thing.name},
        )


def _places(row, known: _Known, made_districts, made_subdistricts) -> None:
    """The row's district and subdistrict: known, made by an earlier row, or new."""
    for key in ("province_code", "city_code"):
        _code(row, key)
    code = _code(row, "district_code")
    sub_code = _code(row, "subdistrict_code")
    if not code:
        row.bad("district_code", str(sheets.FILL_IN))
    if not sub_code:
        row.bad("subdistrict_code", str(sheets.FILL_IN))
    if row.problems:
        return
    if not sub_code.startswith(code):
        row.bad(
            "subdistrict_code",
            gettext("A subdistrict's code starts with its district's: %(code)s…") % {"code": code},
        )
        return
    row.district = known.districts.get(code) or made_districts.get(code)
    if row.district is None:
        cells = row.cells
        district = District(
            code=code,
            name=cells["district"],
            city=cells["city"],
            city_code=cells["city_code"],
            province=cells["province"],
            province_code=cells["province_code"],
        )
        missing = [
            k
            for k in ("district", "city", "city_code", "province", "province_code")
            if not cells[k]
        ]
        for key in missing:
            row.bad(key, gettext("Fill in this column for a new district."))
        if not missing and cells["city_code"][:2] != cells["province_code"]:
            row.bad("city_code", gettext("A city's code starts with its province's."))
        if not missing and code[:4] != cells["city_code"]:
            row.bad("district_code", gettext("A district's code starts with its city's."))
        if row.problems:
            return
        made_districts[code] = row.district = district
        row.new_district = True
    elif code in known.districts:
        _named(row, "district", row.district, code)
    row.subdistrict = known.subdistricts.get(sub_code) or made_subdistricts.get(sub_code)
    if row.subdistrict is None:
        if not row.cells["subdistrict"]:
            row.bad("subdistrict", gettext("Fill in this column for a new subdistrict."))
            return
        subdistrict = Subdistrict(
            district=row.district, code=sub_code, name=row.cells["subdistrict"]
        )
        made_subdistricts[sub_code] = row.subdistrict = subdistrict
        row.new_subdistrict = True
    else:
        if sub_code in known.subdistricts:
            _named(row, "subdistrict", row.subdistrict, sub_code)
        if row.subdistrict.district.code != code:
            row.bad(
                "subdistrict_code",
                gettext("%(code)s belongs to another district.") % {"code": sub_code},
            )


def _community(row: CommunityRow, known: _Known) -> None:
    slug = row.cells["slug"]
    if slug:
        row.existing = known.by_slug.get(slug)
        if row.existing is None:
            row.bad(
                "slug",
                gettext(
                    "No community has the 编号 “%(key)s”. Leave it empty for a new community; for "
                    "an existing one, copy it from an export."
                )
                % {"key": slug},
            )
    elif row.subdistrict is not None and row.subdistrict.pk:
        row.existing = known.by_pair.get((row.subdistrict.pk, row.name))
    if row.name.startswith(sheets.EXAMPLE_PREFIX):
        row.bad(
            "name",
            gettext(
                "This is the template's example row: delete it, or write your own community's name."
            ),
        )
    instance = copy.copy(row.existing) if row.existing is not None else Community()
    data = {name: row.cells[name] for name in FIELDS}
    for name in ("population", "households"):
        data[name] = data[name] or "0"
    told = row.told
    for name, messages in sheets.clean_into(instance, data, FIELDS).items():
        if name not in told:
            row.bad(name, " ".join(messages))
    unix_newlines(Community, instance)
    row.given = sheets.read_point(row, instance, row.existing)
    row.community = instance


def _check_names(plan: Plan) -> None:
    seen: dict[tuple[str, str], CommunityRow] = {}
    slugs: dict[int, CommunityRow] = {}
    for row in plan.rows:
        if row.community is None or row.subdistrict is None:
            continue
        if row.existing is not None:
            first = slugs.setdefault(row.existing.pk, row)
            if first is not row:
                row.bad(
                    "name",
                    gettext("Row %(row)d is the same community already.") % {"row": first.number},
                )
                continue
        first = seen.setdefault((row.subdistrict.code, row.name), row)
        if first is not row:
            row.bad(
                "name",
                gettext("Row %(row)d already has a community “%(name)s” in %(subdistrict)s.")
                % {"row": first.number, "name": row.name, "subdistrict": row.subdistrict.name},
            )


def _check_points(plan: Plan) -> None:
    rows = [r for r in plan.rows if r.given is not None and r.district is not None]
    check = sheet_places.PointCheck(
        {r.district.pk for r in rows if r.district.pk}, DISTRICT_MARGIN_M
    )
    for row in rows:
        before, after = row.existing, row.community
        if before is not None and before.point == after.point:
            continue
        if row.district.pk is None:  # a new district: no places to stand for it yet
            why = sheet_places.PointCheck.in_china(*row.given)
            problem = why and gettext("Not in %(district)s: %(why)s") % {
                "district": row.district.name,
                "why": why,
            }
        else:
            problem = check.problem(row.district.pk, *row.given)
        if problem:
            row.bad(sheets.POINT, problem)


def _decide(row: CommunityRow, plan: Plan, can_add: bool) -> None:
    if row.problems:
        row.action = BAD
    elif row.community is None:  # the subdistrict alone
        row.action = NEW if row.new_subdistrict else UNCHANGED
    elif row.existing is None:
        row.action = NEW
    else:
        before = export_cells(row.existing, row.existing.subdistrict)
        row.community.subdistrict = row.subdistrict
        after = export_cells(row.community, row.subdistrict)
        changed = sheets.compare(LAYOUT, plan, row, before, after)
        row.action = CHANGED if changed else UNCHANGED


@transaction.atomic
def apply(plan: Plan) -> dict[str, int]:
    """Districts, then subdistricts, then communities, each saved (a district brings a few
    hundred rows at most, and a community's save makes its URL name)."""
    if not plan.ok:
        raise ValueError("a plan with problems cannot be applied")
    for row in plan.rows:
        if row.new_district:
            row.district.save()
    for row in plan.rows:
        if row.new_subdistrict:
            row.subdistrict.save()
    for row in plan.of(NEW) + plan.of(CHANGED):
        if row.community is not None:
            row.community.subdistrict = row.subdistrict
            row.community.save()
    transaction.on_commit(caching.bump)
    return plan.counts


def export_rows(user) -> list[list]:
    communities = access.editable(
        Community.objects.select_related("subdistrict__district"), user
    ).order_by("subdistrict__code", "name")
    rows = [export_cells(c, c.subdistrict) for c in communities]
    if access.scope_for(user).everything:
        empty = Subdistrict.objects.filter(communities__isnull=True).select_related("district")
        rows += [export_cells(None, s) for s in empty.order_by("code")]
    return rows


def _kind():
    from communities.sheet_admin import SheetKind

    return SheetKind(
        layout=LAYOUT,
        plan=plan_import,
        apply=apply,
        export_rows=export_rows,
        guide_lists=None,
        import_title=_("Import community list"),
        intro=_(
            "Bring a district's subdistricts and communities in from a spreadsheet, by their "
            "statistical codes. Download an export (or the blank template), change it in Excel, "
            "then upload it here: you will see every row as new, changed or unchanged before "
            "anything is saved."
        ),
        file_label=_("Community list file"),
        changed_words=ngettext_lazy(
            "%(rows)s community changes", "%(rows)s communities change", "rows"
        ),
        new_words=ngettext_lazy("%(rows)s new row", "%(rows)s new rows", "rows"),
        unchanged_words=ngettext_lazy(
            "%(rows)s row stays as it is", "%(rows)s rows stay as they are", "rows"
        ),
        new_columns=(
            (_("District"), lambda row: row.district.name),
            (_("Subdistrict"), lambda row: row.subdistrict.name),
            (_("Community"), lambda row: row.name),
        ),
        # Where a community sits is the city's to decide.
        allowed=lambda user: access.scope_for(user).everything,
    )


KIND = _kind()
