"""Shared pieces of the message tests: the fake SMS provider wired into settings, and running the
workers' queue to the end (``drain``)."""

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tests import fake_sms
from tests.courses.conftest import _categories, photography, term  # noqa: F401


@pytest.fixture
def sms(settings):
    """The real Alibaba Cloud adapter, talking to the local fake provider."""
    with fake_sms.FakeSms() as fake:
        settings.NOTICES_SMS = "aliyun"
        settings.ALIYUN_SMS_ENDPOINT = fake.url
        settings.ALIYUN_ACCESS_KEY_ID = fake_sms.KEY_ID
        settings.ALIYUN_ACCESS_KEY_SECRET = fake_sms.KEY_SECRET
        settings.NOTICES_TIMEOUT_SECONDS = 2
        yield fake


def drain() -> int:
    """Run the jobs due now, in this process and the test's transaction, as a worker
    does (``manage.py work`` itself runs in the fault tests, in processes of its own); how many."""
    worker = Worker(
        queue_names=["notices"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    due = DBTaskResult.objects.ready().filter(queue_name="notices").order_by("enqueued_at")
    rows = list(due)  # the jobs due now; the retries they enqueue wait for the next call
    for row in rows:
        row.claim("test")
        worker.run_task(row)
    return len(rows)
