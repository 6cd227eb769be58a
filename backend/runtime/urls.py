"""URL resolution for the API: candidates by first path segment instead of every route in turn.

Django's ``URLResolver`` tries its patterns one after the other until one matches. The API is one
include of about 300 routes, and ``/api/v1/shifts/{id}/signups`` met its route after trying 75
others: 75 ``RoutePattern.match`` calls and as many ``Resolver404`` bookkeeping entries per
request. A yappi profile of sign-up refusals served in process (``bench/signup_burst``'s
refusal, 50 at a time) put 15 % of the CPU in ``URLResolver.resolve``.

``indexed(resolver)`` returns the same include as an ``IndexedResolver``: for a path whose first
segment is ``shifts`` it tries, in their original order, the routes whose literal first segment
is ``shifts`` and the routes that do not start with a literal (a converter, a regex, an empty
route). No other route can match such a path, and the first match among the candidates is the
first match among all routes, so the answer is Django's. A path no candidate matches is resolved
again by Django's own loop, which builds the 404 with every route tried. Reversing is untouched.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.urls import URLPattern, URLResolver
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

_ANY = ""  # key of the routes every path is a candidate for


def literal_head(entry: URLPattern | URLResolver) -> str:
    """The literal first segment every path ``entry`` matches starts with, or ``_ANY``."""
    pattern = entry.pattern
    if not isinstance(pattern, RoutePattern):
        return _ANY
    head = str(pattern).split("/", 1)[0]  # the route as written
    return _ANY if not head or "<" in head else head


class IndexedResolver(URLResolver):
    """A ``URLResolver`` that tries only the routes a path's first segment can match."""

    @cached_property
    def _narrowed(self) -> dict[str, URLResolver]:
        entries = list(self.url_patterns)
        heads = [literal_head(entry) for entry in entries]
        narrowed = {}
        for head in set(heads) - {_ANY}:
            candidates = [entry for entry, h in zip(entries, heads, strict=True) if h in (head, _ANY)]
            narrowed[head] = URLResolver(
                self.pattern, candidates, self.default_kwargs, self.app_name, self.namespace
            )
        return narrowed

    def resolve(self, path: Any) -> Any:
        path = str(path)
        match = self.pattern.match(path)
        if match:
            narrow = self._narrowed.get(match[0].split("/", 1)[0])
            if narrow is not None:
                try:
                    return narrow.resolve(path)
                except Resolver404:
                    pass  # Django's loop below says what was tried
        return super().resolve(path)


def indexed(resolver: URLResolver) -> IndexedResolver:
    """``resolver`` (as ``path(route, include(...))`` returns it) as an ``IndexedResolver``."""
    return IndexedResolver(
        resolver.pattern,
        resolver.urlconf_name,
        resolver.default_kwargs,
        resolver.app_name,
        resolver.namespace,
    )
