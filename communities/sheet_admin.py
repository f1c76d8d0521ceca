"""The back office's list pages, the same for every list kept in Excel: export (XLSX, CSV), the
blank template, and the import (upload → preview → confirm).

A model admin takes them by mixing in ``SheetAdmin`` and naming its list (a ``SheetKind``: the
layout, the planner and the words of its pages). ``get_urls`` routes the pages through
``admin_site.admin_view``, which signs people in and keeps out all but back-office users, as
``<app>_<model>_export``, ``_template``, ``_import`` and ``_import_confirm``.

Between preview and confirm the parsed sheet waits in the session (which lives in the database or
Redis, so any app server can finish what another began) with the file's SHA-256; the confirm form
carries the hash, so a confirm from an older preview tab cannot import a sheet the user has not
seen. Confirming plans the sheet again inside the transaction that writes it, so what is written
is judged against the data as it is then. Each list keeps its own preview, so previews of two
lists in two tabs do not undo each other.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils.http import content_disposition_header
from django.utils.timezone import localdate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communities import access
from portal.lib import sheets

logger = logging.getLogger(__name__)

# A preview lists this many rows of each kind: a district's whole compound list would be a page
# of 20,000 table rows that nobody reads and that takes a second to render. Problems are always
# listed in full.
SHOWN = 500


@dataclass(frozen=True)
class SheetKind:
    """One list: its layout, its planner, and the words its pages use."""

    layout: sheets.Layout
    # (sheet, filename, user, can_add=…, lock=…) → Plan
    plan: Callable[..., sheets.Plan]
    apply: Callable[[sheets.Plan], dict[str, int]]
    export_rows: Callable[..., list]  # (user) → rows
    guide_lists: Callable[[], list[sheets.GuideList]] | None
    import_title: str
    intro: str  # what the import page says before a file is chosen
    file_label: str
    # ngettext_lazy(…, "rows") each: rows that change, new rows, rows left as they are.
    changed_words: object
    new_words: object
    unchanged_words: object
    # The new rows' table: (header, function of a row plan → cell).
    new_columns: tuple[tuple[str, Callable], ...] = ()
    # Whether a user may use the pages at all, beyond the admin's change permission.
    allowed: Callable[..., bool] = field(default=lambda user: access.scope_for(user).edits_anything)
    max_bytes: int = sheets.MAX_BYTES

    def read(self, content: bytes, filename: str) -> sheets.Sheet:
        return sheets.read_sheet(content, filename, self.layout)

    def to_xlsx(self, rows) -> bytes:
        return sheets.to_xlsx(self.layout, rows, self.guide_lists)

    def to_csv(self, rows) -> bytes:
        return sheets.to_csv(self.layout, rows)


class UploadForm(forms.Form):
    sheet = forms.FileField(widget=forms.FileInput(attrs={"accept": ".xlsx,.csv"}))

    def __init__(self, *args, kind: SheetKind, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        field = self.fields["sheet"]
        field.label = kind.file_label
        field.help_text = _(
            "An Excel workbook (.xlsx) or a CSV file, at most %(mb)s MB and %(rows)s rows. "
            "Start from an export or the blank template."
        ) % {"mb": kind.max_bytes // (1024 * 1024), "rows": f"{kind.layout.max_rows:,}"}

    def clean_sheet(self):
        upload = self.cleaned_data["sheet"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(
                _("Choose an .xlsx or .csv file (an old .xls: save it as .xlsx in Excel).")
            )
        if upload.size > self.kind.max_bytes:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB: split the list into several files.")
                % {"mb": self.kind.max_bytes // (1024 * 1024)}
            )
        return upload


class SheetAdmin:
    """Mixed into a ModelAdmin (before it): the list's pages and the changelist's links."""

    sheet: SheetKind
    change_list_template = "admin/sheet_change_list.html"

    def sheet_allowed(self, request: HttpRequest) -> bool:
        """Only users who keep such rows: change permission, and what the list asks (a
        community or the city, by default). Officials, who read but keep nothing, get 403."""
        return self.has_change_permission(request) and self.sheet.allowed(request.user)

    def sheet_url(self, page: str) -> str:
        opts = self.model._meta
        return f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{page}"

    def get_urls(self):
        # Ahead of the admin's own URLs, whose "<object_id>/" would take them otherwise.
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"

        def view(function):
            return self.admin_site.admin_view(partial(function, model_admin=self))

        return [
            re_path(r"^export\.(?P<kind>xlsx|csv)$", view(export), name=f"{prefix}_export"),
            path("template.xlsx", view(template), name=f"{prefix}_template"),
            path("import/", view(upload), name=f"{prefix}_import"),
            path("import/confirm/", view(confirm), name=f"{prefix}_import_confirm"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        # The changelist links to the list's pages for those the pages let in.
        extra_context = {
            **(extra_context or {}),
            "sheet_links": self.sheet_allowed(request),
            "sheet_urls": _urls(self),
        }
        return super().changelist_view(request, extra_context)


def _urls(model_admin) -> dict[str, str]:
    return {
        page: model_admin.sheet_url(page)
        for page in ("export", "template", "import", "import_confirm", "changelist")
    }


def _allow(model_admin, request: HttpRequest) -> None:
    if not model_admin.sheet_allowed(request):
        raise PermissionDenied


def _session_key(model_admin) -> str:
    opts = model_admin.model._meta
    return f"sheet:{opts.app_label}.{opts.model_name}"


def _download(content: bytes, content_type: str, stem: str, suffix: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    filename = f"{stem}-{localdate().isoformat()}.{suffix}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def export(request: HttpRequest, kind: str, *, model_admin) -> HttpResponse:
    _allow(model_admin, request)
    sheet = model_admin.sheet
    rows = sheet.export_rows(request.user)
    if kind == "csv":
        return _download(sheet.to_csv(rows), sheets.CSV_TYPE, sheet.layout.title, "csv")
    return _download(sheet.to_xlsx(rows), sheets.XLSX_TYPE, sheet.layout.title, "xlsx")


@require_GET
def template(request: HttpRequest, *, model_admin) -> HttpResponse:
    _allow(model_admin, request)
    sheet = model_admin.sheet
    stem = gettext("%(sheet)s-blank") % {"sheet": sheet.layout.title}
    return _download(sheet.to_xlsx([]), sheets.XLSX_TYPE, stem, "xlsx")


def _page(request, model_admin, form, plan=None, digest="") -> TemplateResponse:
    kind = model_admin.sheet
    context = {
        **model_admin.admin_site.each_context(request),
        "title": kind.import_title,
        "opts": model_admin.model._meta,
        "kind": kind,
        "sheet_urls": _urls(model_admin),
        "form": form,
        "plan": plan,
        "digest": digest,
    }
    if plan is not None:
        changed, new, unchanged = plan.changed_rows, plan.new_rows, plan.unchanged_rows

        def words(lazy, rows):
            return lazy % {"rows": len(rows)}

        def more(rows):
            if len(rows) <= SHOWN:
                return ""
            return gettext(
                "The first %(shown)s of %(rows)s are listed here; confirming imports them all."
            ) % {"shown": f"{SHOWN:,}", "rows": f"{len(rows):,}"}

        context.update(
            changed=changed,
            changed_shown=changed[:SHOWN],
            changed_more=more(changed),
            changed_heading=words(kind.changed_words, changed),
            new=new,
            new_heading=words(kind.new_words, new),
            new_headers=[header for header, _cell in kind.new_columns],
            new_table=[
                (row.number, [cell(row) for _header, cell in kind.new_columns])
                for row in new[:SHOWN]
            ],
            new_more=more(new),
            unchanged=unchanged,
            unchanged_shown=unchanged[:SHOWN],
            unchanged_more=more(unchanged),
            unchanged_heading=words(kind.unchanged_words, unchanged),
        )
    return TemplateResponse(request, "admin/sheet_import.html", context)


@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, *, model_admin) -> HttpResponse:
    """The upload form; posted, the preview of what importing the file would do."""
    _allow(model_admin, request)
    kind = model_admin.sheet
    if request.method == "GET":
        return _page(request, model_admin, UploadForm(kind=kind))
    form = UploadForm(request.POST, request.FILES, kind=kind)
    if not form.is_valid():
        return _page(request, model_admin, form)
    upload = form.cleaned_data["sheet"]
    content = upload.read()
    key = _session_key(model_admin)
    request.session.pop(key, None)
    can_add = model_admin.has_add_permission(request)
    try:
        sheet = kind.read(content, upload.name)
    except sheets.UnreadableFile as error:
        plan = sheets.Plan(filename=upload.name, file_problems=error.messages)
        return _page(request, model_admin, UploadForm(kind=kind), plan)
    plan = kind.plan(sheet, upload.name, request.user, can_add=can_add)
    digest = ""
    if plan.ok:
        digest = hashlib.sha256(content).hexdigest()
        request.session[key] = {"name": upload.name, "sha256": digest, "sheet": sheet.dumps()}
    return _page(request, model_admin, UploadForm(kind=kind), plan, digest)


@require_POST
def confirm(request: HttpRequest, *, model_admin) -> HttpResponse:
    """Import the previewed file: every row or none."""
    _allow(model_admin, request)
    kind = model_admin.sheet
    key = _session_key(model_admin)
    stored = request.session.get(key)
    if not stored or stored["sha256"] != request.POST.get("sha256"):
        messages.error(
            request,
            gettext(
                "That preview is no longer current (a newer file was uploaded, or it was "
                "imported already). Upload the sheet again."
            ),
        )
        return redirect(model_admin.sheet_url("import"))
    del request.session[key]  # one confirm per preview, whatever comes of it
    sheet = sheets.Sheet.loads(stored["sheet"])
    can_add = model_admin.has_add_permission(request)
    try:
        with transaction.atomic():
            plan = kind.plan(sheet, stored["name"], request.user, can_add=can_add, lock=True)
            counts = kind.apply(plan) if plan.ok else None
    except IntegrityError:
        # A constraint the checks could not see coming, such as a row of the same name saved
        # by someone else between the checks and the write.
        logger.warning("%s import by %s hit a constraint", kind.layout.title, request.user)
        messages.error(
            request,
            gettext(
                "Someone changed these rows at the same moment, so nothing was saved. Upload "
                "the sheet again to see the differences."
            ),
        )
        return redirect(model_admin.sheet_url("import"))
    if counts is None:  # the data changed since the preview so that a row no longer fits
        return _page(request, model_admin, UploadForm(kind=kind), plan)
    logger.info("%s %s imported by %s: %s", kind.layout.title, stored["name"], request.user, counts)
    messages.success(
        request,
        gettext("Imported: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.")
        % {
            "new": counts[sheets.NEW],
            "changed": counts[sheets.CHANGED],
            "unchanged": counts[sheets.UNCHANGED],
        },
    )
    return redirect(reverse(model_admin.sheet_url("changelist")))
