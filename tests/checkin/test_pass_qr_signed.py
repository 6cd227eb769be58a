"""The holder's pass QR reaches the mini-program's ``<image>`` as a short-lived signed URL (no
Authorization header): drawn once, decoded to the pass secret; a re-issued pass's old URL stops
working, an altered or expired one is refused."""

from __future__ import annotations

import time
import urllib.parse

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from backend.accounts.models import Role
from backend.checkin.models import Pass
from backend.core import signed_urls
from tests.checkin import factories as f
from tests.factories import UserFactory
from tests.helpers import ApiClient
from tests.support import signed_media
from tests.support.qr import read_qr

pytestmark = pytest.mark.django_db


def my_pass(holder) -> dict:
    (mine,) = ApiClient(holder).get("/me/passes").json()
    return mine


def holder_pass(ev) -> Pass:
    return f.attendee(ev, holder=UserFactory())


def test_the_pass_qr_loads_by_its_signed_url_and_decodes_to_the_secret():
    ev = f.event()
    holder = holder_pass(ev).holder
    mine = my_pass(holder)
    png = signed_media.fetch_ok(mine["qr_signed_url"])
    (decoded,) = read_qr(png)
    assert decoded == mine["secret"]
    name = urllib.parse.urlsplit(mine["qr_signed_url"]).path.split("/", 4)[4]
    assert name.startswith("generated/pass-qr/") and mine["secret"].lower() not in name.lower()
    assert default_storage.exists(name)  # cached: the next fetch sends the file
    assert signed_media.fetch_ok(my_pass(holder)["qr_signed_url"]) == png
    signed_media.assert_refused_when_altered(mine["qr_signed_url"])


def test_an_expired_pass_url_is_refused():
    holder = holder_pass(f.event()).holder
    name = urllib.parse.urlsplit(my_pass(holder)["qr_signed_url"]).path.split("/", 4)[4]
    late = signed_urls.signed_path(name, ttl=10, now=time.time() - 60)
    response = Client().get(late)
    assert response.status_code == 403 and response.json()["code"] == "url_expired"


def test_a_reissued_pass_gets_a_new_qr_url_and_the_old_one_stops_working():
    ev = f.event()
    p = holder_pass(ev)
    coordinator = f.staff(ev, Role.COORDINATOR)
    before = my_pass(p.holder)
    r = ApiClient(coordinator).post(f"/events/{ev.pk}/passes/{p.pk}/reissue")
    assert r.status_code == 200, r.json()
    after = my_pass(p.holder)
    assert after["qr_signed_url"] != before["qr_signed_url"]
    assert signed_media.fetch(before["qr_signed_url"])[0] == 404
    (decoded,) = read_qr(signed_media.fetch_ok(after["qr_signed_url"]))
    assert decoded == Pass.objects.get(pk=p.pk).secret.upper()
