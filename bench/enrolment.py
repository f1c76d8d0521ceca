"""Enrolment under contention: 200 residents press "Confirm" at once for a 30-seat class, each on
their own HTTP connection to the production server (bench/load.py's, DEBUG off), and the bench
prints enrolments per second, latency, and checks the outcome (30 seats, 170 waiting, nobody
twice, no error). The same scene as tests/courses/test_contention.py, timed.

    make bench                       # or: python bench/enrolment.py [--people 200] [--seats 30]

Works on the database DATABASE_URL names: it adds a class to 林园社区's demo term and 200 bench
residents (kept for the next run), and deletes the class afterwards.
"""

import argparse
import secrets
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import time as clock
from datetime import timedelta
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
)

from courses.models import CourseClass, Term
from facilities.models import Facility
from residents.models import Resident


def people(n: int) -> list:
    User = get_user_model()
    users = []
    for i in range(n):
        phone = f"1330000{i:04d}"
        user, _ = User.objects.get_or_create(username=phone)
        Resident.objects.get_or_create(
            user=user, defaults={"name": f"基准{i}", "phone": phone, "birth_year": 1958}
        )
        users.append(user)
    return users


def session_for(user) -> str:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seats", type=int, default=30)
    parser.add_argument("--server", choices=load.SERVERS, default="granian")
    args = parser.parse_args()
    load.prepare(city=False)
    term = Term.objects.filter(community__name="林园社区").order_by("-registration_opens").first()
    venue = Facility.objects.filter(community=term.community, status="open").first()
    course = term.courses.first()
    seats = CourseClass.objects.create(
        course=course,
        level="基准测试",
        weekday=6,
        starts_at=clock(19),
        ends_at=clock(20),
        first_date=term.starts_on,
        last_date=term.starts_on + timedelta(weeks=10),
        facility=venue,
        capacity=args.seats,
    )
    users = people(args.people)
    sessions = [session_for(u) for u in users]
    url = f"{load.BASE}/courses/classes/{seats.pk}/enrol/"
    opener = urllib.request.build_opener(Stay)
    barrier = threading.Barrier(args.people + 1)
    status, took = [0] * args.people, [0.0] * args.people

    def confirm(i: int) -> None:
        token = secrets.token_hex(16)
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode({"csrfmiddlewaretoken": token}).encode(),
            headers={"Cookie": f"sessionid={sessions[i]}; csrftoken={token}", "Referer": url},
        )
        barrier.wait()
        began = time.perf_counter()
        try:
            with opener.open(request, timeout=120) as response:
                status[i] = response.status
        except urllib.error.HTTPError as error:
            status[i] = error.code
        took[i] = time.perf_counter() - began

    process = load.start(args.server)
    try:
        threads = [threading.Thread(target=confirm, args=(i,)) for i in range(args.people)]
        for t in threads:
            t.start()
        barrier.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    finally:
        process.terminate()
        process.wait(timeout=10)
    rows = list(seats.enrolments.order_by("id").values_list("user_id", "status"))
    enrolled = sum(s == "enrolled" for _, s in rows)
    waiting = sum(s == "waitlisted" for _, s in rows)
    print(
        f"{args.people} people at once for {args.seats} seats ({args.server}): "
        f"{len(rows) / elapsed:.0f} enrolments per second ({elapsed:.2f} s in all); "
        f"latency p50 {statistics.median(took) * 1000:.0f} ms, "
        f"max {max(took) * 1000:.0f} ms"
    )
    print(
        f"  {enrolled} enrolled, {waiting} waiting, {len({u for u, _ in rows})} people, "
        f"answers: {sorted(set(status))}"
    )
    assert enrolled == args.seats and waiting == args.people - args.seats
    assert set(status) == {302}
    seats.delete()


if __name__ == "__main__":
    main()
