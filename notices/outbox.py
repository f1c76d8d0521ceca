"""Writing messages: ``tell`` is called inside the transaction of the change it tells of (a seat
handed over, a draw, a class cancelled, a reply to a wish), so a message exists exactly when its
change committed, and is enqueued for the workers in that same transaction (the task's job is a
row of the same database).

Each message has a key naming its event and person ("seat:<enrolment>:<time>"): the outbox holds
one row per key, so a change told twice (a retried request, two workers writing the digest)
still makes one message.

What the change writes is only the event: who, what kind, and its values (names, a weekday, a
time, the link). How the person is told — by SMS, by email or not at all, in which language, in
what words — is decided by the worker when it comes to send (notices.delivery.decide), from the
person's choices as they are then. So the change pays two statements whatever the message (the
insert and its job; measured in bench/messages.py), and a person who turns messages off before
one goes out is not sent it.
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


def insert_new(rows: list[Notice]) -> list[int]:
    """Insert ``rows``, leaving out any whose key the outbox holds already; the ids of those
    written (one statement: INSERT … ON CONFLICT (key) DO NOTHING RETURNING id)."""
    fields = [f for f in Notice._meta.concrete_fields if not f.primary_key]
    values = [
        [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields] for row in rows
    ]
    table = connection.ops.quote_name(Notice._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one_row = f"({', '.join(['%s'] * len(fields))})"
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * len(rows))} "
        f"ON CONFLICT ({connection.ops.quote_name('key')}) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for row in values for v in row])
        return [pk for (pk,) in cursor.fetchall()]


def tell(messages: Iterable[Message]) -> list[int]:
    """Write ``messages`` to the outbox and enqueue their delivery, in the caller's transaction
    (two statements for one message or a batch); the ids of the messages written. A key already
    in the outbox adds nothing; with ``NOTICES_OUTBOX`` off, nothing is written at all."""
    if not settings.NOTICES_OUTBOX:
        return []
    from notices.tasks import deliver

    now = timezone.now()
    rows = [
        Notice(
            key=m.key[:120],
            kind=m.kind,
            user_id=m.user_id,
            community_id=m.community_id,
            params={**m.params, "link": settings.PORTAL_URL + m.path},
            next_attempt_at=now,
        )
        for m in messages
    ]
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        ids = insert_new(rows)
        # Due now, so that new messages queue in the order written among retries that are due
        # (a job without a time would wait behind every one of them).
        for pk in ids:
            deliver.using(run_after=now).enqueue(pk)
    return ids
