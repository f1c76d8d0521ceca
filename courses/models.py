"""Courses: Term (学期) → Course → Class (班次) → Enrolment (DESIGN.md §3 "Courses").

The rules an enrolment must keep live in ``courses.enrolment``, the one place that writes
enrolments; the database holds what it can on its own: one live enrolment per person and class,
and a class's enrolled count (kept beside it, under the class row's lock) never above its capacity.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from communities.models import Community, PinyinSlugMixin
from facilities.models import Facility
from portal import audit
from residents.models import shown


@audit.track("Term")
class Term(models.Model):
    """A community's term: its registration window (returning students may start earlier) and
    how many classes one person may take in the season, counting every community's term of it."""

    class Season(models.TextChoices):
        SPRING = "spring", _("spring")
        AUTUMN = "autumn", _("autumn")

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="terms", verbose_name=_("community")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    season = models.CharField(_("season"), max_length=10, choices=Season)
    priority_opens = models.DateTimeField(
        _("registration opens for returning students"),
        null=True,
        blank=True,
        help_text=_("Leave empty when everyone starts together."),
    )
    registration_opens = models.DateTimeField(_("registration opens"))
    registration_closes = models.DateTimeField(_("registration closes"))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    class_limit = models.PositiveSmallIntegerField(
        _("classes per person"), default=2, help_text=_("How many classes one person may take.")
    )

    community_path = "community__"

    class Meta:
        ordering = ["-year", "season", "community"]
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "year", "season"], name="courses_term_one_per_season"
            ),
            models.CheckConstraint(
                condition=Q(registration_opens__lt=F("registration_closes")),
                name="courses_term_window_order",
            ),
            models.CheckConstraint(
                condition=Q(priority_opens__isnull=True)
                | Q(priority_opens__lte=F("registration_opens")),
                name="courses_term_priority_first",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")), name="courses_term_dates_order"
            ),
            models.CheckConstraint(
                condition=Q(class_limit__gte=1), name="courses_term_class_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.get_season_display()}"

    @property
    def first_opening(self):
        """When the first person could apply: returning students' start, else everyone's."""
        return self.priority_opens or self.registration_opens


@audit.track("Course")
class Course(PinyinSlugMixin):
    class Audience(models.TextChoices):
        SENIOR = "senior", _("seniors")
        YOUTH = "youth", _("children and young people")
        ALL = "all", _("all ages")
        PARENT_CHILD = "parent_child", _("parents with children")

    # What a course teaches, as residents look for it (the seed courses and their neighbours).
    class Subject(models.TextChoices):
        PHOTOGRAPHY = "photography", _("photography")
        COOKING = "cooking", _("cooking")
        VIDEO = "video", _("video editing")
        CALLIGRAPHY = "calligraphy", _("calligraphy and painting")
        GUZHENG = "guzheng", _("guzheng")
        PIANO = "piano", _("electric piano")
        GUITAR = "guitar", _("guitar")
        HOMEWORK = "homework", _("after-school tutoring")
        READING = "reading", _("picture-book reading")
        CRAFTS = "crafts", _("handicrafts")
        SPORTS = "sports", _("parent-child sports")
        DANCE = "dance", _("dance")
        HEALTH = "health", _("health and fitness")
        PHONE = "phone", _("smartphone skills")
        OTHER = "other", _("other")

    term = models.ForeignKey(
        Term, on_delete=models.CASCADE, related_name="courses", verbose_name=_("term")
    )
    name = models.CharField(_("title"), max_length=80)
    slug = models.SlugField(_("address name"), max_length=100, unique=True, blank=True)
    subject = models.CharField(_("subject"), max_length=20, choices=Subject)
    audience = models.CharField(_("audience"), max_length=20, choices=Audience)
    provider = models.CharField(_("provider"), max_length=100, blank=True)
    fee = models.DecimalField(_("fee per term (yuan)"), max_digits=8, decimal_places=2, default=0)
    description = models.TextField(_("description"), blank=True)

    community_path = "term__community__"

    class Meta:
        ordering = ["term", "name"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.UniqueConstraint(fields=["term", "name"], name="courses_course_unique_name"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="courses_course_fee_positive"),
            models.CheckConstraint(condition=~Q(slug=""), name="courses_course_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


# The seat count moves with every enrolment, which has its own history.
@audit.track("CourseClass", exclude=["enrolled_count"])
class CourseClass(models.Model):
    """A class (班次): one group of a course, meeting weekly in a facility.

    Seats go to the first who apply, or (``Allocation.LOTTERY``) by a draw when registration
    closes: applications are collected until then, and ``courses.lottery`` decides the order."""

    class Allocation(models.TextChoices):
        FIRST_COME = "first_come", _("first come, first served")
        LOTTERY = "lottery", _("lottery when registration closes")

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="classes", verbose_name=_("course")
    )
    level = models.CharField(_("level"), max_length=40, blank=True, help_text=_("e.g. 初级"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    starts_at = models.TimeField(_("starts at"))
    ends_at = models.TimeField(_("ends at"))
    first_date = models.DateField(_("first meeting"))
    last_date = models.DateField(_("last meeting"))
    # A venue with classes cannot be deleted by itself; with its whole community it can.
    facility = models.ForeignKey(
        Facility,
        on_delete=models.RESTRICT,
        related_name="classes",
        verbose_name=_("meets in"),
    )
    room = models.CharField(_("room"), max_length=60, blank=True)
    teacher = models.CharField(_("teacher"), max_length=60, blank=True)
    capacity = models.PositiveSmallIntegerField(_("seats"))
    min_age = models.PositiveSmallIntegerField(_("youngest age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("oldest age"), null=True, blank=True)
    # Seats taken, kept by courses.enrolment under this row's lock: the database refuses more
    # than ``capacity``, whatever the code does.
    enrolled_count = models.PositiveSmallIntegerField(_("enrolled"), default=0, editable=False)
    allocation = models.CharField(
        _("seats go"),
        max_length=12,
        choices=Allocation,
        default=Allocation.FIRST_COME,
        help_text=_(
            "With a lottery, everyone who applies before registration closes takes part in a "
            "recorded draw (摇号); the draw decides who gets a seat and the waiting list order."
        ),
    )

    # Cancelled by staff (courses.enrolment.cancel_class): everyone in it was told, and nobody
    # may apply any more.
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True, editable=False)

    community_path = "course__term__community__"

    class Meta:
        ordering = ["course", "weekday", "starts_at", "level"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="courses_class_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(enrolled_count__lte=F("capacity")),
                name="courses_class_never_over_capacity",
                violation_error_message=_("There are more people enrolled than seats."),
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="courses_class_times_order"
            ),
            models.CheckConstraint(
                condition=Q(first_date__lte=F("last_date")), name="courses_class_dates_order"
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(min_age__lte=F("max_age")),
                name="courses_class_ages_order",
            ),
        ]

    def __str__(self) -> str:
        level = f" {self.level}" if self.level else ""
        return f"{self.course.name}{level} ({self.get_weekday_display()} {self.starts_at:%H:%M})"

    def save(self, *args, **kwargs):
        # A lottery's commitment is fixed with the class, in the same transaction, before anyone
        # can apply (courses.lottery.commit); imported here, as lottery stands on these models.
        from courses import lottery

        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if self.by_lottery and not Draw.objects.filter(course_class=self).exists():
                lottery.commit(self)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.enrolled_count, 0)

    @property
    def by_lottery(self) -> bool:
        return self.allocation == self.Allocation.LOTTERY

    def clean(self) -> None:
        super().clean()
        if self.pk and self.enrolments.exists():
            before = CourseClass.objects.filter(pk=self.pk).values_list("allocation", flat=True)
            if before and before[0] != self.allocation:
                raise ValidationError(
                    {
                        "allocation": _(
                            "People have already applied to this class: how its seats are "
                            "given out can no longer change."
                        )
                    }
                )


# Who applied, moved up or cancelled, and who did it at the desk (the trail's context names the
# staff member and the page).
@audit.track("Enrolment")
class Enrolment(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("applied, waiting for the draw")
        ENROLLED = "enrolled", _("enrolled")
        WAITLISTED = "waitlisted", _("on the waiting list")
        CANCELLED = "cancelled", _("cancelled")

    LIVE = (Status.APPLIED, Status.ENROLLED, Status.WAITLISTED)

    course_class = models.ForeignKey(
        CourseClass, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("class")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolments",
        verbose_name=_("resident"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status)
    created_at = models.DateTimeField(_("applied"), auto_now_add=True)
    enrolled_at = models.DateTimeField(_("enrolled"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # Staff who enrolled the resident at the desk (代办); empty when residents did it themselves.
    by_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrolled at the desk by"),
    )
    # A lottery class's draw (courses.lottery) ranks every application: seats in that order,
    # then the waiting list. Empty for first-come classes, whose queue is the order of ids.
    draw_rank = models.PositiveIntegerField(_("place in the draw"), null=True, blank=True)

    community_path = "course_class__course__term__community__"

    class Meta:
        ordering = ["id"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["course_class", "user"],
                condition=Q(status__in=["applied", "enrolled", "waitlisted"]),
                name="courses_enrolment_one_live_per_class",
                violation_error_message=_("This person is already in this class."),
            ),
            models.CheckConstraint(
                condition=Q(status="enrolled", enrolled_at__isnull=False) | ~Q(status="enrolled"),
                name="courses_enrolment_enrolled_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["course_class", "status", "id"], name="courses_enrol_queue"),
        ]

    def __str__(self) -> str:
        return f"{shown(self.user)} · {self.course_class}"

    # The waiting list's order: the draw's ranking where there was one, else arrival (ids are
    # handed out under the class lock).
    QUEUE = (F("draw_rank").asc(nulls_last=True), "id")


HEX_64 = r"^[0-9a-f]{64}$"


class Sha256Hex(models.Func):
    """PostgreSQL's own SHA-256 of a text's UTF-8 bytes, in lowercase hexadecimal (what
    ``hashlib.sha256(text.encode()).hexdigest()`` gives)."""

    template = "ENCODE(SHA256(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')"
    output_field = models.CharField()


# The trail keeps the digest and when it was published, never the secret: a secret in an event
# table would be readable before the draw by anyone who reads the trail.
@audit.track("DrawCommitment", exclude=["secret"])
class DrawCommitment(models.Model):
    """The commitment of a lottery class's draw, fixed when the class is made, before anyone can
    apply: the SHA-256 of a random secret is published at once; the secret is revealed by the
    draw, which mixes it with the closed list of applications (``courses.lottery``).

    The database keeps it as it was made: it refuses any UPDATE, and a DELETE while the class
    still exists (deleting the class takes its commitment with it). Nothing shows ``secret``
    before the draw: no page, admin, export, API or trail."""

    # The link is a foreign key that PostgreSQL itself cascades (ON DELETE CASCADE, made in
    # migration 0006): the row goes only after its class row has gone, which the DELETE trigger
    # below allows. Django leaves it to the database (DO_NOTHING, no constraint of its own);
    # DB_CASCADE would say the same, but Django refuses it under the Python-level cascades of
    # the class's own parents (fields.E323).
    course_class = models.OneToOneField(
        CourseClass,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="commitment",
        verbose_name=_("class"),
    )
    digest = models.CharField(_("commitment (SHA-256)"), max_length=64, editable=False)
    secret = models.CharField(_("secret"), max_length=64, editable=False)
    committed_at = models.DateTimeField(_("committed"), editable=False)

    community_path = "course_class__course__term__community__"

    class Meta:
        verbose_name = _("draw commitment")
        verbose_name_plural = _("draw commitments")
        constraints = [
            models.CheckConstraint(
                condition=Q(digest__regex=HEX_64), name="courses_drawcommitment_digest_hex"
            ),
            models.CheckConstraint(
                condition=Q(secret__regex=HEX_64), name="courses_drawcommitment_secret_hex"
            ),
            models.CheckConstraint(
                condition=Q(digest=Sha256Hex("secret")),
                name="courses_drawcommitment_digest_of_secret",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="never_changed", operation=pgtrigger.Update),
            # Deleting and making it again would change it as surely as an UPDATE. A cascade from
            # the class runs after the class row has gone, so it passes.
            pgtrigger.Trigger(
                name="kept_while_class_exists",
                when=pgtrigger.Before,
                operation=pgtrigger.Delete,
                func="""
                IF EXISTS (SELECT 1 FROM courses_courseclass WHERE id = OLD.course_class_id) THEN
                    RAISE EXCEPTION 'A draw commitment is kept as long as its class: %', OLD.id;
                END IF;
                RETURN OLD;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"SHA-256 {self.digest}"


@audit.track("Draw")
class Draw(models.Model):
    """A lottery class's draw (摇号), made once when registration has closed and kept as it was.

    Anyone can check it (``courses.lottery``): the revealed ``secret`` hashes to the
    ``commitment`` published before registration opened; the ``seed`` is the SHA-256 of
    "<secret>:<application numbers, ascending, joined by commas>"; each number is ranked by the
    SHA-256 of "<seed>:<number>" in hexadecimal, smallest first. The first ``seats`` get a seat,
    the rest wait in that order. Draws made before commitments have no secret: their seed was
    chosen at random when they were drawn."""

    course_class = models.OneToOneField(
        CourseClass, on_delete=models.CASCADE, related_name="draw", verbose_name=_("class")
    )
    seed = models.CharField(_("seed"), max_length=64)
    secret = models.CharField(_("revealed secret"), max_length=64, blank=True)
    commitment = models.CharField(_("commitment (SHA-256)"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn"))
    seats = models.PositiveSmallIntegerField(_("seats given out"))
    applications = models.JSONField(
        _("application numbers"), help_text=_("In the order the draw gave them.")
    )

    community_path = "course_class__course__term__community__"

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        constraints = [
            # Both or neither: a draw with a commitment reveals its secret.
            models.CheckConstraint(
                condition=Q(secret="", commitment="")
                | Q(secret__regex=HEX_64, commitment__regex=HEX_64),
                name="courses_draw_secret_and_commitment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_class} · {self.drawn_at:%Y-%m-%d}"

    @property
    def committed(self) -> bool:
        """Drawn from a commitment (commit-then-reveal), not from a seed chosen at the draw."""
        return bool(self.secret)


# Who was at which meeting, and who took the register (the trail keeps every correction).
@audit.track("Attendance")
class Attendance(models.Model):
    """One person's presence at one meeting of their class, as staff marked it
    (courses.attendance)."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("enrolment")
    )
    date = models.DateField(_("meeting date"))
    present = models.BooleanField(_("present"), default=False)
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    community_path = "enrolment__course_class__course__term__community__"

    class Meta:
        ordering = ["date", "enrolment"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            # Also the index of one person's meetings (the per-person rate).
            models.UniqueConstraint(
                fields=["enrolment", "date"], name="courses_attendance_one_per_meeting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.date:%Y-%m-%d}"


class RosterRead(
    pghistory.create_event_model(
        CourseClass,
        pghistory.ManualEvent("roster_read"),
        # Which class's roster, with full mobile numbers, was downloaded; the staff member and
        # the page are in the context (given by courses.desk.roster), the moment in the event.
        fields=["id"],
        obj_field=pghistory.ObjForeignKey(related_name="roster_reads"),
        append_only=True,
        model_name="RosterReadBase",
        app_label="courses",
        meta={"verbose_name": _("roster read"), "verbose_name_plural": _("roster reads")},
    )
):
    """The audit trail of staff reading a class's roster (PIPL: who saw whose numbers)."""
