"""Writing messages: ``tell`` is called inside the transaction of the change it tells of (a seat
handed over, a draw, a class cancelled, a reply to a wish), so a message exists exactly when its
change committed, and is enqueued for the workers in that same transaction and statement (the
task's job is a row of the same database).

Each message has a key naming its event and person ("seat:<enrolment>:<time>"): the outbox holds
one row per key, so a change told twice (a retried request, two workers writing the digest)
still makes one message.

What the change writes is only the event: who, what kind, and its values (names, a weekday, a
time, the link). How the person is told — by SMS, by email or not at all, in which language, in
what words — is decided by the worker when it comes to send (notices.delivery.decide), from the
person's choices as they are then. So the change pays one statement whatever the message (the
insert of the message and its job together, ``write``; measured in bench/messages.py), and a
person who turns messages off before one goes out is not sent it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notices.models import Notice


@dataclass(frozen=True)
class Message:
    """One message to write: for whom, about what, and the values its text is filled with (plain
    JSON values; a class's time as ``weekday`` and ``starts``, worded in the person's language
    when it is sent)."""

    user_id: int
    kind: str
    key: str
    path: str
    params: dict = field(default_factory=dict)
    community_id: int | None = None


def _prepared(instance, fields) -> list:
    """The database values of ``instance``'s ``fields``, as Django's own insert prepares them."""
    return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def write(rows: list[Notice], task) -> list[int]:
    """Insert ``rows``, leaving out any whose key the outbox holds already, and a delivery job of
    ``task`` for each row written; the ids of the rows written. One statement:

        WITH written AS (INSERT INTO <outbox> … ON CONFLICT (key) DO NOTHING RETURNING id, key),
             queued AS (INSERT INTO <jobs> SELECT … FROM written JOIN (VALUES …) USING (key))
        SELECT id FROM written

    The job row is the one django-tasks-db's ``enqueue`` would save (its model's fields and
    defaults, the values its backend sets), with the message's id as the task's argument: written
    together, the change pays one round trip for its message instead of two, and saves Django's
    model-save path for the job (bench/messages.py measures it). ``task_enqueued`` is not sent
    for these jobs (nothing here listens to it). tests/notices/test_outbox.py holds the job equal
    to ``enqueue``'s, column by column, so that a new django-tasks-db cannot drift from it.
    """
    from django_tasks_db.backend import normalize_json
    from django_tasks_db.models import DBTaskResult

    assert task.run_after is not None, "a job of the outbox is due at a time"
    backend = task.get_backend()
    backend.validate_task(task)
    ops = connection.ops
    notice_fields = [f for f in Notice._meta.concrete_fields if not f.primary_key]
    job_fields = [f for f in DBTaskResult._meta.concrete_fields if not f.primary_key]
    # What django_tasks_db's backend sets (DatabaseBackend._task_to_db_task); its model's
    # defaults (status, enqueued_at, …) do the rest. Argument 0 becomes each message's id. The
    # task has its time (``tell`` gives it one), so the model's pre_save has nothing to add.
    job = DBTaskResult(
        args_kwargs=normalize_json({"args": [0], "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )

    def columns(fields):
        return ", ".join(ops.quote_name(f.column) for f in fields)

    def placeholders(n):
        return f"({', '.join(['%s'] * n)})"

    one_job = {f.column: "%s" for f in job_fields}
    one_job["args_kwargs"] = "jsonb_set(%s::jsonb, '{args,0}', to_jsonb(written.id))"
    key = ops.quote_name("key")
    notice_values = ", ".join([placeholders(len(notice_fields))] * len(rows))
    job_ids = ", ".join(["(%s, %s::uuid)"] * len(rows))
    sql = (
        f"WITH written AS (INSERT INTO {ops.quote_name(Notice._meta.db_table)} "
        f"({columns(notice_fields)}) VALUES {notice_values} "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING id, {key}), "
        f"job_ids ({key}, id) AS (VALUES {job_ids}), "
        f"queued AS (INSERT INTO {ops.quote_name(DBTaskResult._meta.db_table)} "
        f"(id, {columns(job_fields)}) SELECT job_ids.id, {', '.join(one_job.values())} "
        f"FROM written JOIN job_ids USING ({key})) "
        "SELECT id FROM written"
    )
    params = [value for row in rows for value in _prepared(row, notice_fields)]
    for row in rows:
        params += [row.key, str(backend._get_id())]
    params += _prepared(job, job_fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def tell(messages: Iterable[Message]) -> list[int]:
    """Write ``messages`` to the outbox and enqueue their delivery, in the caller's transaction
    (one statement for one message or a batch); the ids of the messages written. A key already
    in the outbox, or named twice in ``messages``, adds nothing more; with ``NOTICES_OUTBOX``
    off, nothing is written at all."""
    if not settings.NOTICES_OUTBOX:
        return []
    from notices.tasks import deliver

    now = timezone.now()
    by_key: dict[str, Message] = {}
    for m in messages:
        by_key.setdefault(m.key[:120], m)
    rows = [
        Notice(
            key=key,
            kind=m.kind,
            user_id=m.user_id,
            community_id=m.community_id,
            params={**m.params, "link": settings.PORTAL_URL + m.path},
            next_attempt_at=now,
        )
        for key, m in by_key.items()
    ]
    if not rows:
        return []
    # Due now, so that new messages queue in the order written among retries that are due (a job
    # without a time would wait behind every one of them).
    with transaction.atomic(savepoint=False):
        return write(rows, deliver.using(run_after=now))
