"""The public lookup: a resident scans a practitioner's badge and sees, within a second, whether
this person is certified now.

Three ways in, one answer:

* ``GET /v/<TOKEN>`` (the page a phone camera opens) and ``GET /api/v1/verify/<TOKEN>`` (the
  mini-program's scan): under daphne the raw ASGI app ``fastpath.LookupFastPath`` answers them in
  front of Django (``backend.asgi`` mounts it); elsewhere the Django view
  (``backend.credentials.views``) and the ninja route (``api.credentials``) do, with the same
  status, headers and body;
* ``POST /api/v1/verify/manual`` and the form at ``/v/``: certificate number **and** name, for
  people without a camera.

The flow of a scanned token, cheapest first::

    fastpath.LookupFastPath      route by path; Django's SecurityMiddleware checks and headers
      │ ratelimit.lookup_limit   per client address: Redis (redis.asyncio on the loop) or in process
      ▼
    responses.token_answer       the one function every way in calls
      │ answer.alookup_token
      │   1. Ed25519 signature with keys cached in the process: forged → ``not_genuine``, no query
      │   2. db.aquery_token_row: one SELECT, on the event loop, on a connection of its own
      │      (sqlite3 read-only / psycopg asyncio; Django's connection when LINLI_LOOKUP_DB=django)
      │   3. status rules → LookupResult (valid / expired / suspended / revoked / blacklisted …)
      │ log.lookup_record        a tuple queued in memory
      ▼                          JSON or the HTML page, ``Cache-Control: no-store``
    log.LookupLogBuffer          a low-priority writer thread: batched multi-row INSERTs

Modules:
    ``fastpath``   the raw ASGI app and its routing
    ``responses``  the HTTP answers (JSON, pages, throttled, errors), shared by every way in
    ``answer``     token or number + name → ``LookupResult`` (the status rules)
    ``db``         the status query, compiled once, and its direct readers per event loop
    ``log``        the lookup log: queueing, the writer thread, the INSERT
    ``ratelimit``  per-address fixed-window limits of the QR and the manual lookup

Settings (``backend.credentials.conf``): ``LINLI_LOOKUP_FAST_PATH``, ``LINLI_LOOKUP_RATE``,
``LINLI_MANUAL_LOOKUP_RATE``, ``LINLI_LOOKUP_DB*``, ``LINLI_LOOKUP_LOG_*``.
"""
