"""Delivery through real faults: the workers are real processes (``manage.py work``) on the test
database, the SMS adapter talks HTTP to the local fake provider, and the faults are real: the
provider down for a whole minute while messages keep coming, and workers killed (SIGKILL) in the
middle of a provider call. Every message must arrive exactly once: one SendSms accepted per
message (OutId ``ccp-<pk>``), none lost, none twice.

Each resident gets one message, so a QuerySendDetails answered with a row (the fake's ``found``)
is a message found at the provider instead of being sent again.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from notices.models import Kind, Notice
from notices.outbox import Message, tell
from residents.models import Resident
from tests import fake_sms
from tests.portal.test_two_servers import _database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.fault]

ROOT = Path(settings.BASE_DIR)
# Small timings, so a minute's outage and a few lost leases fit in a test run.
TIMINGS = {
    "NOTICES_RETRY_BASE_SECONDS": "1",
    "NOTICES_RETRY_MAX_SECONDS": "8",
    "NOTICES_LEASE_SECONDS": "3",
    "NOTICES_SWEEP_SECONDS": "1",
    "NOTICES_MAX_ATTEMPTS": "30",
    "NOTICES_TIMEOUT_SECONDS": "1",  # two calls fit in the lease (notices.E001)
    "NOTICES_DIGEST_HOUR": "24",  # no staff digest: the counts are of the test's messages alone
}
OUTAGE_SECONDS = 60


class Workers:
    """``manage.py work`` processes on the test database, sending through ``sms``."""

    def __init__(self, sms: fake_sms.FakeSms, logs: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DEBUG"}} | {
            "DATABASE_URL": _database_url(),
            "NOTICES_SMS": "aliyun",
            "ALIYUN_SMS_ENDPOINT": sms.url,
            "ALIYUN_ACCESS_KEY_ID": fake_sms.KEY_ID,
            "ALIYUN_ACCESS_KEY_SECRET": fake_sms.KEY_SECRET,
            "LOG_LEVEL": "ERROR",
            **TIMINGS,
        }
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}
        self.started = 0

    def start(self) -> str:
        self.started += 1
        name = f"w{self.started}"
        self.running[name] = subprocess.Popen(
            [sys.executable, "manage.py", "work", "--interval", "0.1", "--worker-id", name],
            cwd=ROOT,
            env=self.env,
            stdout=(self.logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        return name

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()

    def alive(self) -> None:
        for name, process in self.running.items():
            log = (self.logs / f"{name}.log").read_text()[-3000:]
            assert process.poll() is None, f"worker {name} exited:\n{log}"


@pytest.fixture
def sms():
    with fake_sms.FakeSms() as fake:
        yield fake


@pytest.fixture
def workers(transactional_db, sms, tmp_path):
    running = Workers(sms, tmp_path)
    yield running
    running.stop()  # before the test database is emptied under them


def people(n: int) -> list[int]:
    """``n`` residents with mobile numbers of their own; their user ids."""
    User = get_user_model()
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(username=f"fault{start + i}", password="!") for i in range(n)
    )
    Resident.objects.bulk_create(
        Resident(user=u, name="居民", phone=f"1370{start + i:07d}", birth_year=1958)
        for i, u in enumerate(users)
    )
    return [u.pk for u in users]


def write(user_ids) -> list[int]:
    """One seat message to each of ``user_ids``, in a transaction of its own (as a change would
    write it); the messages' ids."""
    ids = []
    for uid in user_ids:
        with transaction.atomic():
            ids += tell(
                [
                    Message(
                        uid,
                        Kind.SEAT,
                        f"fault:{uid}",
                        "/me/",
                        {"course": "摄影", "when": "周二 09:00"},
                    )
                ]
            )
    return ids


def wait_until(done, seconds: float, workers: Workers, what: str) -> float:
    """Seconds until ``done()`` held; fails after ``seconds``."""
    start = time.monotonic()
    while not done():
        workers.alive()
        assert time.monotonic() - start < seconds, f"not {what} after {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - start


def all_sent() -> bool:
    return not Notice.objects.exclude(status=Notice.Status.SENT).exists()


def assert_each_delivered_once(sms: fake_sms.FakeSms, ids: list[int]) -> None:
    """One message accepted by the provider per notice, its number kept on the notice; no
    notice failed, no job crashed."""
    received = Counter(r.out_id for r in sms.inbox)
    twice = {out_id: n for out_id, n in received.items() if n > 1}
    assert not twice, f"sent more than once: {twice}"
    assert set(received) == {f"ccp-{pk}" for pk in ids}, "lost or unknown messages"
    assert len(sms.inbox) == len(ids) == Notice.objects.count()
    biz = {r.out_id: r.biz_id for r in sms.inbox}
    for pk, provider_id in Notice.objects.values_list("pk", "provider_id"):
        assert provider_id == biz[f"ccp-{pk}"]
    assert not Notice.objects.exclude(status=Notice.Status.SENT).exists()
    assert not DBTaskResult.objects.filter(status="FAILED").exists()


def attempts() -> dict[int, int]:
    counts = Counter(Notice.objects.values_list("attempts", flat=True))
    return dict(sorted(counts.items()))


def test_a_minute_of_provider_outage_under_load_delivers_every_message_once(sms, workers):
    users = people(20 + 6 * OUTAGE_SECONDS)
    workers.start()
    workers.start()
    ids = write(users[:20])
    wait_until(all_sent, 30, workers, "delivered before the outage")

    sms.mode = "outage"
    began = time.monotonic()
    during = users[20:]
    per_second = len(during) // OUTAGE_SECONDS
    for second in range(OUTAGE_SECONDS):
        ids += write(during[second * per_second : (second + 1) * per_second])
        time.sleep(max(0.0, began + second + 1 - time.monotonic()))
        workers.alive()
    outage = time.monotonic() - began
    refused = sms.refused
    assert len(sms.inbox) == 20 and refused > len(during)  # each was refused, most many times
    sms.mode = "ok"
    recovered = wait_until(all_sent, 60, workers, "all delivered after the outage")
    time.sleep(2 * int(TIMINGS["NOTICES_SWEEP_SECONDS"]) + 1)  # a late job would send again

    assert_each_delivered_once(sms, ids)
    # Each waits at most the back-off cap, then the workers go through them.
    assert recovered <= int(TIMINGS["NOTICES_RETRY_MAX_SECONDS"]) + 20
    assert sms.queries == 0  # a refusal is an answer: nothing to ask the provider about
    print(
        f"\noutage: {len(ids)} messages ({len(during)} written during {outage:.0f} s of HTTP 500, "
        f"2 workers); {refused} SendSms refused during the outage; all delivered "
        f"{recovered:.1f} s after recovery; {len(sms.inbox)} accepted, none twice; "
        f"attempts per message {attempts()}"
    )


def test_workers_killed_mid_call_leave_no_message_lost_or_sent_twice(sms, workers):
    sms.delay = 0.08  # each accepted SendSms answers this late: a kill lands mid-call
    ids = write(people(300))
    first = workers.start()
    kills = []

    def kill_mid_call(victim: str, after: int) -> None:
        """Once ``after`` messages are in, kill ``victim`` while a SendSms is accepted and not
        yet answered."""
        wait_until(lambda: len(sms.inbox) >= after and sms.busy, 60, workers, "sending")
        workers.kill(victim)
        kills.append(len(sms.inbox))

    began = time.monotonic()
    # Alone, the first worker is the one inside the call: its message is at the provider, its
    # attempt never recorded.
    kill_mid_call(first, 30)
    second, third = workers.start(), workers.start()
    kill_mid_call(second, 120)
    workers.start()
    kill_mid_call(third, 200)
    workers.start()
    last_kill = time.monotonic()
    wait_until(all_sent, 60, workers, "all delivered after the kills")
    rest = time.monotonic() - last_kill
    time.sleep(2 * int(TIMINGS["NOTICES_SWEEP_SECONDS"]) + 1)  # a late job would send again

    assert_each_delivered_once(sms, ids)
    assert set(sms.sends.values()) == {1}  # never a second SendSms for a message
    # At least the first kill's message was found at the provider, not sent again.
    assert sms.found >= 1
    retaken = Notice.objects.filter(attempts__gt=1).count()
    assert retaken >= sms.found
    # The killed workers' jobs stay "running" in the queue's table: the sweep, not the job,
    # brought their messages back.
    orphans = DBTaskResult.objects.filter(status="RUNNING").count()
    print(
        f"\nkill: {len(ids)} messages, SendSms answering in {sms.delay} s; 3 workers killed "
        f"with SIGKILL mid-call (after {kills} accepted), 3 started in their place; the rest "
        f"delivered {rest:.1f} s after the last kill ({last_kill - began + rest:.1f} s in all); "
        f"{retaken} messages taken again after a lost lease, {sms.queries} asked of the "
        f"provider, {sms.found} found already sent; {len(sms.inbox)} accepted, none twice; "
        f"attempts per message {attempts()}; {orphans} jobs of the killed workers left running"
    )
