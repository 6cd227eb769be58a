"""Links and QR codes in dev follow the host and port the server is reached at."""

from __future__ import annotations

import pytest

from backend.core.context import RequestMeta, reset_meta, set_meta
from backend.core.links import public_origin
from backend.runtime.server import served_host


@pytest.fixture
def request_host():
    tokens = []

    def enter(host: str) -> None:
        tokens.append(set_meta(RequestMeta(host=host)))

    yield enter
    for token in reversed(tokens):
        reset_meta(token)


def test_dev_links_follow_the_request_host_and_port(settings, request_host):
    settings.LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = True
    settings.LINLI_PUBLIC_HOST = "127.0.0.1:8000"
    request_host("127.0.0.1:8123")
    assert public_origin() == "http://127.0.0.1:8123"


def test_a_host_outside_allowed_hosts_is_never_printed(settings, request_host):
    settings.LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = True
    settings.LINLI_PUBLIC_HOST = "127.0.0.1:8000"
    request_host("evil.example.com:80")
    assert public_origin() == "http://127.0.0.1:8000"


def test_an_explicit_public_host_wins(settings, request_host):
    settings.LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = False
    settings.LINLI_PUBLIC_HOST = "linli.example.cn"
    request_host("127.0.0.1:8123")
    assert public_origin() == "http://linli.example.cn"


def test_outside_a_request_links_name_the_served_address(settings):
    settings.LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = True
    settings.LINLI_PUBLIC_HOST = "127.0.0.1:8001"
    assert public_origin() == "http://127.0.0.1:8001"


@pytest.mark.parametrize(
    ("argv", "host"),
    [
        (["-b", "127.0.0.1", "-p", "8001", "backend.asgi:application"], "127.0.0.1:8001"),
        (["--bind=localhost", "--port=9000", "app"], "localhost:9000"),
        (["-b", "0.0.0.0", "-p", "8002", "app"], "127.0.0.1:8002"),
        (["app"], "127.0.0.1:8000"),
        (["-b", "::1", "-p", "8003", "app"], "[::1]:8003"),
    ],
)
def test_served_host_reads_daphnes_arguments(argv, host):
    assert served_host(argv) == host


@pytest.mark.django_db
def test_a_credential_link_names_the_port_the_api_was_called_on(settings):
    from tests.credentials import factories as cf
    from tests.helpers import ApiClient

    settings.LINLI_PUBLIC_HOST_FOLLOWS_REQUEST = True
    settings.LINLI_PUBLIC_HOST = "127.0.0.1:8000"
    credential = cf.valid_credential()
    admin = cf.association_admin(credential.practitioner.association)

    body = ApiClient(admin).get(f"/credentials/{credential.pk}", headers={"Host": "127.0.0.1:8123"}).json()

    assert body["verify_url"] == f"http://127.0.0.1:8123/v/{credential.token}"
