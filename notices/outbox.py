"""Writing messages: ``tell`` is called inside the transaction of the change it tells of (a seat
handed over, a draw, a class cancelled, a reply to a wish), so a message exists exactly when its
change committed, and is enqueued for the workers in that same transaction (the task's job is a
row of the same database).

Each message has a key naming its event and person ("seat:<enrolment>:<time>"): the outbox holds
one row per key, so a change told twice (a retried request, two workers writing the digest)
still makes one message.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation

from notices import kinds
from notices.models import Channel, Choice, Kind, Notice
from residents.models import Resident


@dataclass(frozen=True)
class Message:
    """One message to write: for whom, about what, and the values its text is filled with."""

    user_id: int
    kind: str
    key: str
    path: str
    params: dict = field(default_factory=dict)
    community_id: int | None = None


def choices_of(user_ids: Iterable[int]) -> dict[int, Choice]:
    """Each person's choices, their defaults where they made none (one query)."""
    ids = set(user_ids)
    found = {c.user_id: c for c in Choice.objects.filter(user_id__in=ids)}
    return {uid: found.get(uid) or Choice(user_id=uid) for uid in ids}


def reachable(user_ids: Iterable[int]) -> tuple[set[int], set[int]]:
    """Who has a mobile number (a resident profile) and who an email address (one query each)."""
    ids = set(user_ids)
    phones = set(Resident.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
    emails = set(
        get_user_model().objects.filter(pk__in=ids).exclude(email="").values_list("pk", flat=True)
    )
    return phones, emails


def tell(messages: Iterable[Message]) -> list[int]:
    """Write ``messages`` to the outbox and enqueue their delivery, in the caller's transaction;
    the ids of the messages written. A person who chose not to hear of a topic, or whom no
    channel they chose can reach, gets nothing; a key already in the outbox adds nothing."""
    messages = list(messages)
    if not messages:
        return []
    from notices.tasks import deliver

    users = {m.user_id for m in messages}
    choices = choices_of(users)
    phones, emails = reachable(users)
    now = timezone.now()
    rows = []
    for message in messages:
        choice = choices[message.user_id]
        channel = choice.channel_for(kinds.TOPIC[message.kind])
        if channel == Channel.SMS and message.user_id not in phones:
            channel = Channel.EMAIL if message.user_id in emails else Channel.OFF
        if channel == Channel.EMAIL and message.user_id not in emails:
            channel = Channel.OFF
        if channel == Channel.OFF:
            continue
        # Values such as a day's name are worded in the person's language too.
        with translation.override(choice.language):
            filled = kinds.values(message.kind, message.params, settings.PORTAL_URL + message.path)
        rows.append(
            Notice(
                key=message.key[:120],
                kind=message.kind,
                user_id=message.user_id,
                community_id=message.community_id,
                channel=channel,
                language=choice.language,
                text=kinds.render(message.kind, filled, choice.language),
                params=filled,
                next_attempt_at=now,
            )
        )
    if not rows:
        return []
    with transaction.atomic():
        Notice.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this call wrote are still without an attempt and this new.
        ids = list(
            Notice.objects.filter(
                key__in=[r.key for r in rows], attempts=0, status=Notice.Status.PENDING
            ).values_list("pk", flat=True)
        )
        for pk in ids:
            deliver.enqueue(pk)
    return ids


def one(user_id: int, kind: Kind, key: str, path: str, community_id=None, **params) -> list[int]:
    """``tell`` for one message."""
    return tell([Message(user_id, kind, key, path, params, community_id)])
