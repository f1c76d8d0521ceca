"""The resource list (资源清单): facilities as a spreadsheet, out and back in.

Staff keep their facilities in Excel. This module writes them out (XLSX or CSV, one row per
facility) and reads a sheet back into a *plan*: every row new, changed (column by column, before
and after) or unchanged, or bad, with its row number as the spreadsheet shows it, its column and
the reason. ``apply`` then writes the whole plan or nothing.

- The key is 编号, the facility's slug. A row without one changes its community's facility of
  the same name (unique together), else it is new. Facilities missing from the sheet are left
  alone: importing never deletes.
- Scope comes from ``communities.access`` only: a row can only name, and so change, a community
  the user keeps.
- Field rules are the model's: each row's values go through the form fields a ModelForm would
  use and the model's field checks (validators, choices, lengths, the opening-date rule). What
  needs the database (names unique within a community, points inside the district, free slugs)
  is checked for the whole sheet at once, so a sheet of any length costs the same dozen queries.
- Weekly hours are one readable cell (``format_hours`` / ``parse_hours``):
  ``周一至周五 07:00-19:00；周六、周日 08:00-12:00``. Importing a row replaces the facility's weekly
  hours; its exceptions, menus and photos are untouched.
- Headers and cell words (是/否, the status names, 照常) are the sheet's format and stay Chinese
  whatever the page language; English headers are accepted too.
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import time

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Func, Q, Value
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from communities import access, points, sheet_places
from communities.models import Community
from facilities import matching
from facilities.models import Category, Facility, OpeningHours
from portal import caching
from portal.lib import sheets
from portal.lib.sheets import (  # noqa: F401  (the names this list's callers use)
    BAD,
    CHANGED,
    CSV_TYPE,
    DATE_FORMATS,
    EXAMPLE_PREFIX,
    GUIDE_TITLE,
    MAX_BYTES,
    NEW,
    NO,
    POINT,
    UNCHANGED,
    XLSX_TYPE,
    YES,
    Column,
    Plan,
    Sheet,
    UnreadableFile,
    cell_text,
)
from portal.lib.slugs import pinyin_slug, unique_slug
from portal.lib.text import unix_newlines

MAX_ROWS = sheets.MAX_ROWS
BATCH = sheets.BATCH

SHEET_TITLE = "资源清单"


class HoursError(ValueError):
    """A cell of the hours column that cannot be read; the message says how to write it."""


# --- The hours column ------------------------------------------------------------------------
#
# Groups of days, each with its times, separated by "；":
#   周一至周五 07:00-19:00；周六、周日 08:00-12:00
#   每天 11:00-13:30,17:00-19:00        several ranges a day, separated by commas
#   每天 00:00-24:00                     round the clock (stored as 00:00–00:00, see hours.py)
#   周五、周六 22:00-02:00               past midnight: closes the next morning
# An empty cell is no weekly hours. Days left out are closed.

WeeklyRange = tuple[int, time, time]  # (weekday 0 = Monday, opens, closes), as OpeningHours

DAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
EVERY_DAY = "每天"
_DAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY_WORDS = {
    "每天": range(7),
    "每日": range(7),
    "天天": range(7),
    "工作日": range(5),
    "周末": (5, 6),
}
_DASHES = "-–—~～至到"
_ONE_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_DAY_RANGE = re.compile(rf"^{_ONE_DAY}(?:[{_DASHES}](?:周|星期|礼拜)?([一二三四五六日天七]))?$")
_TIME = r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?"
_TIME_RANGE = re.compile(rf"^{_TIME}[{_DASHES}]{_TIME}$")
_CLOSED_WORDS = ("休息", "闭馆", "关闭", "不开放")
_ALL_DAY_WORDS = ("24小时", "全天")
_GROUP_SPLIT = re.compile(r"[;；\n]+")
_LIST_SPLIT = re.compile(r"[、,，/\s]+")
_HOURS_EXAMPLE = "周一至周五 08:00-17:00；周六 09:00-12:00"


_clock = sheets.clock


def _days_text(days: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 4]`` → 周一至周五, ``[5, 6]`` → 周六、周日, all seven → 每天."""
    if len(days) == 7:
        return EVERY_DAY
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]}至{DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[d] for d in run)
    return "、".join(parts)


def format_hours(ranges: Iterable[WeeklyRange]) -> str:
    """The hours cell for these weekly ranges: days with the same times share one group."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in ranges:
        by_day.setdefault(weekday, []).append((opens, closes))
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for day in sorted(by_day):
        groups.setdefault(tuple(sorted(by_day[day])), []).append(day)
    return "；".join(
        _days_text(days)
        + " "
        + ",".join(f"{_clock(opens)}-{_clock(closes, closing=True)}" for opens, closes in times)
        for times, days in groups.items()
    )


def _unreadable(part: str) -> HoursError:
    return HoursError(
        gettext("Cannot read “%(text)s”: write the days, then the times, e.g. %(example)s.")
        % {"text": part, "example": _HOURS_EXAMPLE}
    )


def _parse_days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for token in _LIST_SPLIT.split(text):
        if not token:
            continue
        if token in _DAY_WORDS:
            days.extend(_DAY_WORDS[token])
            continue
        match = _DAY_RANGE.match(token)
        if match is None:
            raise _unreadable(part)
        first = _DAY_NUMBERS[match[1]]
        last = _DAY_NUMBERS[match[2]] if match[2] else first
        # 周五至周一 wraps over the weekend, as a restaurant's notice may say.
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return days


def _time_of_day(hours: str, minutes: str, seconds: str | None, *, closing: bool) -> time:
    h, m, s = int(hours), int(minutes), int(seconds or 0)
    if closing and (h, m, s) == (24, 0, 0):
        return time(0)
    if h > 23 or m > 59 or s > 59:
        text = f"{hours}:{minutes}" + (f":{seconds}" if seconds else "")
        raise HoursError(
            gettext(
                "“%(time)s” is not a time of day: use 00:00 to 23:59, and 24:00 only for "
                "closing at midnight."
            )
            % {"time": text}
        )
    return time(h, m, s)


def _parse_times(text: str, part: str) -> list[tuple[time, time]]:
    if text in _CLOSED_WORDS:
        return []
    if text in _ALL_DAY_WORDS:
        return [(time(0), time(0))]
    # "08:00 - 12:00" and "08:00-12:00" alike: spaces only separate ranges.
    text = re.sub(rf"\s*([{_DASHES}])\s*", r"\1", text)
    ranges = []
    for token in _LIST_SPLIT.split(text):
        if not token:
            continue
        match = _TIME_RANGE.match(token)
        if match is None:
            raise _unreadable(part)
        opens = _time_of_day(*match.groups()[:3], closing=False)
        closes = _time_of_day(*match.groups()[3:], closing=True)
        ranges.append((opens, closes))
    return ranges


def parse_hours(text: str) -> list[WeeklyRange]:
    """The weekly ranges an hours cell describes, sorted; raises HoursError with a message staff
    can act on. A range closing at or before it opens runs past midnight; 00:00-24:00 is round
    the clock (stored as equal times, as facilities.hours reads them)."""
    result: list[WeeklyRange] = []
    given: set[int] = set()
    for part in _GROUP_SPLIT.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        start = re.search(r"\d|" + "|".join(_CLOSED_WORDS + _ALL_DAY_WORDS[1:]), part)
        if start is None:
            raise HoursError(
                gettext("“%(text)s” gives no times: add them, e.g. %(example)s.")
                % {"text": part, "example": "周六 09:00-12:00"}
            )
        days_text, times_text = part[: start.start()].strip(), part[start.start() :].strip()
        if not days_text:
            raise HoursError(
                gettext("“%(text)s” gives no days: start with them, e.g. 每天 or 周一至周五.")
                % {"text": part}
            )
        days = _parse_days(days_text, part)
        times = _parse_times(times_text, part)
        for day in days:
            if day in given:
                raise HoursError(
                    gettext(
                        "%(day)s is given twice: write each day once, with all its times, "
                        "e.g. %(example)s."
                    )
                    % {"day": DAY_NAMES[day], "example": "周六 09:00-12:00,14:00-17:00"}
                )
            given.add(day)
            result.extend((day, opens, closes) for opens, closes in times)
    return sorted(result)


# --- Columns -----------------------------------------------------------------------------


HOLIDAY_WORDS = {
    Facility.HolidayRule.USUAL: "照常",
    Facility.HolidayRule.CLOSED: "休息",
    Facility.HolidayRule.SUNDAY: "按周日",
}
ACCESSIBILITY = ["step_free_entrance", "lift", "accessible_toilet", "seating", "hearing_loop"]
_YES_OR_NO = sheets.YES_OR_NO
_DATE_GUIDE = sheets.DATE_GUIDE

COLUMNS = [
    Column(
        "slug",
        "编号",
        ("key", "id", "slug", "url name"),
        _(
            "The facility's key, given by the portal. Leave it empty for a new facility; keep it "
            "as exported to change one."
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
        "幸福社区",
    ),
    Column(
        "name",
        "名称",
        ("name",),
        _("Unique within the community."),
        "示例：幸福社区助餐点",
        required=True,
    ),
    Column(
        "category",
        "类别",
        ("category", "main category"),
        _("One of the category names listed below, or its code."),
        "社区食堂",
        required=True,
    ),
    Column(
        "other_categories",
        "其他类别",
        ("other categories", "further categories"),
        _("Further services in the same place, separated by 、 or commas."),
        "养老服务站",
    ),
    Column("address", "地址", ("address",), _("As residents look for it."), "幸福路12号"),
    Column(
        "latitude",
        "纬度",
        ("latitude", "lat"),
        _(
            "Degrees, in the system the 坐标系 column names; the point must lie within the "
            "community's district."
        ),
        43.8812,
        required=True,
    ),
    Column(
        "longitude",
        "经度",
        ("longitude", "lng", "lon"),
        _("Degrees, e.g. 125.27 in 长春."),
        125.2734,
        required=True,
    ),
    Column(
        "point_system",
        "坐标系",
        ("coordinate system", "coordinates"),
        sheets.SYSTEM_GUIDE,
        "GCJ-02",
        optional=True,
    ),
    Column("phone", "电话", ("phone",), _("Digits, spaces, + or -."), "0431-85550123"),
    Column(
        "status",
        "状态",
        ("status",),
        _("One of the statuses listed below."),
        "正常开放",
        required=True,
    ),
    Column("planned_opening", "计划开放日期", ("planned opening",), _DATE_GUIDE),
    Column(
        "opened_on",
        "开放日期",
        ("opened on", "opening date"),
        _("A date such as 2026-05-01; only once built (open, paused or closed)."),
        "2024-09-01",
    ),
    Column(
        "hours",
        "营业时间",
        ("hours", "opening hours"),
        _(
            "Days, then times: 周一至周五 08:00-17:00；周六、周日 09:00-12:00. Several ranges a "
            "day: 11:00-13:30,17:00-19:00. Past midnight: 22:00-02:00. Round the clock: 每天 "
            "00:00-24:00. Days left out are closed; an empty cell means no regular hours."
        ),
        "周一至周五 11:00-13:30,17:00-19:00；周六 11:00-13:30",
    ),
    Column(
        "holiday_rule",
        "节假日",
        ("public holidays", "holidays", "holiday rule"),
        _(
            "照常: keeps its weekly hours; 休息: closed on public holidays (Monday's hours on "
            "swapped working days); 按周日: Sunday's hours. Empty means 照常."
        ),
        "休息",
    ),
    Column(
        "floor_area",
        "面积(m²)",
        ("floor area", "floor area (m²)", "area", "面积", "面积(m2)", "面积(平方米)"),
        _("Whole square metres."),
        120,
    ),
    Column("seats", "座位数", ("seats", "seats or places"), _("A whole number."), 40),
    Column("operator", "运营方", ("operator",), _("Who runs it."), "幸福社区居委会"),
    Column(
        "step_free_entrance",
        "无障碍入口",
        ("step-free entrance",),
        _YES_OR_NO,
        YES,
    ),
    Column("lift", "电梯", ("lift", "elevator"), _YES_OR_NO, NO),
    Column("accessible_toilet", "无障碍卫生间", ("accessible toilet",), _YES_OR_NO, YES),
    Column("seating", "候座", ("seating", "seating while waiting"), _YES_OR_NO, YES),
    Column("hearing_loop", "助听环路", ("hearing loop",), _YES_OR_NO, NO),
    Column(
        "price_notes",
        "价格说明",
        ("prices", "price notes"),
        _("What things cost, and any senior prices."),
        "午餐15元，70岁以上10元",
    ),
    Column(
        "description",
        "简介",
        ("description",),
        _("A few sentences for residents."),
        "为社区老人提供午餐和晚餐，可送餐上门。",
    ),
]
LAYOUT = sheets.Layout(
    title=SHEET_TITLE,
    columns=tuple(COLUMNS),
    guide_heading=_("How to fill in the resource list"),
    guide_intro=_(
        "The sheet “%(sheet)s” is imported: one facility a row, the column names in its "
        "first row. This sheet is not imported. A facility missing from the sheet is left "
        "as it is; if any row has a problem, nothing is saved."
    ),
)
HEADERS = LAYOUT.headers
FORM_FIELDS = [
    "name",
    "address",
    "latitude",
    "longitude",
    "phone",
    "status",
    "planned_opening",
    "opened_on",
    "holiday_rule",
    "floor_area",
    "seats",
    "operator",
    *ACCESSIBILITY,
    "price_notes",
    "description",
]
UPDATED_FIELDS = [
    "community",
    "category",
    *FORM_FIELDS,
    "point_system",
    "updated_at",
    "search_tokens",
]


_FILL_IN = sheets.FILL_IN
_iso = sheets.iso


def read_sheet(content: bytes, filename: str) -> Sheet:
    """The rows of the sheet named 资源清单 (else the first) or of a CSV file."""
    return sheets.read_sheet(content, filename, LAYOUT)


# --- Checking one row's own fields ---------------------------------------------------------

_OPENED_RULE = next(
    c for c in Facility._meta.constraints if c.name == "facilities_facility_opened_only_when_built"
)
# Fields a row does not set: left out of the model's checks, as a ModelForm leaves out what it
# lacks (the foreign keys' checks would each cost a query; the planner looks them up itself).
_NOT_IN_ROW = [f.name for f in Facility._meta.concrete_fields if f.name not in FORM_FIELDS]


@functools.cache
def _row_fields() -> dict[str, forms.Field]:
    """The form fields a ModelForm of FORM_FIELDS would have, built once: a form per row would
    deep-copy all of them, which was a third of a 5,000-row preview."""
    fields = forms.fields_for_model(Facility, fields=FORM_FIELDS)
    for name in ("planned_opening", "opened_on"):
        fields[name] = forms.DateField(required=False, input_formats=DATE_FORMATS)
    for form_field in fields.values():
        form_field.error_messages["required"] = _FILL_IN
    return fields


def _clean(instance: Facility, data: dict[str, object]) -> dict[str, list[str]]:
    """Set the row's values on ``instance`` as a ModelForm would, and return the errors by
    field: each value through its form field, then the model fields' own checks (the phone
    pattern, choices, lengths), then the opening-date constraint, judged here because Django
    checks a constraint with a query. Of full_clean, the model's clean() is left out: all it
    does is make an empty slug, a query per row; ``apply`` makes them for all new rows at once."""
    errors: dict[str, list[str]] = {}
    for name, form_field in _row_fields().items():
        try:
            setattr(instance, name, form_field.clean(data[name]))
        except ValidationError as error:
            errors[name] = error.messages
    try:
        instance.clean_fields(exclude=[*_NOT_IN_ROW, *errors])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    if instance.opened_on and not instance.is_built:
        errors.setdefault("opened_on", [str(_OPENED_RULE.violation_error_message)])
    return errors


# --- What the import will do ----------------------------------------------------------------


@dataclass
class RowPlan(sheets.RowPlan):
    existing: Facility | None = None  # as it is now
    facility: Facility | None = None  # as it will be saved
    community: Community | None = None
    category: Category | None = None
    hours: list[WeeklyRange] = field(default_factory=list)
    other_ids: set[int] = field(default_factory=set)
    old_hours: list[tuple[int, WeeklyRange]] = field(default_factory=list)  # (pk, range)
    others_changed: bool = False
    fields_changed: bool = False  # a column of the facility's own row, not hours or categories
    given: tuple[float, float, str] | None = None  # the point as the sheet gives it


class _Places:
    """The categories and the user's communities, loaded once, and the sheet's words for them,
    for the statuses and for the holiday rules."""

    def __init__(self, user) -> None:
        self.categories = {c.pk: c for c in Category.objects.all()}
        self._category_order = {pk: i for i, pk in enumerate(self.categories)}
        self._category_by_text = {
            text: c
            for c in self.categories.values()
            for text in (c.name_zh, c.code, c.name_en.lower())
        }
        self._terms = [
            matching.terms_for(c.code, c.name_zh, c.name_en, tuple(c.word_list))
            for c in self.categories.values()
        ]
        self.places = sheet_places.Communities(user)
        self.communities = self.places.by_pk
        with translation.override("zh-hans"):
            self.status_words = {value: str(label) for value, label in Facility.Status.choices}
            holiday_labels = {str(label): value for value, label in Facility.HolidayRule.choices}
        with translation.override("en"):
            english = {str(label).lower(): value for value, label in Facility.Status.choices}
        self._status_by_text = {
            **english,
            **{v: v for v in Facility.Status.values},
            **{w: v for v, w in self.status_words.items()},
        }
        self._holiday_by_text = {
            **holiday_labels,
            **{v: v for v in Facility.HolidayRule.values},
            **{w: v for v, w in HOLIDAY_WORDS.items()},
        }

    def category(self, text: str) -> Category | None:
        return self._category_by_text.get(text) or self._category_by_text.get(text.lower())

    def similar_categories(self, text: str) -> list[str]:
        """Names of the categories ``text`` might mean, as the resident search understands it:
        社区书屋 → 图书室."""
        codes = set(matching.matching_codes(text, self._terms))
        return [c.name_zh for c in self.categories.values() if c.code in codes][:3]

    def status(self, text: str) -> str | None:
        return self._status_by_text.get(text) or self._status_by_text.get(text.lower())

    def holiday_rule(self, text: str) -> str | None:
        return self._holiday_by_text.get(text or HOLIDAY_WORDS[Facility.HolidayRule.USUAL])

    def community_label(self, community_id: int) -> str:
        return self.places.label(community_id)

    def row(self, facility: Facility, hours: Iterable[WeeklyRange], other_ids: Iterable[int]):
        """The facility as the sheet's cells in column order, typed for XLSX: numbers stay
        numbers. The export writes these, and the preview compares them."""
        others = sorted(other_ids, key=self._category_order.__getitem__)
        values = {
            "slug": facility.slug,
            "community": self.community_label(facility.community_id),
            "name": facility.name,
            "category": self.categories[facility.category_id].name_zh,
            "other_categories": "、".join(self.categories[pk].name_zh for pk in others),
            "address": facility.address,
            "phone": facility.phone,
            "status": self.status_words[facility.status],
            "planned_opening": _iso(facility.planned_opening),
            "opened_on": _iso(facility.opened_on),
            "hours": format_hours(hours),
            "holiday_rule": HOLIDAY_WORDS[facility.holiday_rule],
            "floor_area": facility.floor_area,
            "seats": facility.seats,
            "operator": facility.operator,
            "price_notes": facility.price_notes,
            "description": facility.description,
        }
        values["latitude"], values["longitude"], values["point_system"] = sheets.point_cells(
            facility.latitude, facility.longitude, facility.point_system
        )
        for name in ACCESSIBILITY:
            values[name] = YES if getattr(facility, name) else NO
        return [values[c.key] for c in COLUMNS]


@dataclass
class _Existing:
    """The user's facilities the sheet may name, by slug and by (community, name), with their
    weekly hours and further categories; and what the sheet names outside the user's scope."""

    by_slug: dict[str, Facility]
    by_pair: dict[tuple[int, str], Facility]
    hours: dict[int, list[tuple[int, WeeklyRange]]]  # facility → [(OpeningHours pk, range)]
    others: dict[int, set[int]]
    outside: dict[str, str]  # slug of a facility elsewhere → its community's name


def _load_existing(plan: Plan, places: _Places, user, lock: bool) -> _Existing:
    slugs = {r.cells["slug"] for r in plan.rows} - {""}
    names = {r.name for r in plan.rows} - {""}
    facilities = access.editable(
        Facility.objects.filter(Q(slug__in=slugs) | Q(name__in=names)), user
    )
    if lock:
        facilities = facilities.select_for_update(of=("self",))
    found = list(facilities)
    hours: dict[int, list[tuple[int, WeeklyRange]]] = {f.pk: [] for f in found}
    for pk, facility_id, *weekly in OpeningHours.objects.filter(facility__in=found).values_list(
        "pk", "facility_id", "weekday", "opens", "closes"
    ):
        hours[facility_id].append((pk, tuple(weekly)))
    others: dict[int, set[int]] = {f.pk: set() for f in found}
    through = Facility.other_categories.through.objects.filter(facility__in=found)
    for facility_id, category_id in through.values_list("facility_id", "category_id"):
        others[facility_id].add(category_id)
    by_slug = {f.slug: f for f in found}
    # To tell "not yours" from "no such thing": facility pages and community names are public,
    # and nothing else of them is read.
    outside = {}
    if slugs - by_slug.keys():
        elsewhere = Facility.objects.filter(slug__in=slugs - by_slug.keys())
        outside = dict(elsewhere.values_list("slug", "community__name"))
    places.places.learn_elsewhere(r.cells["community"] for r in plan.rows)
    return _Existing(
        by_slug=by_slug,
        by_pair={(f.community_id, f.name): f for f in found},
        hours=hours,
        others=others,
        outside=outside,
    )


def plan_import(sheet: Sheet, filename: str, user, *, can_add: bool, lock: bool = False) -> Plan:
    """What importing the sheet would do, row by row, writing nothing. The queries are the same
    dozen for ten rows or ten thousand. ``lock`` holds the facilities it would change until the
    caller's transaction ends, for ``apply``."""
    plan = Plan(filename=filename, headers=sheet.headers, ignored_headers=sheet.ignored)
    plan.rows = [RowPlan(number=number, cells=cells) for number, cells in sheet.rows]
    places = _Places(user)
    existing = _load_existing(plan, places, user, lock)
    for row in plan.rows:
        _match(row, places, existing)
        _read_categories_and_hours(row, places)
    for row in plan.rows:
        _validate(row, places)
    _check_names(plan, existing.by_pair)
    _check_points(plan)
    for row in plan.rows:
        _decide(row, plan, places, existing, can_add)
    return plan


_not_yours = sheet_places.not_yours


def _match(row: RowPlan, places: _Places, existing: _Existing) -> None:
    """The row's community, and the facility it changes: by 编号, else by community and name."""
    slug, label = row.cells["slug"], row.cells["community"]
    if slug:
        row.existing = existing.by_slug.get(slug)
        if slug in existing.outside:
            row.bad("slug", _not_yours(existing.outside[slug]))
        elif row.existing is None:
            row.bad(
                "slug",
                gettext(
                    "No facility has the 编号 “%(key)s”. Leave it empty for a new facility; for "
                    "an existing one, copy it from an export."
                )
                % {"key": slug},
            )
    if label or row.existing is None:
        row.community = places.places.read(row)  # the only one, for staff of one community
    else:
        row.community = places.communities[row.existing.community_id]
    if row.existing is None and not slug and row.community is not None:
        row.existing = existing.by_pair.get((row.community.pk, row.name))


def _unknown_category(text: str, places: _Places) -> str:
    similar = places.similar_categories(text)
    if similar:
        return gettext(
            "There is no category “%(name)s”: did you mean %(similar)s? The guide sheet (说明) of "
            "the blank template lists them all."
        ) % {"name": text, "similar": "、".join(similar)}
    return gettext(
        "There is no category “%(name)s”: use a name from the list on the guide sheet (说明) of "
        "the blank template, e.g. 社区食堂."
    ) % {"name": text}


def _read_categories_and_hours(row: RowPlan, places: _Places) -> None:
    text = row.cells["category"]
    row.category = places.category(text)
    if not text:
        row.bad("category", str(_FILL_IN))
    elif row.category is None:
        row.bad("category", _unknown_category(text, places))
    for word in _LIST_SPLIT.split(row.cells["other_categories"]):
        category = places.category(word) if word else None
        if word and category is None:
            row.bad("other_categories", _unknown_category(word, places))
        elif category is not None:
            row.other_ids.add(category.pk)
    try:
        row.hours = parse_hours(row.cells["hours"])
    except HoursError as error:
        row.bad("hours", str(error))


def _new_slugs(names: list[str]) -> list[str]:
    """Free slugs for new facilities, made as Facility.save() would, with one query for all."""
    bases = [pinyin_slug(name) for name in names]
    if not bases:
        return []
    # Slugs are unique across the city, so every facility counts here, in the user's scope or
    # not; only slugs are read.
    stem = Func(F("slug"), Value(r"-\d+$"), Value(""), function="regexp_replace")
    taken = set(
        Facility.objects.annotate(stem=stem)
        .filter(stem__in=set(bases))
        .values_list("slug", flat=True)
    )
    slugs = []
    for base in bases:
        slug = unique_slug(base, taken.__contains__)
        taken.add(slug)
        slugs.append(slug)
    return slugs


_yes_no = sheets.yes_no


def _validate(row: RowPlan, places: _Places) -> None:
    """The row's own fields, checked by the model's rules; ``row.facility`` becomes the facility
    as it would be saved."""
    cells = row.cells
    if row.name.startswith(EXAMPLE_PREFIX):
        row.bad(
            "name",
            gettext(
                "This is the template's example row: delete it, or write your own facility's name."
            ),
        )
    data: dict[str, object] = {name: cells[name] for name in FORM_FIELDS}
    data["status"] = places.status(cells["status"])
    if cells["status"] and data["status"] is None:
        row.bad(
            "status",
            gettext("Unknown status “%(text)s”: write one of %(choices)s.")
            % {"text": cells["status"], "choices": "、".join(places.status_words.values())},
        )
    data["holiday_rule"] = places.holiday_rule(cells["holiday_rule"])
    if data["holiday_rule"] is None:
        row.bad(
            "holiday_rule",
            gettext("Unknown holiday rule “%(text)s”: write one of %(choices)s.")
            % {"text": cells["holiday_rule"], "choices": "、".join(HOLIDAY_WORDS.values())},
        )
    for name in ACCESSIBILITY:
        data[name] = _yes_no(cells[name])
        if data[name] is None:
            row.bad(name, gettext("Write 是 or 否."))
    # A new facility, or one a 编号 named in vain: its fields are checked all the same.
    instance = copy.copy(row.existing) if row.existing is not None else Facility()
    if row.community is not None:
        instance.community = row.community
    if row.category is not None:
        instance.category = row.category
    told = {key for key, _why in row.problems}
    errors = _clean(instance, data)
    for name, messages in errors.items():
        if name not in told:  # our own message about the cell says it better
            row.bad(name if name in FORM_FIELDS else "name", " ".join(messages))
    system = sheets.read_system(cells["point_system"])
    if system is None:
        row.bad("point_system", sheets.unknown_system(cells["point_system"]))
    elif not errors.keys() & {"latitude", "longitude"}:
        row.given = (instance.latitude, instance.longitude, system)
        sheets.settle_point(instance, *row.given, before=row.existing)
    # Line breaks as every save stores them; bulk writes send no pre_save, so it is called here,
    # before the comparison, which would otherwise see "\r\n" against "\n" as a change.
    unix_newlines(Facility, instance)
    row.facility = instance


def _check_names(plan: Plan, by_pair: dict[tuple[int, str], Facility]) -> None:
    sheets.check_names(
        plan,
        by_pair,
        key="slug",
        same=gettext("Row %(row)d is the same facility already."),
        twice=gettext("Row %(row)d already has a facility “%(name)s” in %(community)s."),
        taken=gettext("%(community)s already has a facility called “%(name)s” (编号 %(key)s)."),
        holder_key=lambda holder: holder.slug,
    )


def _check_points(plan: Plan) -> None:
    sheet_places.check_moved_points(plan.rows, lambda row: row.facility, points.DISTRICT_MARGIN_M)


_NOT_FIELDS = {"hours", "other_categories"}  # columns kept in other tables


def _decide(row: RowPlan, plan: Plan, places: _Places, existing: _Existing, can_add: bool) -> None:
    """New, changed (with each column's before and after) or unchanged; bad if any problem."""
    if row.existing is None and not row.problems and not can_add:
        row.bad("name", gettext("You may change facilities but not add new ones."))
    if row.problems:
        row.action = BAD
    elif row.existing is None:
        row.action = NEW
        row.others_changed = bool(row.other_ids)
    else:
        pk = row.existing.pk
        row.old_hours = existing.hours[pk]
        before = places.row(row.existing, [r for _pk, r in row.old_hours], existing.others[pk])
        after = places.row(row.facility, row.hours, row.other_ids)
        changed = sheets.compare(LAYOUT, plan, row, before, after)
        row.others_changed = existing.others[pk] != row.other_ids
        row.fields_changed = any(key not in _NOT_FIELDS for key in changed)
        row.action = CHANGED if changed else UNCHANGED


# --- Writing it ------------------------------------------------------------------------------


def _insert_hours(rows: list[tuple[int, int, time, time]]) -> None:
    """(facility id, weekday, opens, closes) rows as INSERTs of four arrays, a thousand rows
    each: a new sheet of 5,000 facilities brings some 36,000 ranges, which bulk_create took 3.0 s
    to write here, this 1.4 s. Django's cursor attaches the audit trail's context."""
    table = connection.ops.quote_name(OpeningHours._meta.db_table)
    sql = (
        f"INSERT INTO {table} (facility_id, weekday, opens, closes) "
        "SELECT * FROM unnest(%s::bigint[], %s::smallint[], %s::time[], %s::time[])"
    )
    with connection.cursor() as cursor:
        for batch in itertools.batched(rows, BATCH, strict=False):
            cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])


@transaction.atomic
def apply(plan: Plan) -> dict[str, int]:
    """Write every new and changed row, or nothing: one transaction, a few bulk statements
    whatever the number of rows. Weekly hours are written as a difference (only the ranges that
    went or came), so the audit trail lists what changed, not every range deleted and added."""
    if not plan.ok:
        raise ValueError("a plan with problems cannot be applied")
    new, changed = plan.of(NEW), plan.of(CHANGED)
    for row, slug in zip(new, _new_slugs([r.name for r in new]), strict=True):
        row.facility.slug = slug
    for row in new + changed:
        row.facility.fill_search()
    Facility.objects.bulk_create([r.facility for r in new], batch_size=BATCH)
    now = timezone.now()
    for row in changed:
        row.facility.updated_at = now
    sheets.update_rows([r.facility for r in changed if r.fields_changed], UPDATED_FIELDS)
    only_parts = [r.facility.pk for r in changed if not r.fields_changed]
    Facility.objects.filter(pk__in=only_parts).update(updated_at=now)

    gone, come = [], []
    for row in new + changed:
        wanted = Counter(row.hours)
        for pk, weekly in row.old_hours:
            if wanted[weekly]:
                wanted[weekly] -= 1
            else:
                gone.append(pk)
        come += [(row.facility.pk, *weekly) for weekly in wanted.elements()]
    # _raw_delete is a plain DELETE: QuerySet.delete() would load each row to send post_delete,
    # whose receiver only moves the cache version on, as bump() below does once.
    OpeningHours.objects.filter(pk__in=gone)._raw_delete(OpeningHours.objects.db)
    _insert_hours(come)

    through = Facility.other_categories.through
    rewritten = [r for r in new + changed if r.others_changed]
    through.objects.filter(facility_id__in=[r.facility.pk for r in rewritten]).delete()
    through.objects.bulk_create(
        [
            through(facility_id=r.facility.pk, category_id=pk)
            for r in rewritten
            for pk in r.other_ids
        ],
        batch_size=BATCH,
    )
    # Bulk statements send no signals. After the commit: a page cached in between under the new
    # version would otherwise keep showing what was there before.
    transaction.on_commit(caching.bump)
    return plan.counts


# --- Export and the blank template ----------------------------------------------------------


def export_rows(user) -> list[list]:
    """Every facility of the user's communities as sheet rows, in a fixed number of queries."""
    places = _Places(user)
    facilities = access.editable(Facility.objects.all(), user)
    ordered = list(facilities.order_by("community__subdistrict__code", "community__name", "name"))
    hours: dict[int, list[WeeklyRange]] = {f.pk: [] for f in ordered}
    for facility_id, *weekly in OpeningHours.objects.filter(facility__in=facilities).values_list(
        "facility_id", "weekday", "opens", "closes"
    ):
        hours[facility_id].append(tuple(weekly))
    others: dict[int, set[int]] = {f.pk: set() for f in ordered}
    through = Facility.other_categories.through.objects.filter(facility__in=facilities)
    for facility_id, category_id in through.values_list("facility_id", "category_id"):
        others[facility_id].add(category_id)
    return [places.row(f, hours[f.pk], others[f.pk]) for f in ordered]


def to_csv(rows: Iterable[Sequence]) -> bytes:
    return sheets.to_csv(LAYOUT, rows)


def to_xlsx(rows: Sequence[Sequence]) -> bytes:
    """The 资源清单 sheet (headers, then one facility a row) and the guide sheet 说明."""
    return sheets.to_xlsx(LAYOUT, rows, _guide_lists)


def _guide_lists() -> list[sheets.GuideList]:
    """The words the columns accept: categories (with their codes) and statuses."""
    with translation.override("zh-hans"):
        statuses = [(str(label),) for _value, label in Facility.Status.choices]
    return [
        (gettext("Categories"), [(c.name_zh, "", c.code) for c in Category.objects.all()]),
        (gettext("Statuses"), statuses),
    ]


def template_xlsx() -> bytes:
    """The blank template: the headers only, and the guide sheet with its example row."""
    return to_xlsx([])


def _kind():
    from communities.sheet_admin import SheetKind

    return SheetKind(
        layout=LAYOUT,
        plan=plan_import,
        apply=apply,
        export_rows=export_rows,
        guide_lists=_guide_lists,
        import_title=_("Import resource list"),
        intro=_(
            "Add and change your facilities from a spreadsheet. Download an export (or the blank "
            "template), change it in Excel, then upload it here: you will see every row as new, "
            "changed or unchanged before anything is saved."
        ),
        file_label=_("Resource list file"),
        changed_words=ngettext_lazy(
            "%(rows)s facility changes", "%(rows)s facilities change", "rows"
        ),
        new_words=ngettext_lazy("%(rows)s new facility", "%(rows)s new facilities", "rows"),
        unchanged_words=ngettext_lazy(
            "%(rows)s facility stays as it is", "%(rows)s facilities stay as they are", "rows"
        ),
        new_columns=(
            (_("Name"), lambda row: row.name),
            (_("Community"), lambda row: row.community.name),
            (_("Category"), lambda row: row.category.name),
            (_("Opening hours"), lambda row: row.cells["hours"]),
        ),
    )


KIND = _kind()
