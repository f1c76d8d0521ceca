"""The lottery (摇号) of a class whose seats are drawn: commit, then reveal, one draw when
registration has closed.

1. **Commit.** When a lottery class is made (or becomes one before anyone applied), ``commit``
   draws a random secret and publishes its SHA-256 (the *commitment*) on the class's pages at
   once, before registration opens. The database keeps the commitment as it was made
   (``courses.DrawCommitment``'s triggers refuse UPDATE and DELETE), and no page, export, API or
   audit trail shows the secret until the draw.
2. **Apply.** Until the window closes, applying records an application (``Enrolment.Status.
   APPLIED``) whatever the seats, so an early click is worth no more than a late one.
3. **Reveal and draw.** ``draw`` mixes the secret with the closed list of applications: the seed
   is the SHA-256 of "<secret>:<application numbers, ascending, joined by commas>", and each
   number is ranked by the SHA-256 of "<seed>:<number>" in hexadecimal, smallest first. The first
   ones take the free seats, the others wait in the draw's order, and a seat freed later goes to
   the first of them (``courses.enrolment.cancel`` follows ``Enrolment.QUEUE``).

Nobody could steer it: whoever made the secret could not know the applications to come, and
whoever applies cannot know the secret, which was fixed before. Anyone can check a draw from its
page (``verify`` does the same): the revealed secret hashes to the commitment published before
registration opened, the seed follows from the secret and the numbers, the order from the seed.
A class that somehow has no commitment gets one at the draw, and its page says it came late.
Draws made before commitments only have a seed, chosen at the draw: their order can be checked,
not the seed.

``manage.py draw_lots`` draws every class whose window has closed (run it from a timer); staff
can also draw a closed class from the admin.
"""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses import enrolment, telling
from courses.models import CourseClass, Draw, DrawCommitment, Enrolment
from portal import caching

Status = Enrolment.Status


class NotYet(Exception):
    """Registration is still open: nobody may draw before everyone could apply."""


def sha256(text: str) -> str:
    """The SHA-256 of ``text``'s UTF-8 bytes in lowercase hexadecimal (what ``sha256sum``
    prints for ``printf '%s' TEXT``)."""
    return hashlib.sha256(text.encode()).hexdigest()


def commit(course_class: CourseClass, now: datetime | None = None) -> DrawCommitment:
    """``course_class``'s commitment: the one it has, or a new random secret, committed ``now``.

    Called whenever a lottery class is saved (``CourseClass.save``) and by ``draw``; a
    commitment once made is never replaced."""
    secret = secrets.token_hex(32)
    made, _created = DrawCommitment.objects.get_or_create(
        course_class=course_class,
        defaults={
            "secret": secret,
            "digest": sha256(secret),
            "committed_at": now or timezone.now(),
        },
    )
    return made


def seed_text(secret: str, numbers) -> str:
    """The text whose SHA-256 is the seed: the secret, a colon, and the application numbers in
    ascending order joined by commas."""
    return f"{secret}:{','.join(str(n) for n in sorted(numbers))}"


def seed_of(secret: str, numbers) -> str:
    return sha256(seed_text(secret, numbers))


def rank(seed: str, numbers) -> list[int]:
    """The application numbers in the draw's order for ``seed``."""
    return sorted(numbers, key=lambda n: sha256(f"{seed}:{n}"))


def verify(draw: Draw, commitment: DrawCommitment | None = None) -> bool:
    """Whether the draw is what its commitment, secret and applications give: the secret hashes
    to the commitment (and to the one the class published, ``commitment``, when given), the
    seed follows from the secret and the numbers, the order from the seed. A draw made before
    commitments can only be checked for its order."""
    order = list(draw.applications)
    if rank(draw.seed, order) != order:
        return False
    if not draw.committed:
        return True
    published = commitment.digest if commitment is not None else draw.commitment
    return sha256(draw.secret) == draw.commitment == published and draw.seed == seed_of(
        draw.secret, order
    )


def due(now: datetime | None = None):
    """Lottery classes whose registration has closed and that have no draw yet."""
    return CourseClass.objects.filter(
        allocation=CourseClass.Allocation.LOTTERY,
        course__term__registration_closes__lte=now or timezone.now(),
        draw__isnull=True,
    )


def draw(course_class: CourseClass, *, now: datetime | None = None) -> Draw:
    """Draw ``course_class``'s seats once; a second call returns the first draw unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            CourseClass.objects.select_for_update(of=("self",))
            .select_related("course__term", "facility")
            .get(pk=course_class.pk)
        )
        if not locked.by_lottery:
            raise ValueError(f"{locked} gives its seats to the first who apply")
        existing = Draw.objects.filter(course_class=locked).first()
        if existing:
            return existing
        if now < locked.course.term.registration_closes:
            raise NotYet(_("Registration for this class is still open: the draw comes after."))
        # A class without one commits now, at the draw: its page shows the commitment as late.
        commitment = commit(locked, now=now)
        numbers = list(
            Enrolment.objects.select_for_update()
            .filter(course_class=locked, status=Status.APPLIED)
            .order_by("id")
            .values_list("id", flat=True)
        )
        seed = seed_of(commitment.secret, numbers)
        order = rank(seed, numbers)
        free = max(locked.capacity - locked.enrolled_count, 0)
        winners = order[:free]
        rows = Enrolment.objects.in_bulk(order)
        for place, number in enumerate(order, start=1):
            row = rows[number]
            row.draw_rank = place
            if place <= free:
                row.status, row.enrolled_at = Status.ENROLLED, now
            else:
                row.status = Status.WAITLISTED
        Enrolment.objects.bulk_update(rows.values(), ["draw_rank", "status", "enrolled_at"])
        enrolment.seats_moved(locked.course.slug)
        enrolment.person_moved(*(row.user_id for row in rows.values()))
        # The draw page, cached for visitors, shows the result at once.
        transaction.on_commit(caching.bump_content)
        if winners:
            CourseClass.objects.filter(pk=locked.pk).update(
                enrolled_count=F("enrolled_count") + len(winners)
            )
        # Each applicant hears their result once, with the draw (notices.outbox).
        telling.drawn(rows.values(), locked, free)
        return Draw.objects.create(
            course_class=locked,
            seed=seed,
            secret=commitment.secret,
            commitment=commitment.digest,
            drawn_at=now,
            seats=len(winners),
            applications=order,
        )


def draw_due(now: datetime | None = None) -> list[Draw]:
    """Draw every class that is due; each in its own transaction."""
    now = now or timezone.now()
    return [draw(course_class, now=now) for course_class in due(now).order_by("pk")]
