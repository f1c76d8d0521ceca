"""``manage.py work``: a worker. It runs the queue's jobs (django-tasks-db's worker, each job taken
with SKIP LOCKED, so any number of workers on any number of machines share the queue) and, beside
them, every ``NOTICES_SWEEP_SECONDS``, the sweep (what a lost worker left, notices.delivery) and
the staff's daily digest (notices.digest). ``make run`` and ``make serve`` start one.

    manage.py work                 # until stopped (SIGTERM lets the running job finish)
    manage.py work --batch         # sweep once, run what is due, then exit
"""

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from notices import delivery, digest

log = logging.getLogger(__name__)


def tend(stop: threading.Event, every: float) -> None:
    """The sweep and the digest, until ``stop`` is set."""
    while not stop.wait(every):
        close_old_connections()
        try:
            swept = delivery.sweep()
            written = digest.send_due()
        except Exception:  # a database away for a moment: try again next round
            log.exception("sweep failed")
            continue
        finally:
            connection.close()
        if swept or written:
            log.info("swept %s messages, wrote %s digests", swept, written)


class Command(BaseCommand):
    help = "Deliver messages: run the queue's jobs, the sweep and the daily digest."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="Seconds between looks at an empty queue."
        )
        parser.add_argument("--worker-id", default="", help="Unique among the workers.")

    def handle(self, *args, batch=False, interval=0.5, worker_id="", **options):
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        worker = Worker(
            queue_names=["notices"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id or get_random_string(32),
            excluded_queue_names=[],
        )
        if batch:
            delivery.sweep()
            digest.send_due()
            worker.run()
            return
        stop = threading.Event()
        tender = threading.Thread(
            target=tend, args=(stop, settings.NOTICES_SWEEP_SECONDS), daemon=True
        )
        tender.start()
        worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
