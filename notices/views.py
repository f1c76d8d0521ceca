"""A person's choice of messages (their account page), and the provider's push of the replies
residents send to an SMS ("T" stops them)."""

import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from communities.models import Membership
from notices.forms import ChoiceForm
from notices.models import Channel, Choice, Notice
from residents.models import Resident

log = logging.getLogger(__name__)

# What a resident may reply to stop every message (the text each SMS ends with says "T").
STOP_WORDS = {"T", "TD", "N", "退订", "STOP", "UNSUBSCRIBE"}


@login_required
@require_http_methods(["GET", "POST"])
def choices(request: HttpRequest) -> HttpResponse:
    """What I am told, how, and in which language; and the last messages sent to me."""
    choice = Choice.of(request.user.pk)
    has_phone = Resident.objects.filter(user=request.user).exists()
    is_staff = Membership.objects.filter(
        user=request.user, role=Membership.Role.STAFF, community__isnull=False
    ).exists()
    form = ChoiceForm(request.POST or None, instance=choice, has_phone=has_phone, is_staff=is_staff)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, _("Your choices are saved."))
        return redirect("notices:choices")
    recent = Notice.objects.filter(user=request.user).only(
        "kind", "channel", "status", "created_at", "sent_at", "text"
    )[:10]
    return render(
        request,
        "notices/choices.html",
        {"form": form, "recent": recent, "has_phone": has_phone},
    )


@csrf_exempt
@require_POST
def sms_replies(request: HttpRequest, token: str) -> HttpResponse:
    """Alibaba Cloud's push of the SMS residents sent back (上行短信, a JSON list). "T" (or
    退订) turns every message to that number off. The address carries a secret
    (``ALIYUN_SMS_REPLY_TOKEN``); without one configured, there is no such page."""
    expected = settings.ALIYUN_SMS_REPLY_TOKEN
    if not expected or not hmac.compare_digest(token, expected):
        raise Http404
    try:
        replies = json.loads(request.body)
        pairs = [(str(r["phone_number"]), str(r.get("content", ""))) for r in replies]
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"code": 1, "msg": "bad request"}, status=400)
    stop = {phone for phone, content in pairs if content.strip().upper() in STOP_WORDS}
    users = Resident.objects.filter(phone__in=stop).values_list("user_id", flat=True)
    off = {"seats": Channel.OFF, "classes": Channel.OFF, "wishes": Channel.OFF}
    with transaction.atomic():
        for user_id in users:
            Choice.objects.update_or_create(user_id=user_id, defaults=off)
    log.info("SMS replies: %s, %s stopped", len(pairs), len(stop))
    return JsonResponse({"code": 0, "msg": "成功"})
