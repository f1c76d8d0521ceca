"""Wishes (需求征集, "居民有需求、社区有服务"): a resident asks for a course, facility or service in
their community, others add their support, staff reply (DESIGN.md §3 "Wishes").

A wish keeps its support count beside it, so the list can sort by it without counting rows; the
count moves only in ``Wish.add_support``, in the same transaction as the Support row it counts,
and the database allows one Support per account and wish. The author's own wish counts as
supported by them from the start.

A wish may name the service category it asks for (staff set or correct it in the admin); the
reports count it for that service, and read the title for a category's everyday words only when
it names none.

Deleting an account keeps its wishes and supports but no link to the person (SET_NULL).
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Community
from facilities.models import Category
from portal import audit

TEXT_LIMIT = 500
# Wishes one account may post in POST_WINDOW: enough for a real need, too few for a flood.
POSTS_PER_ACCOUNT = 5
POST_WINDOW = timedelta(days=1)


class WishQuerySet(models.QuerySet):
    def by_support(self) -> "WishQuerySet":
        return self.order_by("-support_count", "-created_at", "-pk")

    def newest(self) -> "WishQuerySet":
        return self.order_by("-created_at", "-pk")

    def posted_recently_by(self, user) -> "WishQuerySet":
        """The account's wishes within the posting window (the per-account limit)."""
        return self.filter(author=user, created_at__gte=timezone.now() - POST_WINDOW)


# Tracked without the author (no link to a deleted account may survive in the append-only
# history) and without the support count (a supporter is not a change worth an event).
@audit.track("Wish", exclude=["support_count", "author"])
class Wish(models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", _("course")
        FACILITY = "facility", _("facility")
        SERVICE = "service", _("service")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("wish status", "open")
        PLANNED = "planned", pgettext_lazy("wish status", "planned")
        DONE = "done", pgettext_lazy("wish status", "done")
        DECLINED = "declined", _("declined")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="wishes", verbose_name=_("community")
    )
    kind = models.CharField(_("what is wished for"), max_length=10, choices=Kind)
    # The reports count the wish for this service; without one they read its title for words.
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wishes",
        verbose_name=_("service asked for"),
        help_text=_(
            "Leave empty if the wish names no one service: the reports then go by its title."
        ),
    )
    title = models.CharField(pgettext_lazy("wish", "title"), max_length=60)
    text = models.TextField(_("details"), max_length=TEXT_LIMIT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="wishes",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("posted"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    reply = models.TextField(_("reply from the community"), blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replied by"),
    )
    support_count = models.PositiveIntegerField(_("supporters"), default=0, editable=False)

    objects = WishQuerySet.as_manager()
    community_path = "community__"

    class Meta:
        ordering = ["-support_count", "-created_at", "-pk"]
        verbose_name = _("wish")
        verbose_name_plural = _("wishes")
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), TEXT_LIMIT),
                name="wishes_wish_text_length",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "planned", "done", "declined"]),
                name="wishes_wish_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["course", "facility", "service"]),
                name="wishes_wish_kind_valid",
            ),
        ]
        indexes = [
            # The public list's default order (most supported first), unfiltered.
            models.Index(
                F("support_count").desc(), F("created_at").desc(), name="wishes_wish_by_support"
            ),
            # The list filtered by community, and the summary grouped by community and kind.
            models.Index(fields=["community", "kind", "status"], name="wishes_wish_community"),
            # The per-account posting limit.
            models.Index(fields=["author", "created_at"], name="wishes_wish_author_recent"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("wishes:detail", kwargs={"pk": self.pk})

    @property
    def author_name(self) -> str:
        """The author as the public sees them: a family name and stars (张**), never more.
        Needs ``author__resident`` selected to stay one query."""
        resident = getattr(self.author, "resident", None) if self.author_id else None
        if resident is not None and resident.name:
            return f"{resident.name[0]}**"
        return str(_("a resident"))

    @classmethod
    @transaction.atomic
    def post(cls, *, author, **fields) -> "Wish":
        """A new wish, supported by its author."""
        wish = cls.objects.create(author=author, support_count=1, **fields)
        Support.objects.create(wish=wish, user=author)
        return wish

    @classmethod
    def add_support(cls, wish_id: int, user) -> bool:
        """Count ``user``'s support for the wish once; False if they had already given it.
        The unique constraint decides between two requests racing: the loser adds nothing."""
        try:
            with transaction.atomic():
                Support.objects.create(wish_id=wish_id, user=user)
                cls.objects.filter(pk=wish_id).update(support_count=F("support_count") + 1)
        except IntegrityError:
            return False
        return True


class Support(models.Model):
    """One account's support for one wish."""

    wish = models.ForeignKey(
        Wish, on_delete=models.CASCADE, related_name="supports", verbose_name=_("wish")
    )
    # SET_NULL: a deleted account's support still counts, but no longer says whose it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="wish_supports",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("given"), auto_now_add=True)

    community_path = "wish__community__"

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            # One support per account and wish (NULLs, from deleted accounts, are distinct).
            models.UniqueConstraint(fields=["wish", "user"], name="wishes_support_once_per_account")
        ]

    def __str__(self) -> str:
        return str(self.wish)
