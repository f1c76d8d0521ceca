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
  for one hand-over and off for the next (the setting switched between calls), so that both
  halves meet the same tables and the same moments of the machine; seats per second from the
  median hand-over of each;
- through the server, as a resident's cancel request: two production servers as ``make serve``
  starts one (granian, 2 processes, DEBUG off; bench/load.py's ``start``) run at once on the same
  database, one writing messages and one not (ports 8100 and 8101), each with a class of its own
  (the hand-overs queue on its lock); each seated resident POSTs the confirmation of
  /me/enrolments/<pk>/cancel/ once with their own session and CSRF token, the requests taking
  turns between the two servers, from ``--clients`` concurrent clients (4; one TCP connection a
  request), so that both servers meet the same machine at the same moments; the median and p90
  time of a request to each, their speeds compared as the inverse of the medians. The first
  ``--warm`` requests of each server in a round are not timed.

Each is repeated ``--rounds`` times (new classes each time); it prints the medians, their ratio,
and whether the outbox keeps the path within 10 % of its speed without it. Not a test: it reports.

Works on the database DATABASE_URL names: it adds bench residents and classes to 林园社区's demo
term, and deletes them, their sessions, their messages and their jobs afterwards. Before the
delivery part, the database's own undelivered messages (the demo's draw results, say) are
delivered once by the console channel into /dev/null (``manage.py work --batch``), so that the
bench's workers find only the bench's messages; the bench says how many. It is for a demo or
scratch database: on one with real messages waiting, those would be lost. No other worker should
run on the database meanwhile (``make run``'s would share the queue and the numbers), and no
other server on bench/load.py's port or the one after it.
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
from django.test.utils import CaptureQueriesContext
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
    # The setting itself is switched, not overridden: override_settings' signal would empty
    # caches (translations, templates …) before every hand-over, timing their refilling too.
    was = settings.NOTICES_OUTBOX
    try:
        for i, row in enumerate(seated):
            outbox = settings.NOTICES_OUTBOX = i % 2 == 0
            if outbox not in queries:
                with CaptureQueriesContext(connection) as captured:
                    assert enrolment.cancel(row) is not None
                queries[outbox] = len(captured)
                continue
            began = time.perf_counter()
            assert enrolment.cancel(row) is not None
            times[outbox].append(time.perf_counter() - began)
    finally:
        settings.NOTICES_OUTBOX = was
    return times, queries


PORTS = {True: load.PORT, False: load.PORT + 1}  # the server writing messages, and the other


def serve(outbox: bool) -> subprocess.Popen:
    """The production server as ``make serve`` starts it (bench/load.py's ``start``: granian, 2
    processes, DEBUG off), writing messages or not, on a port of its own; allowances off, as
    every request comes from one address."""
    port = PORTS[outbox]
    with socket.socket() as probe:
        if probe.connect_ex((load.HOST, port)) == 0:
            raise SystemExit(f"something already listens on port {port}: another bench's server?")
    env = {"NOTICES_OUTBOX": str(outbox).lower(), "ALLOWANCES": "false", "LOG_LEVEL": "WARNING"}
    with mock.patch.dict(os.environ, env):
        return load.start("granian", port=port)


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect after the POST is the answer (an HTTPError here)


def cancel_requests(
    course_class: CourseClass, sessions: list[str], port: int
) -> list[urllib.request.Request]:
    """Each seated resident's POST of the confirmation of their own cancel page, to the server on
    ``port``, signed in by a session of their own (its key added to ``sessions``) and carrying a
    CSRF token."""
    seated = course_class.enrolments.filter(status=Enrolment.Status.ENROLLED).select_related("user")
    requests = []
    for row in seated.order_by("pk"):
        sessions.append(load.session_for(row.user))
        token = secrets.token_hex(16)
        url = f"http://{load.HOST}:{port}" + reverse("me:cancel", args=[row.pk])
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


def post_all(requests: list[urllib.request.Request], clients: int) -> list[float]:
    """Send each request once from ``clients`` concurrent clients; each one's seconds. Every
    answer must be the redirect back to /me/."""
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

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, range(len(requests))))
    wrong = {a for a in answers if a != f"302 {reverse('me:home')}"}
    assert not wrong, f"answers other than the redirect to /me/: {wrong}"
    return took


def served_hand_overs(
    classes: dict[bool, CourseClass], warm: int, clients: int, sessions: list[str]
) -> dict[bool, list[float]]:
    """The seconds of the seated residents' cancel requests of ``classes[True]`` to the server
    writing messages and of ``classes[False]`` to the other, both servers running at once and the
    requests taking turns between them (after the first ``warm`` of each, untimed), so that both
    meet the same machine at the same moments; each class queues on its own lock."""
    requests = {
        outbox: cancel_requests(course_class, sessions, PORTS[outbox])
        for outbox, course_class in classes.items()
    }
    in_turn = [
        (outbox, request)
        for pair in zip(requests[True], requests[False], strict=True)
        for outbox, request in zip((True, False), pair, strict=True)
    ]
    post_all([r for _outbox, r in in_turn[: 2 * warm]], clients)
    timed = in_turn[2 * warm :]
    took = post_all([r for _outbox, r in timed], clients)
    for course_class in classes.values():
        rows = course_class.enrolments
        assert not rows.filter(status=Enrolment.Status.WAITLISTED).exists(), "a seat not given"
    return {
        outbox: [t for (o, _r), t in zip(timed, took, strict=True) if o == outbox]
        for outbox in classes
    }


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


def verdict(ratio: float) -> str:
    holds = "holds" if ratio >= 1 - TARGET else "does not hold"
    return (
        f"ratio {ratio:.3f}: the outbox costs {(1 - ratio) * 100:.1f} % of the path's speed; "
        f"target at most {TARGET * 100:.0f} %: {holds}"
    )


def written_and_delivered(args, user_ids: list[int]) -> None:
    """Messages written to the outbox per second, then delivered per second by workers."""
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--deliver", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4, help="concurrent cancel requests")
    parser.add_argument("--warm", type=int, default=20, help="untimed requests a round")
    parser.add_argument(
        "--hand-overs-only", action="store_true", help="only what telling costs a hand-over"
    )
    args = parser.parse_args()
    load.prepare(city=False)
    get_user_model().objects.filter(username__startswith=PREFIX).delete()  # an interrupted run
    CourseClass.objects.filter(level="消息基准").delete()
    user_ids = people(max(200, 4 * (args.seats + args.warm)))
    sessions: list[str] = []
    try:
        if not args.hand_overs_only:
            written_and_delivered(args, user_ids)
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
        times = {True: [], False: []}
        servers = [serve(True), serve(False)]
        try:
            for _round in range(args.rounds):
                before = told(user_ids)
                n = args.seats + args.warm
                classes = {  # people of their own in each
                    outbox: seats_class(term, venue, user_ids[i * 2 * n :], n)
                    for i, outbox in enumerate((True, False))
                }
                taken = served_hand_overs(classes, args.warm, args.clients, sessions)
                for outbox in (True, False):
                    times[outbox] += taken[outbox]
                written = told(user_ids) - before
                assert written == args.seats + args.warm, written
                CourseClass.objects.filter(pk__in=[c.pk for c in classes.values()]).delete()
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
        print(
            "seats handed over through the server, as a resident's cancel request (POST "
            f"/me/enrolments/<pk>/cancel/; two servers at once, granian 2 processes each, DEBUG "
            f"off, one writing messages and one not, each with a class of its own; {args.clients}"
            f" concurrent clients, the requests taking turns between the servers; {args.rounds} "
            f"rounds of {args.seats} each after {args.warm} untimed):"
        )
        medians = {}
        for outbox, label in ((True, "with the outbox"), (False, "without it")):
            medians[outbox] = statistics.median(times[outbox])
            p90 = statistics.quantiles(times[outbox], n=10)[-1]
            print(
                f"  a request takes {medians[outbox] * 1000:5.1f} ms {label} (median; p90 "
                f"{p90 * 1000:.1f} ms; {len(times[outbox])} timed)"
            )
        # Speed is the inverse of the time a request takes.
        print(f"  {verdict(medians[False] / medians[True])}")
    finally:
        clean(user_ids, sessions)


if __name__ == "__main__":
    main()
