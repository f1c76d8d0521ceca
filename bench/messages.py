"""Messages benchmark (notices/): how fast the outbox takes messages, how fast workers deliver them,
and what telling someone costs the change that tells them.

    make bench                       # or: python bench/messages.py [--messages 2000]

Prints messages written to the outbox per second (``outbox.tell`` in its own transaction per
message, and in batches of 50); messages delivered per second through the real Alibaba Cloud
adapter to the local fake provider (tests/fake_sms.py) by 1 and by 2 worker processes
(``manage.py work``), with the provider answering at once and in 0.1 s (about Alibaba Cloud's
own time); and seats handed over (the first person waiting takes the freed seat and is told)
with the outbox and without it (``NOTICES_OUTBOX`` off: ``tell`` writes nothing), measured twice:

- in-process, the function alone: ``courses.enrolment.cancel`` called in a loop, the outbox on
  for one hand-over and off for the next (the setting overridden around each call), so that both
  halves meet the same tables and the same moments of the machine; seats per second from the
  median hand-over of each;
- through the server, as a resident's cancel request: the production server as ``make serve``
  starts it (granian, 2 processes, DEBUG off; bench/load.py's ``start``), each seated resident
  POSTing the confirmation of /me/enrolments/<pk>/cancel/ once with their own session and CSRF
  token, from ``--clients`` concurrent clients (4, against one class: the hand-overs queue on its
  lock; one TCP connection a request; ``--clients 1`` sends them one after another): requests
  per second and p50 / p90 latency. The server is restarted for each half, with the setting,
  and the first ``--warm`` requests of each half are not timed.

Each is repeated ``--rounds`` times (a new class each; through the server, with and without
alternating, the order flipping each round); it prints the medians, their ratio, and whether the
outbox keeps the path within 10 % of its speed without it. Not a test: it reports.

Works on the database DATABASE_URL names: it adds bench residents and classes to 林园社区's demo
term, and deletes them, their sessions, their messages and their jobs afterwards. Before the
delivery part, the database's own undelivered messages (the demo's draw results, say) are
delivered once by the console channel into /dev/null (``manage.py work --batch``), so that the
bench's workers find only the bench's messages; the bench says how many. It is for a demo or
scratch database: on one with real messages waiting, those would be lost. No other worker should
run on the database meanwhile (``make run``'s would share the queue and the numbers), and no
other server on bench/load.py's port.
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import time as clock
from datetime import timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

# load sets Django up, with the project first on the path: ``notices`` is the app, not this file.
import load
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from courses import enrolment
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


def undelivered():
    return Notice.objects.filter(status__in=[Notice.Status.PENDING, Notice.Status.SENDING])


def deliver_theirs() -> int:
    """Deliver the database's own undelivered messages (none of the bench's exist yet) by the
    console channel into /dev/null, as ``make run``'s worker would write them to its output, so
    that the bench's workers find only the bench's; how many there were."""
    n = undelivered().count()
    if n:
        subprocess.run(
            [PY, "manage.py", "work", "--batch"],
            cwd=load.ROOT,
            env=os.environ
            | {
                "NOTICES_SMS": "console",
                "NOTICES_EMAIL": "console",
                "NOTICES_CONSOLE_FILE": os.devnull,
                "NOTICES_DIGEST_HOUR": "24",  # no staff digest written
                "LOG_LEVEL": "WARNING",
            },
            check=True,
        )
    return n


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


def hand_over_times(course_class: CourseClass) -> tuple[dict[bool, list[float]], dict[bool, int]]:
    """Each seated person of ``course_class`` gives up their seat, which goes to the first person
    waiting: the seconds of each hand-over, with the outbox and without it taking turns one
    hand-over at a time (so both see the same tables, caches and machine), and the queries of
    one hand-over each way (the first two, counted apart from the timed ones)."""
    seated = list(course_class.enrolments.filter(status=Enrolment.Status.ENROLLED).order_by("pk"))
    times: dict[bool, list[float]] = {True: [], False: []}
    queries = {}
    for i, row in enumerate(seated):
        outbox = i % 2 == 0
        with override_settings(NOTICES_OUTBOX=outbox):
            if outbox not in queries:
                with CaptureQueriesContext(connection) as captured:
                    assert enrolment.cancel(row) is not None
                queries[outbox] = len(captured)
                continue
            began = time.perf_counter()
            assert enrolment.cancel(row) is not None
            times[outbox].append(time.perf_counter() - began)
    return times, queries


def serve(outbox: bool) -> subprocess.Popen:
    """The production server as ``make serve`` starts it (bench/load.py's ``start``: granian, 2
    processes, DEBUG off), writing messages or not; allowances off, as every request comes from
    one address."""
    with socket.socket() as probe:
        if probe.connect_ex((load.HOST, load.PORT)) == 0:
            raise SystemExit(f"something already listens on {load.BASE}: another bench's server?")
    env = {"NOTICES_OUTBOX": str(outbox).lower(), "ALLOWANCES": "false", "LOG_LEVEL": "WARNING"}
    with mock.patch.dict(os.environ, env):
        return load.start("granian")


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect after the POST is the answer (an HTTPError here)


def cancel_requests(course_class: CourseClass, sessions: list[str]) -> list[urllib.request.Request]:
    """Each seated resident's POST of the confirmation of their own cancel page, signed in by a
    session of their own (its key added to ``sessions``) and carrying a CSRF token."""
    seated = course_class.enrolments.filter(status=Enrolment.Status.ENROLLED).select_related("user")
    requests = []
    for row in seated.order_by("pk"):
        sessions.append(load.session_for(row.user))
        token = secrets.token_hex(16)
        url = load.BASE + reverse("me:cancel", args=[row.pk])
        cookies = (
            f"{settings.SESSION_COOKIE_NAME}={sessions[-1]}; {settings.CSRF_COOKIE_NAME}={token}"
        )
        requests.append(
            urllib.request.Request(
                url,
                data=urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
                headers={"Cookie": cookies, "Referer": url},
            )
        )
    return requests


def post_all(requests: list[urllib.request.Request], clients: int) -> tuple[float, list[float]]:
    """Send each request once from ``clients`` concurrent clients; requests per second and each
    one's seconds. Every answer must be the redirect back to /me/."""
    opener = urllib.request.build_opener(Stay)
    answers: list[str] = [""] * len(requests)
    took = [0.0] * len(requests)

    def send(i: int) -> None:
        began = time.perf_counter()
        try:
            with opener.open(requests[i], timeout=60) as response:
                answers[i] = str(response.status)
        except urllib.error.HTTPError as error:
            answers[i] = f"{error.code} {error.headers.get('Location', '')}"
            error.close()
        took[i] = time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, range(len(requests))))
    elapsed = time.perf_counter() - began
    wrong = {a for a in answers if a != f"302 {reverse('me:home')}"}
    assert not wrong, f"answers other than the redirect to /me/: {wrong}"
    return len(requests) / elapsed, took


def served_hand_overs(
    course_class: CourseClass, outbox: bool, warm: int, clients: int, sessions: list[str]
) -> tuple[float, float, float]:
    """Requests per second and p50 / p90 latency (seconds) of the seated residents' cancel
    requests (after the first ``warm``, untimed), through a server started for them."""
    requests = cancel_requests(course_class, sessions)
    server = serve(outbox)
    try:
        post_all(requests[:warm], clients)
        rate, took = post_all(requests[warm:], clients)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = course_class.enrolments
    assert not rows.filter(status=Enrolment.Status.WAITLISTED).exists(), "a seat not handed over"
    assert rows.filter(status=Enrolment.Status.ENROLLED).count() == len(requests)
    return rate, statistics.median(took), statistics.quantiles(took, n=10)[-1]


def clean(user_ids: list[int], sessions: list[str]) -> None:
    for key in sessions:
        load.end_session(key)
    ids = list(Notice.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))
    DBTaskResult.objects.filter(
        task_path=deliver.module_path, args_kwargs__args__0__in=ids
    ).delete()
    CourseClass.objects.filter(level="消息基准").delete()
    get_user_model().objects.filter(pk__in=user_ids).delete()  # their notices go with them


def told(user_ids: list[int]) -> int:
    return Notice.objects.filter(user_id__in=user_ids, key__startswith="seat:").count()


def each(rates) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)


def verdict(ratio: float) -> str:
    holds = "holds" if ratio >= 1 - TARGET else "does not hold"
    return (
        f"ratio {ratio:.3f}: the outbox costs {(1 - ratio) * 100:.1f} % of the path's speed; "
        f"target at most {TARGET * 100:.0f} %: {holds}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--deliver", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4, help="concurrent cancel requests")
    parser.add_argument("--warm", type=int, default=20, help="untimed requests a server start")
    args = parser.parse_args()
    load.prepare(city=False)
    get_user_model().objects.filter(username__startswith=PREFIX).delete()  # an interrupted run
    CourseClass.objects.filter(level="消息基准").delete()
    user_ids = people(max(200, 2 * (args.seats + args.warm)))
    sessions: list[str] = []
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

        theirs = deliver_theirs()
        if theirs:
            print(
                f"delivery: first the database's own {theirs} undelivered messages, by the console "
                "channel into /dev/null"
            )
        if undelivered().exists():
            print(
                f"delivery: skipped, {undelivered().count()} undelivered messages of this "
                "database's own are not due yet: the bench's workers would send them later"
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

        # In-process, the function alone.
        times: dict[bool, list[float]] = {True: [], False: []}
        for _round in range(args.rounds):
            course_class = seats_class(term, venue, user_ids, args.seats)
            taken, queries = hand_over_times(course_class)
            for outbox in (True, False):
                times[outbox] += taken[outbox]
        assert told(user_ids) == args.rounds * ((args.seats + 1) // 2), told(user_ids)
        with_, without = (1 / statistics.median(times[outbox]) for outbox in (True, False))
        print(
            "seats handed over in-process, the function alone (courses.enrolment.cancel; "
            f"{args.rounds} classes of {args.seats} seats, the outbox on and off in turn, one "
            "hand-over each; per second from the median hand-over):"
        )
        halves = ((True, with_, "with the outbox"), (False, without, "without it"))
        for outbox, rate, label in halves:
            p90 = statistics.quantiles(times[outbox], n=10)[-1]
            print(
                f"  {rate:7.0f} per second {label} ({queries[outbox]} queries a hand-over; "
                f"{len(times[outbox])} timed, p90 {p90 * 1000:.1f} ms)"
            )
        print(f"  {verdict(with_ / without)}")

        # Through the server, as a resident's cancel request.
        results: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
        for round_ in range(args.rounds):
            for outbox in (True, False) if round_ % 2 == 0 else (False, True):
                course_class = seats_class(term, venue, user_ids, args.seats + args.warm)
                before = told(user_ids)
                results[outbox].append(
                    served_hand_overs(course_class, outbox, args.warm, args.clients, sessions)
                )
                written = told(user_ids) - before
                assert written == (args.seats + args.warm if outbox else 0), written
        print(
            "seats handed over through the server, as a resident's cancel request (POST "
            f"/me/enrolments/<pk>/cancel/, granian 2 processes, DEBUG off, {args.clients} "
            f"concurrent clients; {args.rounds} rounds of {args.seats} after {args.warm} untimed, "
            "medians):"
        )
        medians = {}
        for outbox, label in ((True, "with the outbox"), (False, "without it")):
            rows = results[outbox]
            medians[outbox] = [statistics.median(r[i] for r in rows) for i in range(3)]
            rate, p50, p90 = medians[outbox]
            print(
                f"  {rate:7.0f} requests per second {label}, latency p50 {p50 * 1000:.1f} ms, "
                f"p90 {p90 * 1000:.1f} ms; rounds: {each(r[0] for r in rows)}"
            )
        print(f"  {verdict(medians[True][0] / medians[False][0])}")
        print(
            f"  latency with / without: p50 {medians[True][1] / medians[False][1]:.2f}, "
            f"p90 {medians[True][2] / medians[False][2]:.2f}"
        )
    finally:
        clean(user_ids, sessions)


if __name__ == "__main__":
    main()
