"""The outbox: one row per message, written in the same transaction as the change it tells of
(notices.outbox), delivered by the workers (notices.delivery), and what each person chose to be
told and how (``Choice``).

A message holds no phone number or address: the worker reads the person's own at the moment it
sends, so a number leaves the database only towards the provider. Its text is kept while it may
still be needed (delivery, a staff member's look at a failure) and emptied by ``purge_expired``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from communities.models import Community


class Channel(models.TextChoices):
    SMS = "sms", _("text message (SMS)")
    EMAIL = "email", _("email")
    OFF = "off", _("do not tell me")


class Kind(models.TextChoices):
    SEAT = "seat", _("a seat from the waiting list")
    DRAW_WON = "draw_won", _("a draw gave a seat")
    DRAW_WAIT = "draw_wait", _("a draw gave a waiting list place")
    CLASS_CANCELLED = "class_cancelled", _("a class was cancelled")
    CLASS_CHANGED = "class_changed", _("a class's time or place changed")
    VENUE_CLOSED = "venue_closed", _("a class's venue closed for a while")
    WISH_REPLY = "wish_reply", _("a reply to a wish")
    DIGEST = "digest", _("the daily digest for staff")


class Topic(models.TextChoices):
    """What a person chooses about: the kinds come in these groups (notices.kinds)."""

    SEATS = "seats", _("Seats and draws")
    CLASSES = "classes", _("My classes: cancelled, moved or their venue closed")
    WISHES = "wishes", _("Replies to wishes I posted or supported")
    DIGEST = "digest", _("Daily digest of my community (staff)")


class Notice(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("message", "waiting to be sent")
        SENDING = "sending", pgettext_lazy("message", "being sent")
        SENT = "sent", pgettext_lazy("message", "sent")
        FAILED = "failed", pgettext_lazy("message", "failed")
        # Not sent, and rightly: the person chose not to be told, or nothing reaches them.
        SKIPPED = "skipped", pgettext_lazy("message", "not sent")

    # One message per event and person, whatever retries or workers do (notices.outbox): the
    # constraint notices_notice_one_per_key (a unique constraint, not unique=True, which would
    # add a second index for LIKE that no query uses and every message pays for).
    key = models.CharField(_("event"), max_length=120, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("to"),
        editable=False,
    )
    # Whose staff see it in the back office; empty for none (a message about no one community).
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        editable=False,
        db_index=False,  # notices_notice_community leads with it
    )
    # How and in which language: decided by the worker from the person's choices when it comes
    # to send (notices.delivery.decide); empty until then.
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel, blank=True, editable=False
    )
    language = models.CharField(_("language"), max_length=10, blank=True, editable=False)
    # The event's values as the change wrote them, then (once decided) the values its SMS
    # template is filled with, in ``language``; and what the message says. Both emptied once
    # kept long enough (purge_expired).
    text = models.TextField(_("text"), blank=True, editable=False)
    params = models.JSONField(_("template values"), default=dict, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status, default=Status.PENDING, editable=False
    )
    created_at = models.DateTimeField(_("written"), auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), editable=False)
    # Until when the worker that started an attempt owns it; another takes over after.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The last attempt may have reached the provider without its answer reaching us: the next
    # one asks the provider first (notices.delivery).
    unsure = models.BooleanField(default=False, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    provider_id = models.CharField(_("provider's number"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True, editable=False)

    community_path = "community__"

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "sending", "sent", "failed", "skipped"]),
                name="notices_notice_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(channel="off"), name="notices_notice_has_a_channel"
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="notices_notice_sent_has_time",
            ),
            models.UniqueConstraint(fields=["key"], name="notices_notice_one_per_key"),
        ]
        indexes = [
            # The sweep's question: what is waiting, or stuck in an attempt, and since when.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notices_notice_due",
            ),
            # The back office's list of one community's messages, newest first.
            models.Index(fields=["community", "-created_at"], name="notices_notice_community"),
            # The retention rule's question (purge_expired).
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["sent", "failed", "skipped"]) & ~Q(text=""),
                name="notices_notice_purgeable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class Choice(models.Model):
    """How one person wants to be told, topic by topic, and in which language. Without a row,
    the defaults below hold: SMS for what they asked for by enrolling, posting or supporting (and
    email for staff's digest), in Chinese."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notice_choice",
        verbose_name=_("user"),
    )
    seats = models.CharField(Topic.SEATS.label, max_length=8, choices=Channel, default=Channel.SMS)
    classes = models.CharField(
        Topic.CLASSES.label, max_length=8, choices=Channel, default=Channel.SMS
    )
    wishes = models.CharField(
        Topic.WISHES.label, max_length=8, choices=Channel, default=Channel.SMS
    )
    digest = models.CharField(
        Topic.DIGEST.label, max_length=8, choices=Channel, default=Channel.EMAIL
    )
    language = models.CharField(
        _("language of my messages"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    changed_at = models.DateTimeField(_("chosen"), auto_now=True)

    class Meta:
        verbose_name = _("message choice")
        verbose_name_plural = _("message choices")

    def __str__(self) -> str:
        return str(self.user_id)

    @classmethod
    def of(cls, user_id: int) -> "Choice":
        """The person's choices: theirs, or the defaults when they made none (unsaved)."""
        return cls.objects.filter(user_id=user_id).first() or cls(user_id=user_id)

    def channel_for(self, topic: str) -> str:
        return getattr(self, topic)
