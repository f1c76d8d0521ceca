"""The outbox in the back office, scoped like everything else (communities.access): staff see
their own community's messages (the person by name and masked number, never the whole number),
whether each went out or failed and why, and resend a failed one. Nothing here edits a message.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks_db.models import DBTaskResult

from communities.admin import CommunityScopedAdmin
from notices import delivery
from notices.models import Channel, Notice
from residents.models import shown

# The queue's jobs carry message numbers only; the outbox below is where staff look. Nobody
# edits jobs by hand.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


class ChannelFilter(admin.SimpleListFilter):
    """The channels a message can go by ("do not tell me" is never one)."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return [(c.value, c.label) for c in Channel if c != Channel.OFF]

    def queryset(self, request, queryset):
        return queryset.filter(channel=self.value()) if self.value() else queryset


@admin.register(Notice)
class NoticeAdmin(CommunityScopedAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "channel",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", ChannelFilter]
    list_select_related = ["user__resident", "community"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    fields = [
        "kind",
        "recipient",
        "community",
        "channel",
        "language",
        "text",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "provider_id",
        "last_error",
    ]
    readonly_fields = fields

    @admin.display(description=_("to"), ordering="user__resident__name")
    def recipient(self, obj: Notice) -> str:
        return shown(obj.user)

    def has_add_permission(self, request):
        return False

    def history_view(self, request, object_id, extra_context=None):
        """A message's record is its own history (attempts, last error, when it went out): the
        audit trail does not keep messages, whose text must be purged."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return redirect(reverse("admin:notices_notice_change", args=[obj.pk]))

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Staff look, and resend a failed message (the action); nobody edits one.
        return False

    def has_resend_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("Resend the failed messages chosen"), permissions=["resend"])
    def resend(self, request, queryset):
        count = delivery.resend(
            queryset.filter(status=Notice.Status.FAILED).values_list("pk", flat=True)
        )
        self.message_user(
            request,
            ngettext(
                "%(n)s message will be sent again.", "%(n)s messages will be sent again.", count
            )
            % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )
