"""The front desk (代办): staff enrol a resident in one of their classes, registering them first
when they have no account, and export a class's roster, the one place full mobile numbers show.

Views of CourseClassAdmin (courses/admin.py), reached only for classes the staff member keeps:
the class is fetched through the admin's scoped queryset, so another community's class is a 404.
"""

import io

import pghistory
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from communities import access
from communities.models import ResidentialCompound
from courses import attendance, enrolment
from courses.models import CourseClass, Enrolment
from portal.lib import cells
from residents import audit as account_trail
from residents.models import Resident, mobile_validator, one_time_password

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DeskForm(forms.Form):
    """A resident by mobile number; name and birth year only when they have no account yet."""

    phone = forms.CharField(
        label=gettext_lazy("mobile number"), max_length=11, validators=[mobile_validator]
    )
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50, required=False)
    birth_year = forms.IntegerField(
        label=gettext_lazy("birth year"), min_value=1900, max_value=2100, required=False
    )
    compound = forms.ModelChoiceField(
        label=gettext_lazy("residential compound"),
        queryset=ResidentialCompound.objects.none(),
        required=False,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = access.editable(ResidentialCompound.objects.all(), user)

    def clean(self):
        data = super().clean()
        phone = data.get("phone")
        if phone and not Resident.objects.filter(phone=phone).exists():
            if not data.get("name"):
                self.add_error("name", _("A new resident needs a name."))
            if not data.get("birth_year"):
                self.add_error("birth_year", _("A new resident needs a birth year."))
        return data


def _class(request: HttpRequest, object_id: str, model_admin) -> CourseClass:
    course_class = (
        model_admin.get_queryset(request)
        .select_related("course__term", "facility")
        .filter(pk=object_id)
        .first()
    )
    if course_class is None or not model_admin.has_change_permission(request, course_class):
        raise Http404(_("There is no such record in your community."))
    return course_class


def desk(request: HttpRequest, object_id: str, *, model_admin) -> HttpResponse:
    """Enrol someone at the desk: an existing resident by number, or a new one registered here
    (with a one-time password to give them)."""
    course_class = _class(request, object_id, model_admin)
    form = DeskForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = None
        try:
            with transaction.atomic():
                resident = Resident.objects.filter(phone=data["phone"]).first()
                if resident is None:
                    password = one_time_password()
                    user = get_user_model().objects.create_user(
                        username=data["phone"], password=password, first_name=data["name"]
                    )
                    resident = Resident.objects.create(
                        user=user,
                        name=data["name"],
                        phone=data["phone"],
                        birth_year=data["birth_year"],
                        compound=data["compound"],
                    )
                    account_trail.record(user, account_trail.REGISTERED_AT_DESK)
                made = enrolment.enrol(resident.user, course_class, by=request.user)
        except enrolment.Refused as refused:
            form.add_error(None, refused.refusal.message)
        except IntegrityError:
            form.add_error(
                "phone", _("That number belongs to an account that is not a resident's.")
            )
        else:
            if made.status == Enrolment.Status.ENROLLED:
                text = _("%(name)s is enrolled in %(class)s.")
            else:
                text = _("%(name)s is on the waiting list of %(class)s, number %(n)s.")
            messages.success(
                request,
                text
                % {
                    "name": resident.name,
                    "class": course_class,
                    "n": enrolment.waitlist_position(made),
                },
            )
            if password:
                messages.warning(
                    request,
                    _(
                        "A new account was made. Give %(name)s this password to sign in with "
                        "their mobile number (it is shown only now): %(password)s"
                    )
                    % {"name": resident.name, "password": password},
                )
            return redirect(reverse("admin:courses_courseclass_change", args=[course_class.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Enrol at the desk: %s") % course_class,
        "subtitle": None,
        "opts": model_admin.opts,
        "original": course_class,
        "course_class": course_class,
        "form": form,
    }
    return TemplateResponse(request, "admin/courses/desk.html", context)


def roster(request: HttpRequest, object_id: str, *, model_admin) -> HttpResponse:
    """The class's roster and waiting list as a workbook, with full mobile numbers."""
    course_class = _class(request, object_id, model_admin)
    # Who read whose numbers: the one page that writes to the trail on a GET, so it gives the
    # context itself (the middleware attaches it to requests that change things).
    with pghistory.context(user=request.user.pk, url=request.path):
        pghistory.create_event(course_class, label="roster_read")
    rows = (
        course_class.enrolments.filter(status__in=Enrolment.LIVE)
        .select_related("user__resident")
        .order_by(*Enrolment.QUEUE)
    )
    book = Workbook()
    sheet = book.active
    sheet.title = _("Roster")[:31]
    # Names are residents' own text: every cell goes through portal.lib.cells, which keeps a
    # name such as "=HYPERLINK(…)" a string and never a formula Excel would run.
    sheet.append([cells.xlsx(sheet, str(course_class), font=Font(bold=True, size=14))])
    headers = [
        _("No."),
        pgettext("person", "Name"),
        _("Mobile number"),
        _("Birth year"),
        _("Status"),
        _("Waiting list place"),
        _("Applied"),
        _("Enrolled at the desk"),
    ]
    sheet.append(cells.xlsx_row(sheet, headers, font=Font(bold=True)))
    seat = waiting = 0
    for row in rows:
        resident = getattr(row.user, "resident", None)
        if row.status == Enrolment.Status.ENROLLED:
            seat += 1
            number, place = seat, None
        elif row.status == Enrolment.Status.WAITLISTED:
            waiting += 1
            number, place = None, waiting
        else:  # applied to a lottery class not drawn yet
            number = place = None
        sheet.append(
            cells.xlsx_row(
                sheet,
                [
                    number,
                    resident.name if resident else row.user.get_username(),
                    resident.phone if resident else "",
                    resident.birth_year if resident else None,
                    row.get_status_display(),
                    place,
                    row.created_at,
                    _("Yes") if row.by_staff_id else "",
                ],
            )
        )
    for letter, width in zip("ABCDEFGH", (6, 14, 15, 10, 12, 12, 20, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    for cell in sheet["G"][2:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A3"
    attendance.add_sheet(book, course_class)
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="roster-{course_class.pk}.xlsx"'
    return response
