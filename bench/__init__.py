"""Linli benchmarks: one module each, run as ``python -m bench NAME``.

A benchmark module defines ``run(args) -> dict`` (and optionally ``add_arguments(parser)`` for its
own options). ``python -m bench`` prints the returned figures as exactly one JSON line on stdout;
logs go to stderr. Every benchmark measures its baseline in the same run and reports ``ratio``.

Shared parts:

- ``bench.harness``: ``Server`` (a real daphne process), ``free_port``, ``rss_kib``,
  ``percentile``, ``result``, CPU pinning helpers.
- ``bench.loadgen``: ``http_load`` (asyncio HTTP/1.1 keep-alive load generator) and
  ``ws_echo_load`` (websocket round trips).
- ``bench.apps``: bare ASGI apps (hello, websocket echo) for baselines.
- ``bench.hello``: the ``GET /api/v1/ping`` baseline, reusable as ``measure_hello``.
"""
