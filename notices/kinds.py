"""What each kind of message says, which topic a person chooses it under, and how it is worded.

Each kind has one text per language, with named values (``%(course)s``): the same text an SMS
provider approves as a template (Alibaba Cloud's ``${course}``), filled with the same values, so
what the person reads and what the outbox shows are one. A text fits one SMS segment (70 Chinese
characters with the provider's 【signature】) for ordinary names: long names are cut to
``VALUE_LIMIT`` characters. Every text to a resident ends with how to stop them (README
"Messages").
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from notices.models import Kind, Topic

# The signature the provider puts first (【完整社区】): counted in the segment.
SIGNATURE_CHARS = len(settings.ALIYUN_SMS_SIGN_NAME) + 2
SEGMENT = 70
VALUE_LIMIT = 12

TOPIC = {
    Kind.SEAT: Topic.SEATS,
    Kind.DRAW_WON: Topic.SEATS,
    Kind.DRAW_WAIT: Topic.SEATS,
    Kind.CLASS_CANCELLED: Topic.CLASSES,
    Kind.CLASS_CHANGED: Topic.CLASSES,
    Kind.VENUE_CLOSED: Topic.CLASSES,
    Kind.WISH_REPLY: Topic.WISHES,
    Kind.DIGEST: Topic.DIGEST,
}

STOP = _("Reply T to stop")

TEXTS = {
    Kind.SEAT: _("You have a seat: %(course)s, %(when)s. %(link)s"),
    Kind.DRAW_WON: _("Draw result: you have a seat in %(course)s, %(when)s. %(link)s"),
    Kind.DRAW_WAIT: _(
        "Draw result: %(course)s is full; you are number %(place)s on the waiting list. %(link)s"
    ),
    Kind.CLASS_CANCELLED: _(
        "%(course)s (%(when)s) is cancelled; your place is withdrawn. %(link)s"
    ),
    Kind.CLASS_CHANGED: _("%(course)s now meets %(when)s at %(place)s. %(link)s"),
    Kind.VENUE_CLOSED: _("%(place)s is closed for a while: check %(course)s. %(link)s"),
    Kind.WISH_REPLY: _("The community replied to your wish “%(title)s”. %(link)s"),
    Kind.DIGEST: _(
        "%(community)s, last day: %(wishes)s new wishes, %(enrolled)s enrolled, "
        "%(waiting)s waiting. %(link)s"
    ),
}


# Short day names keep a message within one SMS segment (周三, not 星期三).
SHORT_DAYS = (
    pgettext_lazy("short weekday", "Mon"),
    pgettext_lazy("short weekday", "Tue"),
    pgettext_lazy("short weekday", "Wed"),
    pgettext_lazy("short weekday", "Thu"),
    pgettext_lazy("short weekday", "Fri"),
    pgettext_lazy("short weekday", "Sat"),
    pgettext_lazy("short weekday", "Sun"),
)


def clipped(value) -> str:
    text = str(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def values(params: dict, language: str) -> dict:
    """The template's values in ``language``, from the event's: a class's ``weekday`` and
    ``starts`` become ``when`` ("周三 09:00"), names are cut to fit one segment, the link is kept
    whole."""
    with translation.override(language):
        filled = {
            name: clipped(value)
            for name, value in params.items()
            if name not in ("weekday", "starts", "link")
        }
        if "weekday" in params:
            filled["when"] = f"{SHORT_DAYS[int(params['weekday'])]} {params.get('starts', '')}"
    filled["link"] = params.get("link", "")
    return filled


def render(kind: str, filled: dict, language: str) -> str:
    """The text the person reads, in ``language``: the kind's text with its values, then how to
    stop (residents' messages; staff's digest is part of their work)."""
    with translation.override(language):
        text = str(TEXTS[kind]) % filled
        if kind != Kind.DIGEST:
            text = f"{text} {STOP}"
    return text


def fits_one_segment(text: str) -> bool:
    return SIGNATURE_CHARS + len(text) <= SEGMENT
