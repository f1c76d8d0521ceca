"""The back office's site: Django's admin with the staff desk on its index page and the audit
trail of everything the user keeps."""

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facilities import desk
from portal import audit

CHANGES_SHOWN = 100


class PortalAdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "desk": desk.for_user(request.user, timezone.localdate()),
        }
        return super().index(request, extra_context)

    def get_urls(self):
        return [
            path("changes/", self.admin_view(self.changes_view), name="changes"),
            *super().get_urls(),
        ]

    def changes_view(self, request):
        """The latest changes in the communities the user keeps (all of them for the city
        administrator), whoever made them."""
        context = {
            **self.each_context(request),
            "title": _("Changes in your community"),
            "entries": audit.in_scope(request.user, CHANGES_SHOWN),
            "show_facility": True,
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/audit_history.html", context)
