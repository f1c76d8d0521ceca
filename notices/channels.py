"""The ways a message reaches a person, behind one interface: ``send`` tries once and says how
it went (``Outcome``), ``find`` asks whether an earlier attempt whose answer never came back went
out after all (so a retry never sends twice).

- ``AliyunSms``: Alibaba Cloud's SMS service over its HTTP API (the RPC style, signed with
  HMAC-SHA1), configured by environment variables (README "Messages");
- ``Email``: Django's email settings;
- ``Console``: a line per message in a file, or the worker's output, for development.

``for_channel`` picks by settings: ``NOTICES_SMS`` and ``NOTICES_EMAIL``.
"""

import base64
import fcntl
import hashlib
import hmac
import json
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import mail
from django.utils import timezone

from notices.models import Channel
from residents.models import mask


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: ``sent`` (with the provider's number), ``retry`` (a passing fault:
    throttled, the provider down) or ``failed`` (it never will: a bad number). ``unsure`` when the
    request may have reached the provider without its answer reaching us."""

    state: str
    provider_id: str = ""
    error: str = ""
    unsure: bool = False


def sent(provider_id: str = "") -> Outcome:
    return Outcome("sent", provider_id=provider_id)


def retry(error: str, unsure: bool = False) -> Outcome:
    return Outcome("retry", error=error[:200], unsure=unsure)


def failed(error: str) -> Outcome:
    return Outcome("failed", error=error[:200])


class Base:
    def send(self, notice, address: str) -> Outcome:
        raise NotImplementedError

    def find(self, notice, address: str) -> str | None:
        """The provider's number of ``notice`` if it went out, else None."""
        return None


def out_id(notice) -> str:
    """The message's own number, given to the provider with every attempt."""
    return f"ccp-{notice.pk}"


# --- Alibaba Cloud SMS ------------------------------------------------------------------------

# The provider's answers that mean "later": its rate limits, a day's quota, its own faults.
PASSING = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "Throttling.User",
    "isp.SYSTEM_ERROR",
    "isp.RAM_PERMISSION_DENY",
    "isv.AMOUNT_NOT_ENOUGH",
    "ServiceUnavailable",
}


def percent(text: str) -> str:
    """The API's percent-encoding: RFC 3986, spaces as %20, ``~`` kept."""
    return urllib.parse.quote(str(text), safe="~")


def signature(params: dict, secret: str, method: str = "POST") -> str:
    """The request's signature (Alibaba Cloud's RPC signature, version 1.0)."""
    canonical = "&".join(f"{percent(k)}={percent(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{percent('/')}&{percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def refusal_code(error: urllib.error.HTTPError) -> str:
    """The provider's code in the body of an error answer ("SignatureDoesNotMatch")."""
    try:
        return str(json.loads(error.read() or b"{}").get("Code", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def template_codes() -> dict[str, str]:
    """``ALIYUN_SMS_TEMPLATES`` ("seat.zh-hans=SMS_1,seat.en=SMS_2") as a mapping."""
    pairs = [p.split("=", 1) for p in settings.ALIYUN_SMS_TEMPLATES.split(",") if "=" in p]
    return {name.strip(): code.strip() for name, code in pairs}


def template_code(kind: str, language: str) -> str:
    """The approved template of ``kind`` in ``language``; without one configured, its default
    code (``CCP_SEAT_ZH``)."""
    default = f"CCP_{kind.upper()}_{'ZH' if language.startswith('zh') else 'EN'}"
    return template_codes().get(f"{kind}.{language}", default)


class AliyunSms(Base):
    VERSION = "2017-05-25"
    PAGE = 50  # the most QuerySendDetails lists at once

    def call(self, action: str, params: dict) -> dict:
        """One signed request; the provider's JSON answer. Raises ``urllib.error.HTTPError`` for
        an HTTP error status and ``OSError`` when no answer came."""
        common = {
            "AccessKeyId": settings.ALIYUN_ACCESS_KEY_ID,
            "Action": action,
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.VERSION,
            **params,
        }
        common["Signature"] = signature(common, settings.ALIYUN_ACCESS_KEY_SECRET)
        request = urllib.request.Request(
            settings.ALIYUN_SMS_ENDPOINT,
            data=urllib.parse.urlencode(common).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=settings.NOTICES_TIMEOUT_SECONDS) as answer:
            return json.load(answer)

    def send(self, notice, address: str) -> Outcome:
        values = dict(notice.params)
        try:
            answer = self.call(
                "SendSms",
                {
                    "PhoneNumbers": address,
                    "SignName": settings.ALIYUN_SMS_SIGN_NAME,
                    "TemplateCode": template_code(notice.kind, notice.language),
                    "TemplateParam": json.dumps(values, ensure_ascii=False),
                    "OutId": out_id(notice),
                },
            )
        except urllib.error.HTTPError as error:
            # An error status is an answer: the provider did not take the message. Its own
            # faults pass; a request it refuses (a bad signature or key) will not succeed again.
            if error.code >= 500:
                return retry(f"HTTP {error.code}")
            code = refusal_code(error)
            return retry(code) if code in PASSING else failed(code or f"HTTP {error.code}")
        except (OSError, ValueError) as error:
            # No answer (a timeout, a reset connection): it may have gone out.
            return retry(f"{type(error).__name__}: {error}", unsure=True)
        code = answer.get("Code", "")
        if code == "OK":
            return sent(answer.get("BizId", ""))
        message = f"{code}: {answer.get('Message', '')}"
        return retry(message) if code in PASSING else failed(message)

    def find(self, notice, address: str) -> str | None:
        """The provider lists what it sent by the day it sent it (its own time), 50 to a page,
        for 30 days: an earlier attempt may have gone out after the day the message was written
        (a retry after midnight), so every day since then is asked, today first, every page."""
        today = timezone.localdate()
        day = today
        first = max(timezone.localtime(notice.created_at).date(), today - timedelta(days=29))
        while day >= first:
            page = 1
            while True:
                rows, total = self.sent_on(address, day, page)
                for row in rows:
                    if row.get("OutId") == out_id(notice):
                        return row.get("BizId") or out_id(notice)
                if not rows or page * self.PAGE >= total:
                    break
                page += 1
            day -= timedelta(days=1)
        return None

    def sent_on(self, address: str, day, page: int) -> tuple[list[dict], int]:
        """One page of what the provider sent to ``address`` on ``day``, and how many in all."""
        try:
            answer = self.call(
                "QuerySendDetails",
                {
                    "PhoneNumber": address,
                    "SendDate": f"{day:%Y%m%d}",
                    "PageSize": str(self.PAGE),
                    "CurrentPage": str(page),
                },
            )
        except (OSError, ValueError):
            raise LookupError("the provider could not be asked") from None
        if answer.get("Code") != "OK":
            raise LookupError(answer.get("Code", "no code"))
        rows = answer.get("SmsSendDetailDTOs", {}).get("SmsSendDetailDTO", [])
        try:
            total = int(answer.get("TotalCount") or 0)
        except ValueError:
            total = 0
        return rows, total


# --- Email and the console ---------------------------------------------------------------------


class Email(Base):
    def send(self, notice, address: str) -> Outcome:
        first_line = notice.text.split("。")[0].split(". ")[0][:60]
        message = mail.EmailMessage(
            subject=first_line,
            body=notice.text,
            to=[address],
            # The same event keeps one Message-ID, so a mail client shows a resent copy as one.
            headers={"Message-ID": f"<{out_id(notice)}@{socket.getfqdn()}>"},
        )
        try:
            message.send(using="default")
        except (OSError, mail.BadHeaderError) as error:
            return retry(f"{type(error).__name__}: {error}", unsure=True)
        return sent(out_id(notice))


class Console(Base):
    """One line per message: ``<id>\\t<channel>\\t<masked address>\\t<text>``."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def line(self, notice, address: str) -> str:
        shown = mask(address) if address.isdigit() else address
        return f"{out_id(notice)}\t{self.channel}\t{shown}\t{notice.text}\n"

    def send(self, notice, address: str) -> Outcome:
        path = settings.NOTICES_CONSOLE_FILE
        if not path:
            sys.stdout.write(self.line(notice, address))
            sys.stdout.flush()
            return sent(out_id(notice))
        with open(path, "a", encoding="utf-8") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            out.write(self.line(notice, address))
        return sent(out_id(notice))

    def find(self, notice, address: str) -> str | None:
        path = settings.NOTICES_CONSOLE_FILE
        if not path:
            return None
        try:
            with open(path, encoding="utf-8") as lines:
                mark = f"{out_id(notice)}\t"
                return out_id(notice) if any(line.startswith(mark) for line in lines) else None
        except FileNotFoundError:
            return None


def for_channel(channel: str) -> Base:
    if channel == Channel.SMS:
        return AliyunSms() if settings.NOTICES_SMS == "aliyun" else Console("sms")
    return Email() if settings.NOTICES_EMAIL == "smtp" else Console("email")
