"""The back office's site: Django's admin with the staff desk on its index page."""

from django.contrib import admin
from django.utils import timezone

from facilities import desk


class PortalAdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "desk": desk.for_user(request.user, timezone.localdate()),
        }
        return super().index(request, extra_context)
