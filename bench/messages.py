"""Messages benchmark (notices/): how fast the outbox takes messages, how fast workers deliver them,
and what telling someone costs the change that tells them.

    make bench                       # or: python bench/messages.py [--messages 2000]

Prints messages written to the outbox per second (``outbox.tell`` in its own transaction per
message, and in batches of 50); messages delivered per second through the real Alibaba Cloud
adapter to the local fake provider (tests/fake_sms.py) by 1 and by 2 worker processes
(``manage.py work``), with the provider answering at once and in 0.1 s (about Alibaba Cloud's
own time); and seats handed over per second by ``courses.enrolment.cancel`` (the first
person waiting takes the seat and is told) with the outbox and without it (``telling.seat_given``
made a no-op, in this process), their ratio, and whether the outbox keeps that path within 10 %
of its speed without it. Not a test: it reports.

Works on the database DATABASE_URL names: it adds bench residents and classes to 林园社区's demo
term, and deletes them, their messages and their jobs afterwards. The delivery part is skipped
when the database holds undelivered messages of its own (the bench's workers would send them to
the fake provider). No other worker should run on the database meanwhile (``make run``'s would
share the queue and the numbers).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# load sets Django up, with the project first on the path: ``notices`` is the app, not this file.
import load
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from courses import enrolment, telling
from courses.models import CourseClass, Enrolment, Term
from facilities.models import Facility
from notices.models import Kind, Notice
from notices.outbox import Message, tell
from notices.tasks import deliver
from residents.models import Resident
from tests import fake_sms

PY = sys.executable
PREFIX = "nbench"
TARGET = 0.10  # the outbox may slow the change that tells by at most this much


def people(n: int) -> list[int]:
    """``n`` bench residents (made here, deleted by ``clean``); their user ids."""
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"{PREFIX}{i}", password="!") for i in range(n))
    Resident.objects.bulk_create(
        Resident(user=u, name=f"消息基准{i}", phone=f"1350000{i:04d}", birth_year=1958)
        for i, u in enumerate(users)
    )
    return [u.pk for u in users]


def messages(user_ids: list[int], n: int, run: str) -> list[Message]:
    return [
        Message(
            user_ids[i % len(user_ids)],
            Kind.SEAT,
            f"{PREFIX}:{run}:{i}",
            "/me/",
            {"course": "摄影", "when": "周二 09:00"},
        )
        for i in range(n)
    ]


def enqueue_rate(user_ids: list[int], n: int, batch: int) -> float:
    """Messages written per second, ``batch`` to a transaction."""
    todo = messages(user_ids, n, f"enqueue-{batch}")
    began = time.perf_counter()
    for i in range(0, n, batch):
        with transaction.atomic():
            tell(todo[i : i + batch])
    return n / (time.perf_counter() - began)


def start_workers(n: int, sms: fake_sms.FakeSms, tag: str, log) -> list[subprocess.Popen]:
    env = os.environ | {
        "NOTICES_SMS": "aliyun",
        "ALIYUN_SMS_ENDPOINT": sms.url,
        "ALIYUN_ACCESS_KEY_ID": fake_sms.KEY_ID,
        "ALIYUN_ACCESS_KEY_SECRET": fake_sms.KEY_SECRET,
        "NOTICES_DIGEST_HOUR": "24",  # no staff digest written by the bench's workers
        "LOG_LEVEL": "WARNING",
    }
    return [
        subprocess.Popen(
            [PY, "manage.py", "work", "--interval", "0.1", "--worker-id", f"{PREFIX}-{tag}-{i}"],
            cwd=load.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]


def stop(workers: list[subprocess.Popen]) -> None:
    for process in workers:
        process.terminate()
    for process in workers:
        process.wait(timeout=30)


def pending(ids) -> int:
    return Notice.objects.filter(pk__in=ids).exclude(status=Notice.Status.SENT).count()


def wait_sent(ids, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while pending(ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending(ids)} messages not delivered after {seconds} s")
        time.sleep(0.02)


def delivery_rate(user_ids: list[int], n: int, workers: int, sms: fake_sms.FakeSms) -> float:
    """Messages delivered per second by ``workers`` processes, already running when the
    messages (one transaction) arrive."""
    with tempfile.TemporaryFile() as log:
        processes = start_workers(workers, sms, str(workers), log)
        try:
            with transaction.atomic():
                warm = tell(messages(user_ids, workers * 2, f"warm-{workers}-{sms.delay}"))
            wait_sent(warm, 60)
            before = len(sms.inbox)
            with transaction.atomic():
                ids = tell(messages(user_ids, n, f"deliver-{workers}-{sms.delay}"))
            began = time.perf_counter()
            wait_sent(ids)
            took = time.perf_counter() - began
        except BaseException:
            log.seek(0)
            print(log.read().decode()[-3000:], file=sys.stderr)
            raise
        finally:
            stop(processes)
    assert len(sms.inbox) - before == n, "a message was delivered twice or not at all"
    return n / took


def seats_class(term: Term, venue: Facility, user_ids: list[int], seats: int) -> CourseClass:
    """A class whose ``seats`` seats are all taken, with as many people waiting."""
    course_class = CourseClass.objects.create(
        course=term.courses.first(),
        level="消息基准",
        weekday=6,
        starts_at=clock(19),
        ends_at=clock(20),
        first_date=term.starts_on,
        last_date=term.starts_on + timedelta(weeks=10),
        facility=venue,
        capacity=seats,
        enrolled_count=seats,
    )
    now = timezone.now()
    Enrolment.objects.bulk_create(
        Enrolment(
            course_class=course_class,
            user_id=uid,
            status=Enrolment.Status.ENROLLED if i < seats else Enrolment.Status.WAITLISTED,
            enrolled_at=now if i < seats else None,
        )
        for i, uid in enumerate(user_ids[: 2 * seats])
    )
    return course_class


def hand_over_rate(course_class: CourseClass) -> tuple[float, int]:
    """Seats given up per second, each going to the first person waiting; and the queries one
    such hand-over makes (the first, counted apart from the timed ones)."""
    seated = list(course_class.enrolments.filter(status=Enrolment.Status.ENROLLED).order_by("pk"))
    with CaptureQueriesContext(connection) as queries:
        assert enrolment.cancel(seated.pop(0)) is not None
    began = time.perf_counter()
    for row in seated:
        assert enrolment.cancel(row) is not None
    return len(seated) / (time.perf_counter() - began), len(queries)


def clean(user_ids: list[int]) -> None:
    ids = list(Notice.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))
    DBTaskResult.objects.filter(
        task_path=deliver.module_path, args_kwargs__args__0__in=ids
    ).delete()
    CourseClass.objects.filter(level="消息基准").delete()
    get_user_model().objects.filter(pk__in=user_ids).delete()  # their notices go with them


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--deliver", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load.prepare(city=False)
    get_user_model().objects.filter(username__startswith=PREFIX).delete()  # an interrupted run
    CourseClass.objects.filter(level="消息基准").delete()
    user_ids = people(max(200, 2 * args.seats))
    try:
        print(f"outbox ({args.messages} messages to {len(user_ids)} residents):")
        for batch in (1, 50):
            rate = enqueue_rate(user_ids, args.messages, batch)
            print(f"  {rate:7.0f} messages written per second, {batch} to a transaction")
        # Those are not for delivery.
        written = Notice.objects.filter(user_id__in=user_ids)
        DBTaskResult.objects.filter(
            task_path=deliver.module_path,
            args_kwargs__args__0__in=list(written.values_list("pk", flat=True)),
        ).delete()
        written.delete()

        others = Notice.objects.filter(status__in=[Notice.Status.PENDING, Notice.Status.SENDING])
        if others.exists():
            print(
                f"delivery: skipped, {others.count()} undelivered messages of this database's "
                "own would go to the fake provider"
            )
        else:
            for delay, n in ((0.0, args.deliver), (0.1, args.deliver // 5)):
                answering = f"in {delay} s" if delay else "at once"
                print(f"delivery ({n} messages, the fake provider answering {answering}):")
                with fake_sms.FakeSms(delay=delay) as sms:
                    for workers in (1, 2):
                        rate = delivery_rate(user_ids, n, workers, sms)
                        print(f"  {rate:7.0f} messages delivered per second by {workers} worker(s)")
                    assert len({r.out_id for r in sms.inbox}) == len(sms.inbox)

        term = Term.objects.filter(community__name="林园社区").order_by("-registration_opens")[0]
        venue = Facility.objects.filter(community=term.community, status="open").first()
        real_seat_given = telling.seat_given
        rates: dict[str, list[float]] = {"with": [], "without": []}
        queries = {}
        for _ in range(args.rounds):
            for mode in ("with", "without"):
                telling.seat_given = real_seat_given if mode == "with" else lambda *a: None
                course_class = seats_class(term, venue, user_ids, args.seats)
                try:
                    rate, queries[mode] = hand_over_rate(course_class)
                    rates[mode].append(rate)
                finally:
                    telling.seat_given = real_seat_given
        told = Notice.objects.filter(user_id__in=user_ids, key__startswith="seat:").count()
        assert told == args.rounds * args.seats, told
        with_, without = statistics.median(rates["with"]), statistics.median(rates["without"])
        ratio = with_ / without
        print(
            f"seats handed over by courses.enrolment.cancel ({args.rounds} rounds of "
            f"{args.seats}, medians):"
        )
        print(
            f"  {with_:7.0f} per second with the outbox (one message each; "
            f"{queries['with']} queries a hand-over)"
        )
        print(f"  {without:7.0f} per second without it ({queries['without']} queries)")
        print(
            f"  ratio {ratio:.2f}: the outbox costs {(1 - ratio) * 100:.0f} % of the path's "
            f"speed; target at most {TARGET * 100:.0f} %: "
            f"{'holds' if ratio >= 1 - TARGET else 'does not hold'}"
        )
    finally:
        clean(user_ids)


if __name__ == "__main__":
    main()
