"""Wishes in the back office: staff answer their own community's wishes (communities.access).

What a resident wrote and who supports it are theirs: staff set the status, write the reply and
name (or correct) the service the wish asks for, which the reports count it under; nothing else.
Supports are not in the admin at all; their count is shown.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.admin import CommunityScopedAdmin
from notices.models import Kind
from notices.outbox import Message, tell
from wishes.models import Support, Wish


@admin.register(Wish)
class WishAdmin(CommunityScopedAdmin):
    list_display = [
        "title",
        "community",
        "kind",
        "category",
        "status",
        "support_count",
        "created_at",
        "replied",
    ]
    # Only the services their own wishes name, not every category of the city.
    list_filter = ["status", "kind", ("category", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["community", "category"]
    search_fields = ["title", "text"]
    date_hierarchy = "created_at"
    ordering = ["-support_count", "-created_at"]
    fieldsets = [
        (
            _("The wish"),
            {
                "fields": [
                    "title",
                    "text",
                    "kind",
                    "community",
                    "shown_author",
                    "created_at",
                    "support_count",
                ]
            },
        ),
        (
            _("Your answer"),
            {"fields": ["category", "status", "reply", "replied_at", "replied_by"]},
        ),
    ]
    readonly_fields = [
        "title",
        "text",
        "kind",
        "community",
        "shown_author",
        "created_at",
        "support_count",
        "replied_at",
        "replied_by",
    ]

    def has_add_permission(self, request):
        # Wishes come from residents (/wishes/new/), not from the back office.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__resident", "replied_by")

    @admin.display(description=_("posted by"))
    def shown_author(self, obj: Wish) -> str:
        return obj.author_name

    @admin.display(description=_("replied"), boolean=True, ordering="replied_at")
    def replied(self, obj: Wish) -> bool:
        return obj.replied_at is not None

    def save_model(self, request, obj, form, change):
        if "reply" in form.changed_data:
            if obj.reply.strip():
                obj.replied_at, obj.replied_by = timezone.now(), request.user
            else:
                obj.replied_at = obj.replied_by = None
        super().save_model(request, obj, form, change)
        if "reply" in form.changed_data and obj.replied_at:
            tell_supporters(obj)


def tell_supporters(wish: Wish) -> None:
    """Whoever posted or supported the wish hears, once per reply, that the community answered
    (in the admin's transaction: no reply saved, no message)."""
    stamp = int(wish.replied_at.timestamp())
    people = Support.objects.filter(wish=wish, user__isnull=False).values_list("user_id", flat=True)
    tell(
        Message(
            user_id=user_id,
            kind=Kind.WISH_REPLY,
            key=f"wish-reply:{wish.pk}:{stamp}:{user_id}",
            path=wish.get_absolute_url(),
            params={"title": wish.title},
            community_id=wish.community_id,
        )
        for user_id in people.order_by("user_id")
    )
