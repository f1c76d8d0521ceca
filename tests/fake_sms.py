"""A local stand-in for Alibaba Cloud's SMS API (as moto stands in for S3): the real adapter
(notices.channels.AliyunSms) talks HTTP to it. It checks each request's signature, keeps what it
accepted in an inbox, and answers as told: success, throttling, a bad number, an outage (HTTP
500), or slowly.

    with FakeSms() as sms:              # listening on 127.0.0.1, a free port
        settings.ALIYUN_SMS_ENDPOINT = sms.url
        sms.mode = "outage"             # every SendSms answers 500 until set back to "ok"
        sms.inbox                       # [Received(...)], in the order accepted
        sms.sends, sms.queries          # SendSms requests by OutId; QuerySendDetails asked

Run alone (``python tests/fake_sms.py --port 8025``), it serves until stopped and shows its inbox
as JSON at ``/_inbox``, for ``make run`` and the bench.
"""

import argparse
import json
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from notices.channels import signature

KEY_ID = "fake-key"
KEY_SECRET = "fake-secret"
BEIJING = timezone(timedelta(hours=8))
# Numbers the fake says do not exist (isv.MOBILE_NUMBER_ILLEGAL).
BAD_NUMBERS = {"13900000000"}


def sent_on(at: float) -> str:
    """The provider's day (yyyyMMdd, Beijing time) of a message accepted at ``at``."""
    return datetime.fromtimestamp(at, BEIJING).strftime("%Y%m%d")


@dataclass
class Received:
    phone: str
    sign_name: str
    template: str
    params: dict
    out_id: str
    biz_id: str
    at: float


class FakeSms:
    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        self.inbox: list[Received] = []
        self.mode = "ok"  # ok | throttle | outage
        self.delay = delay  # seconds each SendSms takes, after it is accepted
        self.requests = 0
        self.refused = 0
        self.sends: Counter[str] = Counter()  # SendSms requests by OutId, taken or refused
        self.queries = 0  # QuerySendDetails requests
        self.found = 0  # ... that found a message sent to the number asked about
        self.busy = 0  # SendSms requests accepted and not yet answered (during ``delay``)
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/_inbox":
                    with fake.lock:
                        body = json.dumps([asdict(r) for r in fake.inbox], ensure_ascii=False)
                    self.answer(200, body)
                else:
                    self.answer(404, "{}")

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/_mode":
                    fake.mode = form.get("mode", "ok")
                    return self.answer(200, "{}")
                status, body = fake.handle(form)
                slow = fake.delay and body.get("Code") == "OK" and form.get("Action") == "SendSms"
                if slow:
                    with fake.lock:
                        fake.busy += 1
                    time.sleep(fake.delay)
                try:
                    self.answer(status, json.dumps(body, ensure_ascii=False))
                finally:
                    if slow:
                        with fake.lock:
                            fake.busy -= 1

            def answer(self, status, body):
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client went away (a worker killed mid-call)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> "FakeSms":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, form: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
        request_id = uuid.uuid4().hex
        claimed = form.pop("Signature", "")
        if form.get("AccessKeyId") != KEY_ID or claimed != signature(form, KEY_SECRET):
            return 400, {"Code": "SignatureDoesNotMatch", "RequestId": request_id}
        action = form.get("Action")
        if action == "QuerySendDetails":
            # As the provider: one number's messages sent on one day (its time, UTC+8), a page
            # at a time.
            size = int(form.get("PageSize", 10))
            start = (int(form.get("CurrentPage", 1)) - 1) * size
            with self.lock:
                rows = [
                    {"PhoneNum": r.phone, "SendStatus": 3, "OutId": r.out_id, "BizId": r.biz_id}
                    for r in self.inbox
                    if r.phone == form.get("PhoneNumber")
                    and sent_on(r.at) == form.get("SendDate", sent_on(r.at))
                ]
                self.queries += 1
                self.found += bool(rows[start : start + size])
            return 200, {
                "Code": "OK",
                "TotalCount": len(rows),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": rows[start : start + size]},
                "RequestId": request_id,
            }
        if action != "SendSms":
            return 400, {"Code": "InvalidAction.NotFound", "RequestId": request_id}
        with self.lock:
            self.sends[form.get("OutId", "")] += 1
        if self.mode == "outage":
            with self.lock:
                self.refused += 1
            return 500, {"Code": "ServiceUnavailable", "RequestId": request_id}
        if self.mode == "throttle":
            with self.lock:
                self.refused += 1
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发小时级流控Permits:5",
                "RequestId": request_id,
            }
        phone = form.get("PhoneNumbers", "")
        if phone in BAD_NUMBERS or not (len(phone) == 11 and phone.isdigit()):
            return 200, {
                "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                "Message": "非法手机号",
                "RequestId": request_id,
            }
        received = Received(
            phone=phone,
            sign_name=form.get("SignName", ""),
            template=form.get("TemplateCode", ""),
            params=json.loads(form.get("TemplateParam", "{}")),
            out_id=form.get("OutId", ""),
            biz_id=f"{len(self.inbox) + 1:06d}^{uuid.uuid4().hex[:10]}",
            at=time.time(),
        )
        with self.lock:
            self.inbox.append(received)
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": received.biz_id,
            "RequestId": request_id,
        }

    def texts(self, phone: str | None = None) -> list[str]:
        """What the inbox's messages say (the templates filled as the provider would)."""
        from notices.kinds import render

        found = []
        for r in self.inbox:
            if phone is None or r.phone == phone:
                kind = r.template.removeprefix("CCP_").rsplit("_", 1)[0].lower()
                language = "zh-hans" if r.template.endswith("_ZH") else "en"
                found.append(render(kind, r.params, language))
        return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--delay", type=float, default=0.0)
    arguments = parser.parse_args()
    import django

    django.setup()
    with FakeSms(arguments.port, arguments.delay) as running:
        print(f"fake Alibaba Cloud SMS at {running.url}", flush=True)
        running.thread.join()
