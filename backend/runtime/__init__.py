"""What makes the server fast and lets it scale, in one place.

- ``handlers``: the HTTP router by path (credential lookup fast path, lean API handler, full
  Django handler) and the reaping of finished requests from daphne's table.
- ``gc``: collector settings for a long-lived server process.
- ``server``: daphne's command line and server as Linli runs them (``python -m backend.serve``).
- ``channels``: channel-layer tuning (channels-redis against redis-py's timeouts).
- ``broadcast``: the one after-commit websocket broadcast (``publish_after_commit``).
- ``postgresql``: Django's PostgreSQL backend with the pool's health check only for a connection
  that sat idle (settings name it as the engine).
- ``sockets``: closing open sockets when their session, role or device ends (groups
  ``session.<id>``, ``user.<id>``, ``device.<id>``).

Each module's docstring carries the measurement behind its setting.
"""
