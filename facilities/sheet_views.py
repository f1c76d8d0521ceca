"""The resource list pages of the facility admin: export (XLSX, CSV), the blank template, and the
import (upload → preview → confirm). ``FacilityAdmin.get_urls`` routes them through
``admin_site.admin_view``, which signs people in and keeps out all but back-office users.

Between preview and confirm the parsed sheet waits in the session (which lives in the database or
Redis, so any app server can finish what another began) with the file's SHA-256; the confirm form
carries the hash, so a confirm from an older preview tab cannot import a sheet the user has not
seen. Confirming plans the sheet again inside the transaction that writes it, so what is written
is judged against the data as it is then.
"""

import hashlib
import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.timezone import localdate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communities import access
from facilities import sheets

logger = logging.getLogger(__name__)

SESSION_KEY = "facility_sheet"


class UploadForm(forms.Form):
    sheet = forms.FileField(
        label=_("Resource list file"),
        help_text=_(
            "An Excel workbook (.xlsx) or a CSV file, at most 5 MB and 10,000 rows. Start from "
            "an export or the blank template."
        ),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_sheet(self):
        upload = self.cleaned_data["sheet"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(
                _("Choose an .xlsx or .csv file (an old .xls: save it as .xlsx in Excel).")
            )
        if upload.size > sheets.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 5 MB: split the list into several files.")
            )
        return upload


def allowed(model_admin, request: HttpRequest) -> bool:
    """Only users who keep facilities: change permission, and a community (or the city).
    Officials, who read but keep nothing, get 403."""
    return (
        model_admin.has_change_permission(request) and access.scope_for(request.user).edits_anything
    )


def _allow(model_admin, request: HttpRequest) -> None:
    if not allowed(model_admin, request):
        raise PermissionDenied


def _download(content: bytes, content_type: str, stem: str, suffix: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    filename = f"{stem}-{localdate().isoformat()}.{suffix}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def export(request: HttpRequest, kind: str, *, model_admin) -> HttpResponse:
    _allow(model_admin, request)
    rows = sheets.export_rows(request.user)
    if kind == "csv":
        return _download(sheets.to_csv(rows), sheets.CSV_TYPE, sheets.SHEET_TITLE, "csv")
    return _download(sheets.to_xlsx(rows), sheets.XLSX_TYPE, sheets.SHEET_TITLE, "xlsx")


@require_GET
def template(request: HttpRequest, *, model_admin) -> HttpResponse:
    _allow(model_admin, request)
    stem = gettext("%(sheet)s-blank") % {"sheet": sheets.SHEET_TITLE}
    return _download(sheets.template_xlsx(), sheets.XLSX_TYPE, stem, "xlsx")


def _page(request, model_admin, form, plan=None, digest="") -> TemplateResponse:
    opts = model_admin.model._meta
    return TemplateResponse(
        request,
        "admin/facilities/sheet_import.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Import resource list"),
            "opts": opts,
            "form": form,
            "plan": plan,
            "digest": digest,
        },
    )


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, *, model_admin) -> HttpResponse:
    """The upload form; posted, the preview of what importing the file would do."""
    _allow(model_admin, request)
    if request.method == "GET":
        return _page(request, model_admin, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, model_admin, form)
    upload = form.cleaned_data["sheet"]
    content = upload.read()
    request.session.pop(SESSION_KEY, None)
    can_add = model_admin.has_add_permission(request)
    try:
        sheet = sheets.read_sheet(content, upload.name)
    except sheets.UnreadableFile as error:
        plan = sheets.Plan(filename=upload.name, file_problems=error.messages)
        return _page(request, model_admin, UploadForm(), plan)
    plan = sheets.plan_import(sheet, upload.name, request.user, can_add=can_add)
    digest = ""
    if plan.ok:
        digest = hashlib.sha256(content).hexdigest()
        request.session[SESSION_KEY] = {
            "name": upload.name,
            "sha256": digest,
            "sheet": sheet.dumps(),
        }
    return _page(request, model_admin, UploadForm(), plan, digest)


@require_POST
def confirm(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Import the previewed file: every row or none."""
    _allow(model_admin, request)
    stored = request.session.get(SESSION_KEY)
    if not stored or stored["sha256"] != request.POST.get("sha256"):
        messages.error(
            request,
            gettext(
                "That preview is no longer current (a newer file was uploaded, or it was "
                "imported already). Upload the sheet again."
            ),
        )
        return redirect("admin:facilities_facility_import")
    del request.session[SESSION_KEY]  # one confirm per preview, whatever comes of it
    sheet = sheets.Sheet.loads(stored["sheet"])
    can_add = model_admin.has_add_permission(request)
    try:
        with transaction.atomic():
            plan = sheets.plan_import(
                sheet, stored["name"], request.user, can_add=can_add, lock=True
            )
            counts = sheets.apply(plan) if plan.ok else None
    except IntegrityError:
        # A constraint the checks could not see coming, such as a facility of the same name
        # saved by someone else between the checks and the write.
        logger.warning("resource list import by %s hit a constraint", request.user)
        messages.error(
            request,
            gettext(
                "Someone changed these facilities at the same moment, so nothing was saved. "
                "Upload the sheet again to see the differences."
            ),
        )
        return redirect("admin:facilities_facility_import")
    if counts is None:  # the data changed since the preview so that a row no longer fits
        return _page(request, model_admin, UploadForm(), plan)
    logger.info("resource list %s imported by %s: %s", stored["name"], request.user, counts)
    messages.success(
        request,
        gettext("Imported: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.")
        % {
            "new": counts[sheets.NEW],
            "changed": counts[sheets.CHANGED],
            "unchanged": counts[sheets.UNCHANGED],
        },
    )
    return redirect(reverse("admin:facilities_facility_changelist"))
