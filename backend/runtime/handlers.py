"""A lean ASGI handler for the JSON API and the public lookup pages.

Django's cookie middlewares (sessions, CSRF, messages, auth, locale) serve the admin and
server-rendered staff pages. The API authenticates by bearer token and never reads cookies, yet
under ASGI each of those ``MiddlewareMixin`` middlewares hops to a worker thread and back on
every request. API paths are therefore served by a second Django handler built from
``LINLI_API_MIDDLEWARE``: same URLs, same views, without the cookie machinery.

The hottest public path, the credential lookup, skips Django's handler altogether: a raw ASGI app
(``backend.credentials.lookup.fastpath``) that gives the same answers as its Django view.

Measured with ``bench/hello`` (64 connections, ``/api/v1/ping``): 312 req/s through the full
handler, 933 req/s through the lean one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from concurrent.futures import Executor, Future
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response, request_logger
from django.utils.module_loading import import_string

from backend.runtime.lanes import Lanes, lane_count

LEAN_PREFIXES = ("/api/", "/v/", "/m/")

logger = logging.getLogger("django.request")


class LeanASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain of ``LINLI_API_MIDDLEWARE``.

    The chain is built here rather than by ``BaseHandler.load_middleware`` (which reads
    ``settings.MIDDLEWARE``): it takes async-capable middlewares without per-view, template or
    exception hooks, which is what the API list holds, and says so at start-up otherwise.

    Each request's sync code runs on one of a fixed set of lanes (``backend.runtime.lanes``)
    rather than on a thread of its own."""

    lanes: Lanes | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        if self.lanes is None:
            type(self).lanes = Lanes(lane_count())
        lanes = self.lanes
        assert lanes is not None
        lane = lanes.take()
        try:
            async with ThreadSensitiveContext(executor=lanes.executors[lane]):
                await self.handle(scope, receive, send, lane=lanes.executors[lane])
        finally:
            lanes.give_back(lane)

    async def handle(self, scope: dict, receive: Any, send: Any, lane: Executor | None = None) -> None:
        """Django's request cycle (``ASGIHandler.handle``), with its two signal trips queued on
        the request's lane instead of awaited.

        Django awaits a worker thread twice per request besides the view: once for
        ``request_started`` (its receivers, ``close_old_connections`` and ``reset_queries``, act
        on the thread's own database connection) and once for ``response.close()`` (which sends
        ``request_finished``: the connection goes back to the pool). Each trip cost the event
        loop ~55 µs (a sign-up refusal served in process: 461 → 405 µs CPU without the first).
        A lane runs one call at a time, in order: the receivers queued here still run on the
        request's thread before its view and after its response, and the event loop goes on
        at once. Without a lane (Django's own handler) the cycle is Django's."""
        if lane is None:
            await super().handle(scope, receive, send)
            return
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        _queue(lane, signals.request_started.send, sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None
            body_file.close()
            await self.send_response(error_response, send)
            _queue(lane, error_response.close)
            return

        async def answer() -> Any:
            response = await self.run_get_response(request)
            # The client may leave while the answer goes out: nothing to do about it then.
            with contextlib.suppress(asyncio.CancelledError):
                await self.send_response(response, send)
            return response

        watch = asyncio.create_task(self.listen_for_disconnect(receive))
        work = asyncio.create_task(answer())
        await asyncio.wait((watch, work), return_when=asyncio.FIRST_COMPLETED)
        for task in (watch, work):
            if not task.done():
                task.cancel()  # the client left: the view may clean up on cancellation
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                continue
            try:
                task.result()
            except RequestAborted:
                pass
            except AssertionError:
                body_file.close()
                raise
        if work.cancelled():
            _queue(lane, signals.request_finished.send, sender=self.__class__)
        else:
            _queue(lane, work.result().close)
        body_file.close()
        # The watcher's exception (RequestAborted when the client left) keeps this frame through
        # its traceback, and the frame keeps the watcher: a cycle holding the request, daphne's
        # request and its connection (~110 objects), left to the garbage collector. In a sign-up
        # burst its young-generation passes then took 46-83 ms each, about 9 % of the server's time;
        # hello went from 1,700-2,100 to 2,470-2,500 req/s (p99 108-116 -> 38-44 ms) without it.
        watch = work = None  # type: ignore[assignment]

    def load_middleware(self, is_async: bool = False) -> None:
        if not is_async:
            raise ImproperlyConfigured("The lean API handler serves ASGI only.")
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response_async)  # type: ignore[attr-defined]
        for path in reversed(settings.LINLI_API_MIDDLEWARE):
            factory = import_string(path)
            if not getattr(factory, "async_capable", False):
                raise ImproperlyConfigured(f"{path} must be async-capable to serve the API.")
            instance = factory(handler)
            hooks = [
                h
                for h in ("process_view", "process_template_response", "process_exception")
                if hasattr(instance, h)
            ]
            if hooks:
                raise ImproperlyConfigured(
                    f"{path} has {', '.join(hooks)}, which the lean API chain does not run."
                )
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    async def get_response_async(self, request: Any) -> Any:
        """Django's, without the trip to another thread to log a 4xx that nobody logs.

        Django hands every response of status 400 and above to ``log_response`` on a thread
        pool; Linli's ``django.request`` logger takes errors only, so for a 4xx (a burst's
        ``shift_full`` refusals) that trip did nothing but wait for a thread and the GIL."""
        if request_logger.isEnabledFor(logging.WARNING):
            return await super().get_response_async(request)
        set_urlconf(settings.ROOT_URLCONF)
        response = await self._middleware_chain(request)  # type: ignore[misc]  # async chain here
        response._resource_closers.append(request.close)
        if response.status_code >= 500:
            await sync_to_async(log_response, thread_sensitive=False)(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return response


class InlineSecurityMiddleware(SecurityMiddleware):
    """SecurityMiddleware's checks are pure computation: run them on the event loop."""

    async def __acall__(self, request: Any) -> Any:
        response = self.process_request(request)
        if response is None:
            response = await self.get_response(request)  # type: ignore[misc]  # async chain here
        return self.process_response(request, response)


def _queue(lane: Executor, func: Any, *args: Any, **kwargs: Any) -> None:
    """Run ``func`` on ``lane`` after what is queued there, without waiting; log its failure."""
    lane.submit(func, *args, **kwargs).add_done_callback(_log_failure)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("request cleanup failed", exc_info=future.exception())


def http_router(full_app: Any, lean_app: Any, *, fast_apps: tuple[Any, ...] = ()) -> Any:
    """HTTP by path: each of ``fast_apps`` (raw ASGI apps for hot paths, ``backend.runtime.fastpath``,
    which hand what they do not serve to ``lean_app``) takes its ``prefixes``, ``LEAN_PREFIXES``
    go to ``lean_app``, the rest to ``full_app``."""
    fast = tuple((app.prefixes, app) for app in fast_apps)

    async def app(scope: dict, receive: Any, send: Any) -> Any:
        path = scope.get("path", "")
        target = full_app
        for prefixes, fast_app in fast:
            if path.startswith(prefixes):
                target = fast_app
                break
        else:
            if path.startswith(LEAN_PREFIXES):
                target = lean_app
        try:
            return await target(scope, receive, send)
        finally:
            reap_when_done(send)

    return app


# daphne keeps every request it served (its Twisted request, the application task, the input
# queue, the scope) in ``Server.connections`` until a sweep once a second. At 2,000 requests a
# second that is ~50,000 live objects, which the collector traverses in one 15-30 ms pause
# (every request in flight waits); measured with bench/lookup: p99 75 ms with the sweep, 54 ms
# reaped here. So when an HTTP application instance ends, its entry is dropped at once, exactly as
# the sweep would drop it: only once the request is finished (``disconnected`` is set) and the
# task ended without an error. Errors and cancellations stay for daphne's sweep to log. Under
# another server (``send`` is not daphne's ``partial(Server.handle_reply, protocol)``) nothing
# happens.


def reap_when_done(send: Any) -> None:
    """After an HTTP application instance returns: have daphne forget the request now."""
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return
    connections = getattr(getattr(send.func, "__self__", None), "connections", None)
    if isinstance(connections, dict):
        # The task ends after this coroutine returns: look once it has.
        asyncio.get_running_loop().call_soon(_reap, connections, send.args[0])


def _reap(connections: dict, protocol: Any) -> None:
    details = connections.get(protocol)
    if not details or "disconnected" not in details:
        return  # still being answered (a streaming response ended early?): daphne's sweep decides
    task = details.get("application_instance")
    if task is None or (task.done() and not task.cancelled() and task.exception() is None):
        del connections[protocol]
