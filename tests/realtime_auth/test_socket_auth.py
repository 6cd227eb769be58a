"""Websocket authentication and origin checks, on the full ASGI application."""

import pytest
from channels.testing import WebsocketCommunicator

from backend.asgi import application
from tests.factories import UserFactory
from tests.helpers import token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(headers=None, subprotocols=None):
    communicator = WebsocketCommunicator(
        application, "/ws/v1/echo", headers=headers or [], subprotocols=subprotocols
    )
    connected, detail = await communicator.connect(timeout=5)
    return communicator, connected, detail


@pytest.fixture
def token(db):
    from asgiref.sync import async_to_sync  # noqa: F401

    return token_for(UserFactory())


async def test_socket_without_token_is_closed_4401():
    communicator, connected, _ = await connect()
    assert connected
    message = await communicator.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect(code=4401, timeout=5)


async def test_socket_with_bad_token_is_closed_4401():
    communicator, _, _ = await connect(headers=[(b"authorization", b"Bearer v1.bad.token")])
    assert (await communicator.receive_output(timeout=5))["code"] == 4401
    await communicator.disconnect(code=4401, timeout=5)


async def test_token_in_authorization_header_is_accepted(token):
    communicator, connected, _ = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    assert connected
    await communicator.send_json_to({"type": "ping", "data": 7})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "pong" and reply["data"] == 7
    await communicator.disconnect()


async def test_token_as_subprotocol_is_accepted_and_echoed(token):
    communicator, connected, subprotocol = await connect(subprotocols=["linli.v1", f"bearer.{token}"])
    assert connected
    assert subprotocol == "linli.v1"
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


async def test_foreign_browser_origin_is_refused(token):
    _, connected, _ = await connect(
        headers=[(b"authorization", f"Bearer {token}".encode()), (b"origin", b"https://evil.example")]
    )
    assert not connected


async def test_allowed_origin_is_admitted(token):
    communicator, connected, _ = await connect(
        headers=[(b"authorization", f"Bearer {token}".encode()), (b"origin", b"http://localhost:8000")]
    )
    assert connected
    await communicator.disconnect()


async def test_malformed_and_unknown_messages_get_error_frames(token):
    communicator, _, _ = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await communicator.send_to(text_data="{nope")
    assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_json"
    await communicator.send_json_to({"no_type": 1})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_message"
    await communicator.send_json_to({"type": "launch"})
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["code"] == "unknown_type" and error["message"]
    await communicator.disconnect()


async def test_oversized_message_closes_the_socket(token):
    communicator, _, _ = await connect(headers=[(b"authorization", f"Bearer {token}".encode())])
    await communicator.send_to(text_data='{"type":"ping","data":"' + "x" * 70000 + '"}')
    assert (await communicator.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4413}
    await communicator.disconnect(code=4413, timeout=5)
