"""load_demo's courses: the seed classes in a term open around today, a full class with people
waiting, demo residents; loading again changes nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from courses import lottery
from courses.models import CourseClass, Enrolment, Term
from residents.models import Resident


@pytest.mark.django_db
def test_the_demo_term_is_open_today_with_a_full_class_and_people_waiting():
    call_command("load_demo", "--no-streets", verbosity=0)

    now = timezone.now()
    terms = Term.objects.exclude(community__name="天元社区")
    assert {t.community.name for t in terms} == {"林园社区", "安东社区", "大学城社区"}
    assert all(t.registration_opens <= now < t.registration_closes for t in terms)
    assert all(t.priority_opens < t.registration_opens for t in terms)
    photography = CourseClass.objects.get(course__name="摄影", level="初级")
    assert (photography.capacity, photography.enrolled_count) == (6, 5)
    assert photography.facility.community.name == "林园社区"
    video = CourseClass.objects.get(course__name="视频剪辑")
    assert (video.capacity, video.enrolled_count) == (4, 4)
    assert video.enrolments.filter(status="waitlisted").count() == 2
    levels = set(CourseClass.objects.filter(course__name="吉他").values_list("level", flat=True))
    assert levels == {"初级", "中级"}
    assert Resident.objects.filter(phone="13800000001", name="张桂兰").exists()

    # 天元社区's window has closed and its lottery class has been drawn: five for three seats.
    calligraphy = CourseClass.objects.get(course__name="书法")
    assert calligraphy.course.term.registration_closes < now
    assert calligraphy.by_lottery and lottery.verify(calligraphy.draw)
    # Committed before registration opened, revealed by the draw.
    commitment = calligraphy.commitment
    assert commitment.committed_at < calligraphy.course.term.first_opening
    assert calligraphy.draw.committed and calligraphy.draw.commitment == commitment.digest
    assert lottery.verify(calligraphy.draw, commitment)
    assert (len(calligraphy.draw.applications), calligraphy.draw.seats) == (5, 3)
    assert calligraphy.enrolments.filter(status="waitlisted").count() == 2

    counts = (CourseClass.objects.count(), Enrolment.objects.count(), Resident.objects.count())
    call_command("load_demo", "--no-streets", verbosity=0)
    assert calligraphy.draw.seed == CourseClass.objects.get(pk=calligraphy.pk).draw.seed
    assert CourseClass.objects.get(pk=calligraphy.pk).commitment.digest == commitment.digest
    assert counts == (
        CourseClass.objects.count(),
        Enrolment.objects.count(),
        Resident.objects.count(),
    )


@pytest.mark.django_db
def test_without_accounts_no_resident_is_made():
    call_command("load_demo", "--no-accounts", "--no-streets", verbosity=0)
    assert CourseClass.objects.exists()
    assert not Resident.objects.exists() and not Enrolment.objects.exists()


@pytest.mark.django_db
def test_the_demo_has_wishes_with_support_and_replies():
    from wishes.models import Wish

    call_command("load_demo", "--no-streets", verbosity=0)
    photography = Wish.objects.get(title="摄影进阶班")
    assert (photography.support_count, photography.supports.count()) == (4, 4)
    assert photography.status == "planned" and photography.reply
    assert photography.replied_by.username == "staff-linyuan"
    count = Wish.objects.count()
    assert count == 5
    call_command("load_demo", "--no-streets", verbosity=0)
    assert Wish.objects.count() == count
