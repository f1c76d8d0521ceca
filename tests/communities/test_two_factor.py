"""Two-step sign-in: staff, officials and administrators need a code from an authenticator app
after their password; residents may turn it on."""

import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from communities import two_factor
from communities.models import Membership
from tests.conftest import PASSWORD, client_for, key_on_page, totp_code

pytestmark = pytest.mark.django_db


def sign_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def enrol(client) -> tuple[bytes, list[str]]:
    """Set up an authenticator on the set-up page; the key and the recovery codes shown."""
    html = client.get(reverse("two-factor-setup")).content.decode()
    key = key_on_page(html)
    response = client.post(reverse("two-factor-setup"), {"code": totp_code(key)})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("two-factor-codes")
    )
    html = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    return key, codes


def test_staff_without_an_authenticator_is_sent_to_set_one_up(client, staff_a):
    response = sign_in(client, "staff-a")
    assert response.status_code == 302
    for url in (reverse("admin:index"), reverse("reports:overview"), reverse("communities:home")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two-factor-setup")), url
    html = client.get(reverse("two-factor-setup")).content.decode()
    assert "<svg" in html and 'id="setup-key"' in html


def test_the_back_office_opens_only_after_the_authenticator_is_confirmed(client, staff_a):
    sign_in(client, "staff-a")
    html = client.get(reverse("two-factor-setup")).content.decode()
    key = key_on_page(html)
    wrong = str((int(totp_code(key)) + 1) % 1_000_000).zfill(6)
    response = client.post(reverse("two-factor-setup"), {"code": wrong})
    assert response.status_code == 200
    page = response.content.decode()
    # Set-up has no recovery codes yet: the message does not offer them.
    assert "验证码不正确" in page and "恢复码" not in page.split("验证码不正确", 1)[1][:200]
    assert not TOTPDevice.objects.filter(user=staff_a, confirmed=True).exists()
    assert client.get(reverse("admin:index")).status_code == 302
    # A wrong code slows further tries down: wait it out.
    TOTPDevice.objects.filter(user=staff_a).update(throttling_failure_timestamp=None)

    response = client.post(reverse("two-factor-setup"), {"code": totp_code(key)})
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page)
    assert len(codes) == two_factor.RECOVERY_CODES
    assert client.get(reverse("admin:index")).status_code == 200
    # Shown once: a second visit shows how many are left, not the codes.
    again = client.get(reverse("two-factor-codes")).content.decode()
    assert codes[0] not in again and "10" in again


def test_the_next_sign_in_asks_for_the_code_and_takes_it_once(client, staff_a):
    sign_in(client, "staff-a")
    key, _codes = enrol(client)
    client.post(reverse("logout"))

    sign_in(client, "staff-a")
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("two-factor"))
    assert not response["Location"].startswith(reverse("two-factor-setup"))
    # The set-up page cannot swap in another phone before the code is given.
    assert client.get(reverse("two-factor-setup"))["Location"].startswith(reverse("two-factor"))

    code = totp_code(key, steps_ahead=1)  # the enrolment used the present half-minute's code
    response = client.post(reverse("two-factor"), {"code": code, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200

    # A code, once used, does not sign anyone in again.
    client.post(reverse("logout"))
    sign_in(client, "staff-a")
    response = client.post(reverse("two-factor"), {"code": code})
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_recovery_code_signs_in_once(client, staff_a):
    sign_in(client, "staff-a")
    _key, codes = enrol(client)
    client.post(reverse("logout"))

    sign_in(client, "staff-a")
    response = client.post(reverse("two-factor"), {"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert StaticToken.objects.filter(device__user=staff_a).count() == len(codes) - 1

    client.post(reverse("logout"))
    sign_in(client, "staff-a")
    assert client.post(reverse("two-factor"), {"code": codes[3]}).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_wrong_codes_slow_down_further_tries(client, staff_a):
    sign_in(client, "staff-a")
    key, _codes = enrol(client)
    client.post(reverse("logout"))
    sign_in(client, "staff-a")
    good = totp_code(key, steps_ahead=1)
    wrong = str((int(good) + 7) % 1_000_000).zfill(6)
    for _ in range(3):
        client.post(reverse("two-factor"), {"code": wrong})
    response = client.post(reverse("two-factor"), {"code": good})
    assert response.status_code == 200
    assert "秒后再试" in response.content.decode()


def test_an_official_needs_the_second_step_for_the_reports(client, official):
    sign_in(client, "official")
    response = client.get(reverse("reports:overview"))
    assert response["Location"].startswith(reverse("two-factor-setup"))
    enrol(client)
    assert client.get(reverse("reports:overview")).status_code == 200


def test_a_session_without_the_step_has_no_powers_even_where_no_page_asks(
    client, staff_a, community_a
):
    """A session signed in before the step was required (no "waiting" mark) gets nothing from
    its roles, and the back office sends it to the step."""
    client.force_login(staff_a)
    session = client.session
    del session[two_factor.PENDING]
    session.save()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    response = client.get(response["Location"], follow=False)
    assert response["Location"].startswith(reverse("two-factor-setup"))
    assert client.get(reverse("admin:communities_community_changelist")).status_code == 302


def test_a_resident_signs_in_with_the_password_alone_until_they_opt_in(client, resident):
    response = sign_in(client, "resident")
    assert response.status_code == 302
    assert client.get(reverse("communities:account")).status_code == 200
    assert "two_step" not in str(dict(client.session))

    _key, _codes = enrol(client)
    client.post(reverse("logout"))
    sign_in(client, "resident")
    response = client.get(reverse("communities:account"))
    assert response["Location"].startswith(reverse("two-factor"))


def test_a_resident_may_turn_it_off_and_staff_may_not(client, resident, staff_a):
    sign_in(client, "resident")
    enrol(client)
    assert client.get(reverse("two-factor-off")).status_code == 200
    assert client.post(reverse("two-factor-off")).status_code == 302
    assert not TOTPDevice.objects.filter(user=resident).exists()

    staff = client_for(staff_a)
    assert staff.get(reverse("two-factor-off")).status_code == 403
    assert staff.post(reverse("two-factor-off")).status_code == 403
    assert TOTPDevice.objects.filter(user=staff_a).exists()


def test_the_code_page_sends_nobody_off_the_site(client, staff_a):
    sign_in(client, "staff-a")
    key, _codes = enrol(client)
    client.post(reverse("logout"))
    sign_in(client, "staff-a")
    response = client.post(
        reverse("two-factor"), {"code": totp_code(key, 1), "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("communities:account")


def test_a_city_administrator_resets_a_lost_phone(city_admin, staff_a):
    sign_in_client = client_for(staff_a)
    assert sign_in_client.get(reverse("admin:index")).status_code == 200
    membership = Membership.objects.get(user=staff_a)
    response = client_for(city_admin).post(
        reverse("admin:communities_membership_changelist"),
        {"action": "reset_two_step", "_selected_action": [membership.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_a).exists()
    # The staff member's open session lost its second step with the device.
    assert sign_in_client.get(reverse("admin:index")).status_code == 302
