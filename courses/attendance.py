"""Attendance per meeting (签到): staff mark who came to each meeting of a class they keep.

A class meets every week on its weekday from its first meeting to its last, except on statutory
public holidays (China's calendar, read through ``facilities.hours.calendar_day``, which treats the
years the library does not know yet as ordinary weeks: every week then counts as a meeting).

Views of CourseClassAdmin (courses/admin.py), like the desk: the class is fetched through the
admin's scoped queryset, so another community's class is a 404. Reading needs view permission on
the class and on attendance; marking needs change permission on the class and add and change
permission on attendance. A read-only member sees the register without the form, and a POST from
them is a 403. Each page is a fixed number of queries, whatever the size of the class.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from courses.models import Attendance, CourseClass, Enrolment
from facilities.hours import HOLIDAY, calendar_day, holiday_name
from portal.lib import cells
from residents.models import mask

READ = ["courses.view_attendance"]
MARK = ["courses.add_attendance", "courses.change_attendance"]


# ---- the class's meetings: plain dates in, plain dates out ----


@dataclass(frozen=True)
class Week:
    """One week of a class: the date it would meet, and the public holiday that cancels it."""

    date: date
    holiday: str = ""  # the holiday's name in the active language, or ""


def weeks(weekday: int, first: date, last: date) -> list[Week]:
    """Every week's date on ``weekday`` (0 = Monday) from ``first`` to ``last``, both included,
    with the statutory public holidays named."""
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    out = []
    while day <= last:
        kind, name = calendar_day(day)
        out.append(Week(day, holiday_name(name) if kind == HOLIDAY else ""))
        day += timedelta(days=7)
    return out


def meeting_dates(weekday: int, first: date, last: date) -> list[date]:
    """The dates a class meets: every week but the public holidays."""
    return [w.date for w in weeks(weekday, first, last) if not w.holiday]


def meetings_of(course_class: CourseClass) -> list[date]:
    return meeting_dates(course_class.weekday, course_class.first_date, course_class.last_date)


def today() -> date:
    """The date in Beijing (TIME_ZONE): a meeting can be marked from its own day on."""
    return timezone.localdate()


# ---- the register: one class's people and marks, in two queries ----


@dataclass
class Person:
    enrolment_id: int
    name: str
    masked_phone: str
    status: str  # "" while enrolled; the status's label for someone who left after being marked
    present: int = 0
    marked: int = 0

    @property
    def rate(self) -> int | None:
        """Present at this share of the meetings marked for them, in per cent."""
        return round(100 * self.present / self.marked) if self.marked else None


@dataclass
class Meeting:
    date: date
    holiday: str
    future: bool
    latest: bool = False
    present: int = 0
    recorded: int = 0  # people on the register when it was marked

    @property
    def marked(self) -> bool:
        return self.recorded > 0


@dataclass
class Register:
    meetings: list[Meeting]
    people: list[Person]
    marks: dict[tuple[int, date], bool] = field(default_factory=dict)

    @property
    def latest(self) -> Meeting | None:
        return next((m for m in self.meetings if m.latest), None)

    @property
    def marked_dates(self) -> list[date]:
        """Every date with marks, a meeting of the current schedule or not (nothing is lost when
        a class's dates change after marking)."""
        return sorted({d for _e, d in self.marks})


def _name(row: Enrolment) -> tuple[str, str]:
    resident = getattr(row.user, "resident", None)
    if resident is None:
        return row.user.get_full_name() or row.user.get_username(), ""
    return resident.name, mask(resident.phone)


def load_register(course_class: CourseClass, on: date) -> Register:
    """The class's weeks as of ``on``, the people enrolled (and anyone marked before they left),
    and every mark."""
    rows = (
        course_class.enrolments.filter(
            Q(status=Enrolment.Status.ENROLLED)
            | Q(Exists(Attendance.objects.filter(enrolment=OuterRef("pk"))))
        )
        .select_related("user__resident")
        .order_by("id")
    )
    people = []
    for row in rows:
        name, phone = _name(row)
        status = "" if row.status == Enrolment.Status.ENROLLED else row.get_status_display()
        people.append(Person(row.pk, name, phone, status))
    marks = {
        (e, d): p
        for e, d, p in Attendance.objects.filter(enrolment__course_class=course_class).values_list(
            "enrolment_id", "date", "present"
        )
    }
    by_person = {p.enrolment_id: p for p in people}
    recorded, present = Counter(), Counter()
    for (enrolment_id, day), was_there in marks.items():
        recorded[day] += 1
        present[day] += was_there
        person = by_person[enrolment_id]
        person.marked += 1
        person.present += was_there
    meetings = [
        Meeting(w.date, w.holiday, w.date > on, present=present[w.date], recorded=recorded[w.date])
        for w in weeks(course_class.weekday, course_class.first_date, course_class.last_date)
    ]
    held = [m for m in meetings if not m.holiday and not m.future]
    if held:
        held[-1].latest = True
    return Register(meetings, people, marks)


# ---- the pages ----


def _class(request: HttpRequest, object_id: str, model_admin) -> CourseClass:
    """The class, if the user keeps it (404 otherwise) and may read its register (403)."""
    course_class = None
    if object_id.isdigit():
        course_class = (
            model_admin.get_queryset(request)
            .select_related("course__term")
            .filter(pk=object_id)
            .first()
        )
    if course_class is None:
        raise Http404(_("There is no such record in your community."))
    if not (
        model_admin.has_view_or_change_permission(request, course_class)
        and request.user.has_perms(READ)
    ):
        raise PermissionDenied
    return course_class


def _may_mark(request: HttpRequest, course_class: CourseClass, model_admin) -> bool:
    return model_admin.has_change_permission(request, course_class) and request.user.has_perms(MARK)


def _context(request, model_admin, course_class, title: str) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.opts,
        "original": course_class,
        "course_class": course_class,
    }


def overview(request: HttpRequest, object_id: str, *, model_admin) -> HttpResponse:
    """The class's meetings (marked or not, how many came) and each person's attendance rate."""
    course_class = _class(request, object_id, model_admin)
    register = load_register(course_class, today())
    context = {
        **_context(request, model_admin, course_class, _("Attendance: %s") % course_class),
        "register": register,
        "latest": register.latest,
        "marked_count": sum(m.marked for m in register.meetings),
        "held_count": sum(not m.holiday and not m.future for m in register.meetings),
        "may_mark": _may_mark(request, course_class, model_admin),
    }
    return TemplateResponse(request, "admin/courses/attendance.html", context)


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise Http404(_("That is not a date of the form 2026-10-14.")) from None


def meeting(request: HttpRequest, object_id: str, day: str, *, model_admin) -> HttpResponse:
    """One meeting's register: everyone enrolled, with a tick each; saved in one transaction."""
    course_class = _class(request, object_id, model_admin)
    when = _day(day)
    if when not in meetings_of(course_class):
        raise Http404(_("The class does not meet on that day."))
    may_mark = _may_mark(request, course_class, model_admin)
    future = when > today()
    rows = list(
        course_class.enrolments.filter(status=Enrolment.Status.ENROLLED)
        .select_related("user__resident")
        .order_by("id")
    )
    error = ""
    if request.method == "POST":
        if not may_mark:
            raise PermissionDenied
        if future:
            error = _(
                "This meeting has not happened yet: attendance can be marked on its day or after."
            )
        else:
            saved = _save(request, rows, when)
            messages.success(
                request,
                _("Attendance of %(date)s saved: %(present)s of %(total)s present.")
                % {"date": when.isoformat(), "present": saved[0], "total": saved[1]},
            )
            return redirect(request.path)
    marks = dict(
        Attendance.objects.filter(enrolment__in=[r.pk for r in rows], date=when).values_list(
            "enrolment_id", "present"
        )
    )
    people = []
    for row in rows:
        name, phone = _name(row)
        people.append({"id": row.pk, "name": name, "phone": phone, "present": marks.get(row.pk)})
    context = {
        **_context(
            request,
            model_admin,
            course_class,
            _("Attendance on %(date)s: %(class)s")
            % {"date": when.isoformat(), "class": course_class},
        ),
        "day": when,
        "people": people,
        "marked": bool(marks),
        "future": future,
        "may_mark": may_mark and not future,
        "error": error,
    }
    return TemplateResponse(
        request, "admin/courses/attendance_meeting.html", context, status=400 if error else 200
    )


def _save(request: HttpRequest, rows: list[Enrolment], when: date) -> tuple[int, int]:
    """Write the marks of the people the form showed (someone enrolled since is left unmarked):
    new rows for people not marked yet, updates only where the mark changed, so the audit trail
    holds the corrections and nothing else. Returns (present, on the register)."""
    shown = set(request.POST.getlist("shown"))
    ticked = set(request.POST.getlist("present"))
    everyone = bool(request.POST.get("everyone"))
    wanted = {r.pk: everyone or str(r.pk) in ticked for r in rows if str(r.pk) in shown}
    now = timezone.now()
    with transaction.atomic():
        existing = {
            a.enrolment_id: a
            for a in Attendance.objects.select_for_update().filter(
                enrolment__in=list(wanted), date=when
            )
        }
        changed = []
        for enrolment_id, present in wanted.items():
            row = existing.get(enrolment_id)
            if row is not None and row.present != present:
                row.present, row.recorded_at, row.recorded_by = present, now, request.user
                changed.append(row)
        Attendance.objects.bulk_update(changed, ["present", "recorded_at", "recorded_by"])
        # A second person saving the same meeting at once: the later one's marks win.
        Attendance.objects.bulk_create(
            [
                Attendance(
                    enrolment_id=enrolment_id,
                    date=when,
                    present=present,
                    recorded_at=now,
                    recorded_by=request.user,
                )
                for enrolment_id, present in wanted.items()
                if enrolment_id not in existing
            ],
            update_conflicts=True,
            unique_fields=["enrolment", "date"],
            update_fields=["present", "recorded_at", "recorded_by"],
        )
    return sum(wanted.values()), len(wanted)


# ---- the roster workbook's second sheet ----


def add_sheet(book, course_class: CourseClass) -> None:
    """An "Attendance" sheet: one row per person, one column per marked meeting (✓ present,
    ✗ absent, empty when not on that meeting's register), then their rate."""
    register = load_register(course_class, today())
    dates = register.marked_dates
    sheet = book.create_sheet(_("Attendance")[:31])
    # Names are residents' own text: cells.xlsx keeps them text, never a formula.
    sheet.append([cells.xlsx(sheet, str(course_class), font=Font(bold=True, size=14))])
    headers = [
        pgettext("person", "Name"),
        *[d.isoformat() for d in dates],
        _("Present"),
        _("Marked"),
        _("Rate"),
    ]
    sheet.append(cells.xlsx_row(sheet, headers, font=Font(bold=True)))
    for person in register.people:
        marks = []
        for d in dates:
            mark = register.marks.get((person.enrolment_id, d))
            marks.append("" if mark is None else ("✓" if mark else "✗"))
        name = f"{person.name} ({person.status})" if person.status else person.name
        rate = f"{person.rate}%" if person.rate is not None else ""
        sheet.append(cells.xlsx_row(sheet, [name, *marks, person.present, person.marked, rate]))
    sheet.column_dimensions["A"].width = 16
    for column in range(2, len(dates) + 2):
        sheet.column_dimensions[get_column_letter(column)].width = 11
    sheet.freeze_panes = "B3"
