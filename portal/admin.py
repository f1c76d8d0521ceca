"""The back office's site: Django's admin with the staff desk on its index page and the audit
trail of everything the user keeps."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities import two_factor
from facilities import desk
from portal import audit

CHANGES_SHOWN = 100


class PortalAdminSite(admin.AdminSite):
    def has_permission(self, request):
        """Staff reach the back office only after the second sign-in step."""
        return super().has_permission(request) and two_factor.is_verified(request.user)

    def login(self, request, extra_context=None):
        """A signed-in user who owes the second step is sent to it, not asked for a password
        again."""
        user = request.user
        if user.is_authenticated and user.is_staff and not two_factor.is_verified(user):
            return two_factor.begin(request, request.GET.get(REDIRECT_FIELD_NAME, ""))
        return super().login(request, extra_context)

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
