"""Open sockets close when what admitted them ends (``backend.runtime.sockets``): a session
(logout, refresh-token reuse, account disabled or cancelled) closes them with 4401, a role taken
away through the grants API with 4403, a device with the code it is closed with. Through the full
ASGI application and the configured channel layer (in-memory, or Redis with ``REDIS_URL``)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import path

from backend.accounts.models import Grant, Role, ScopeType
from backend.runtime.sockets import CLOSE_ACCESS_REVOKED, device_group, sockets_close
from realtime.consumers import EchoConsumer
from realtime.middleware import websocket_stack
from tests.checkin import factories as f
from tests.factories import UserFactory, user_with_role
from tests.helpers import ApiClient, token_for
from tests.realtime.test_checkin_sockets import live_path, open_socket, redeem, scan_path

pytestmark = pytest.mark.django_db(transaction=True)

WITHIN = 5  # seconds: the bound between the revocation and the close


@pytest.fixture(autouse=True)
def _channel_layer_per_test():
    """A channel layer of this test's event loop: channels-redis keeps asyncio locks that belong
    to the loop they were first contended on, and several sockets closing at once contend."""
    from channels.layers import channel_layers

    from backend.runtime.channels import tune_channel_layer

    channel_layers.backends.pop("default", None)
    tune_channel_layer()
    yield
    channel_layers.backends.pop("default", None)


async def close_code(ws) -> int:
    """The close code the socket gets within ``WITHIN`` seconds (pongs and feed messages skipped)."""
    deadline = asyncio.get_running_loop().time() + WITHIN
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        message = await ws.receive_output(timeout=max(remaining, 0.01))
        if message["type"] == "websocket.close":
            await ws.disconnect(code=message["code"], timeout=5)
            return message["code"]


async def still_open(ws) -> bool:
    await ws.send_json_to({"type": "ping"})
    reply = await ws.receive_json_from(timeout=5)
    return reply["type"] == "pong"


async def call(method: str, url: str, *, user=None, token: str | None = None, data=None):
    """One request through the API, in a worker thread (as the server runs it)."""

    def run():
        api = ApiClient() if user is None else ApiClient().as_user(user)
        if token is not None:
            api.token = token
        return getattr(api, method)(url, data) if data is not None else getattr(api, method)(url)

    return await sync_to_async(run)()


@database_sync_to_async
def _event_with_scanner():
    ev = f.event()
    scanner = f.staff(ev, Role.SCANNER)
    return ev, scanner, [f.attendee(ev, f"参加者{i}").secret for i in range(2)]


@database_sync_to_async
def _token(user) -> str:
    return token_for(user)


# --- a session ends: 4401 ----------------------------------------------------------------------------


async def test_logout_closes_the_sockets_of_that_session_only():
    ev, scanner, secrets = await _event_with_scanner()
    token, other_token = await _token(scanner), await _token(scanner)
    ws = await open_socket(scan_path(ev), token)
    other = await open_socket(scan_path(ev), other_token)  # the same person on another phone
    assert (await redeem(ws, secrets[0]))["status"] == "ok"

    response = await call("post", "/auth/logout", token=token)
    assert response.status_code == 200

    assert await close_code(ws) == 4401
    assert await still_open(other)
    await other.disconnect()


async def test_refresh_token_reuse_closes_the_sessions_sockets():
    ev, _, _ = await _event_with_scanner()
    api = ApiClient()
    pair = (await sync_to_async(api.post)("/auth/dev-login", {"phone": "13912340001"})).json()

    @database_sync_to_async
    def grant():
        user = UserFactory._meta.model.objects.get(phone="13912340001")
        Grant.objects.create(user=user, role=Role.SCANNER, scope_type=ScopeType.EVENT, scope_id=str(ev.pk))

    await grant()
    ws = await open_socket(scan_path(ev), pair["access_token"])
    assert (
        await sync_to_async(api.post)("/auth/refresh", {"refresh_token": pair["refresh_token"]})
    ).status_code == 200
    reused = await sync_to_async(api.post)("/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert reused.json()["code"] == "refresh_token_reused"

    assert await close_code(ws) == 4401


async def test_account_cancellation_closes_every_socket_of_the_person():
    ev, scanner, _ = await _event_with_scanner()
    token = await _token(scanner)
    ws_scan = await open_socket(scan_path(ev), token)
    ws_echo = await open_socket("/ws/v1/echo", await _token(scanner))

    response = await call("post", "/me/cancel", token=token)
    assert response.status_code == 200

    assert await close_code(ws_scan) == 4401
    assert await close_code(ws_echo) == 4401


async def test_disabled_account_loses_every_socket():
    from backend.accounts.services import account_disable

    ev, scanner, _ = await _event_with_scanner()
    sockets = [await open_socket(scan_path(ev), await _token(scanner)) for _ in range(2)]
    bystander = await open_socket("/ws/v1/echo", await _token(await database_sync_to_async(UserFactory)()))

    await database_sync_to_async(account_disable)(user=scanner, by=None)

    assert [await close_code(ws) for ws in sockets] == [4401, 4401]
    assert await still_open(bystander)
    await bystander.disconnect()


# --- a role is taken away: 4403 ----------------------------------------------------------------------


@database_sync_to_async
def _scanner_grant(ev, scanner) -> Grant:
    return Grant.objects.get(user=scanner, role=Role.SCANNER, scope_id=str(ev.pk))


async def test_revoking_the_scanner_grant_through_the_api_closes_the_scanner_socket_4403():
    ev, scanner, _ = await _event_with_scanner()
    admin = await database_sync_to_async(user_with_role)(Role.PLATFORM_ADMIN)
    ws = await open_socket(scan_path(ev), await _token(scanner))
    echo = await open_socket("/ws/v1/echo", await _token(scanner))  # needs no role: stays
    grant = await _scanner_grant(ev, scanner)

    response = await call("delete", f"/grants/{grant.pk}", user=admin)
    assert response.status_code == 200

    assert await close_code(ws) == 4403
    assert await still_open(echo)
    await echo.disconnect()


async def test_revoking_the_coordinator_grant_closes_the_dashboard():
    ev, _, _ = await _event_with_scanner()
    coordinator = await database_sync_to_async(f.staff)(ev, Role.COORDINATOR)
    admin = await database_sync_to_async(user_with_role)(Role.PLATFORM_ADMIN)
    live = await open_socket(live_path(ev), await _token(coordinator))
    assert (await live.receive_json_from(timeout=5))["type"] == "snapshot"
    grant = await database_sync_to_async(Grant.objects.get)(user=coordinator, role=Role.COORDINATOR)

    assert (await call("delete", f"/grants/{grant.pk}", user=admin)).status_code == 200

    assert await close_code(live) == 4403


async def test_a_socket_that_holds_another_role_for_the_event_stays_open():
    ev, scanner, secrets = await _event_with_scanner()
    await database_sync_to_async(Grant.objects.create)(
        user=scanner,
        role=Role.COORDINATOR,
        scope_type=ScopeType.ORGANISATION,
        scope_id=str(ev.organisation_id),
    )
    admin = await database_sync_to_async(user_with_role)(Role.PLATFORM_ADMIN)
    ws = await open_socket(scan_path(ev), await _token(scanner))
    grant = await _scanner_grant(ev, scanner)

    assert (await call("delete", f"/grants/{grant.pk}", user=admin)).status_code == 200
    await asyncio.sleep(0.3)  # the recheck has run by now

    assert await still_open(ws)
    assert (await redeem(ws, secrets[0]))["status"] == "ok"  # coordinators may scan
    await ws.disconnect()


# --- a device is taken away: the mechanism the check-in domain uses ----------------------------------


class _DeviceEcho(EchoConsumer):
    def socket_groups(self) -> list[str]:
        return [*super().socket_groups(), device_group(self.scope["url_route"]["kwargs"]["device"])]


_device_app = websocket_stack([path("ws/test/<str:device>", _DeviceEcho.as_asgi())])


async def test_closing_a_device_group_closes_that_devices_sockets_only():
    user = await database_sync_to_async(UserFactory)()
    token = await _token(user)

    async def connect(device: str) -> WebsocketCommunicator:
        ws = WebsocketCommunicator(
            _device_app,
            f"/ws/test/{device}",
            headers=[(b"authorization", f"Bearer {token}".encode())],
        )
        connected, _ = await ws.connect(timeout=5)
        assert connected
        return ws

    gate_a, gate_b = await connect("17"), await connect("18")

    await sync_to_async(sockets_close)(device_group(17), code=CLOSE_ACCESS_REVOKED)

    assert await close_code(gate_a) == 4403
    assert await still_open(gate_b)
    await gate_b.disconnect()
