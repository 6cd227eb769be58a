"""``backend.runtime.urls``: the API's indexed resolver answers exactly as Django's own loop."""

from __future__ import annotations

import re

import pytest
from django.urls import URLResolver, get_resolver, path
from django.urls.exceptions import Resolver404
from hypothesis import given, settings
from hypothesis import strategies as st

from api.main import api
from backend.runtime.urls import IndexedResolver, indexed, literal_head

SAMPLES = {
    "int": "7",
    "str": "x7",
    "slug": "a-b",
    "uuid": "0b4e7a0e-5fe4-4c0a-9c41-3f4f1f2b6c77",
    "path": "a/b",
}


def _pair() -> tuple[IndexedResolver, URLResolver]:
    plain = path("api/v1/", api.urls)
    return indexed(plain), plain


def _outcome(resolver: URLResolver, url: str) -> tuple:
    try:
        match = resolver.resolve(url)
    except Resolver404 as exc:
        tried = [[str(p.pattern) for p in chain] for chain in exc.args[0].get("tried", [])]
        return ("404", exc.args[0].get("path"), tried)
    return (match.func, match.args, match.kwargs, match.route, match.url_name, match.namespaces)


def _sample(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES.get(m.group(1) or "str", "x7"), route)


def test_the_root_urlconf_serves_the_api_through_the_index():
    assert any(isinstance(entry, IndexedResolver) for entry in get_resolver().url_patterns)


def test_every_api_route_resolves_as_django_resolves_it():
    fast, plain = _pair()
    routes = [str(entry.pattern) for entry in plain.url_patterns]
    assert len(routes) > 100
    for route in routes:
        url = "api/v1/" + _sample(route)
        assert _outcome(fast, url) == _outcome(plain, url), url
        assert _outcome(fast, url)[0] != "404", url


@pytest.mark.parametrize(
    "url",
    ["api/v1/nowhere", "api/v1/shifts/", "api/v1/shifts/7/nothing", "api/v2/ping", "elsewhere"],
)
def test_a_path_no_route_takes_gets_djangos_404(url):
    fast, plain = _pair()
    assert _outcome(fast, url) == _outcome(plain, url)
    assert _outcome(fast, url)[0] == "404"


def test_a_route_without_a_literal_first_segment_stays_a_candidate_for_every_path():
    plain = path("api/v1/", api.urls)
    heads = {literal_head(entry) for entry in plain.url_patterns}
    assert "shifts" in heads and "me" in heads
    assert literal_head(path("<int:pk>/x", lambda request: None)) == ""
    assert literal_head(path("", lambda request: None)) == ""


def _heads() -> list[str]:
    return sorted({literal_head(entry) for entry in path("api/v1/", api.urls).url_patterns} - {""})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(_heads()), st.sampled_from(["7", "x", "", "signups", "me", "-"])),
        min_size=1,
        max_size=5,
    )
)
def test_any_path_resolves_as_django_resolves_it(segments):
    fast, plain = _pair()
    url = "api/v1/" + "/".join(segments)
    assert _outcome(fast, url) == _outcome(plain, url)
