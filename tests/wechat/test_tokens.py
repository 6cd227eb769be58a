"""The access token: fetched once, shared, refreshed once on 40001/42001, one fetch for two
processes starting at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from backend.wechat import client, tokens
from backend.wechat.models import AccessToken

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_the_token_is_fetched_once_and_reused(wechat):
    first = tokens.access_token()
    cache.clear()  # another process: only the database has it
    assert tokens.access_token() == first
    assert tokens.access_token() == first
    assert wechat.state.stable_token_calls == 1
    row = AccessToken.objects.get()
    assert row.fetches == 1 and first not in row.token  # sealed at rest


@pytest.mark.django_db
def test_a_token_near_its_expiry_is_fetched_anew(wechat, settings):
    first = tokens.access_token()
    settings.WECHAT_TOKEN_MARGIN = 7200  # every token is "about to expire"
    cache.clear()
    wechat.expire_tokens()
    second = tokens.access_token()
    assert second != first and wechat.state.stable_token_calls == 2


@pytest.mark.django_db
def test_an_invalid_token_is_refreshed_once_with_force_and_the_call_retried(wechat):
    phone_code = wechat.issue_phone_code("13800138000")
    tokens.access_token()
    wechat.invalidate_tokens()  # e.g. someone forced a refresh elsewhere
    assert client.phone_number(phone_code).pure == "13800138000"
    stable = wechat.calls("cgi-bin/stable_token")
    assert [call["force_refresh"] for call in stable] == [False, True]
    assert wechat.state.forced_calls == 1


@pytest.mark.django_db
def test_a_token_already_replaced_by_another_process_is_not_forced_again(wechat):
    old = tokens.access_token()
    # Another process refreshed meanwhile: the row holds a newer token than the failed one.
    newer = tokens.access_token_refresh(failed=old)
    assert newer != old
    assert tokens.access_token_refresh(failed=old) == newer
    assert wechat.state.forced_calls == 1


@pytest.mark.django_db
def test_forced_refreshes_keep_thirty_seconds_apart(wechat):
    first = tokens.access_token()
    second = tokens.access_token_refresh(failed=first)
    wechat.invalidate_tokens()
    # Within 30 s of the last forced refresh the normal call is used (WeChat would not refresh).
    third = tokens.access_token_refresh(failed=second)
    assert third not in (first, second)
    assert [c["force_refresh"] for c in wechat.calls("cgi-bin/stable_token")] == [False, True, False]


@pytest.mark.django_db
def test_past_the_daily_forced_refreshes_only_the_normal_call_is_made(wechat, settings):
    settings.WECHAT_FORCED_REFRESH_PER_DAY = 1
    settings.WECHAT_FORCED_REFRESH_GAP = 0
    first = tokens.access_token()
    second = tokens.access_token_refresh(failed=first)
    wechat.invalidate_tokens()
    tokens.access_token_refresh(failed=second)
    assert wechat.state.forced_calls == 1


@pytest.mark.django_db
def test_a_refused_token_that_wechat_hands_out_again_is_unavailable_not_a_loop(wechat):
    from backend.wechat.errors import WeChatUnavailable

    first = tokens.access_token()
    tokens.access_token_refresh(failed=first)  # uses the forced refresh of the next 30 s
    current = tokens.access_token()
    with pytest.raises(WeChatUnavailable):
        tokens.access_token_refresh(failed=current)  # WeChat still says it is the current one


_PROCESS = """
import os, sys, time
import django
django.setup()
from backend.wechat import tokens
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(tokens.access_token(), flush=True)
"""


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = settings.get("HOST") or "127.0.0.1"
    return f"postgres://{settings['USER']}@{host}:{settings.get('PORT') or 5432}/{settings['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_two_processes_starting_at_once_fetch_the_token_once(wechat):
    wechat.state.delay = 0.3  # WeChat takes its time: both processes are waiting at once
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "WECHAT_APP_ID": wechat.state.appid,
        "WECHAT_APP_SECRET": wechat.state.secret,
        "WECHAT_API_BASE": wechat.base_url,
        "NO_GCE_CHECK": "true",
    }
    start = str(time.time() + 2.0)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, start],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]
        outputs.append(out.decode().strip())
    assert outputs[0] == outputs[1] and outputs[0].startswith("AT")
    assert wechat.state.stable_token_calls == 1
