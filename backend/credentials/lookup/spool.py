"""The lookup log's write-ahead spool: what the log promises survives the process.

The promise (README, "Credential lookup"): every lookup that got an answer is in the lookup log,
also when the server process is killed outright (SIGKILL, the OOM killer) before its writer
thread wrote the row. Before the answer leaves, the row is appended to a spool file (one
``write`` to the kernel: a killed process loses nothing it wrote; only a crash of the machine
itself can lose the last seconds, as nothing is fsynced). The writer thread writes rows to the
database as before; once a segment's rows are all in the database, the segment is deleted. A
process that starts (its writer thread) replays the segments of processes that died, skipping
rows already in the database (a kill between a batch's commit and the segment's deletion).

Segments are ``lookup-<pid>-<random>.jsonl`` in ``LINLI_LOOKUP_LOG_SPOOL`` (default
``var/lookup-spool``). A live process holds an exclusive ``flock`` on each of its segments, so
a segment anyone can lock belongs to a process that is gone (also across containers sharing
the directory, where pids repeat).
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("linli.credentials.lookup")

PATTERN = "lookup-*.jsonl"


class Segment:
    """One spool file this process appends to (and holds locked until it deletes it)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"lookup-{os.getpid()}-{secrets.token_hex(6)}.jsonl"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def append(self, line: bytes) -> None:
        os.write(self.fd, line)

    def delete(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(self.fd)


def encode(row: tuple) -> bytes:
    """One line: the row's Python literal (strings, numbers, None; the time as text). ``repr``
    costs a third of ``json.dumps`` on the request's path; replay reads it with
    ``ast.literal_eval``."""
    at = row[0] if isinstance(row[0], str) else str(row[0])
    return (repr((at, *row[1:])) + "\n").encode()


class Spool:
    """The segments of this process: the current one, and closed ones whose rows may not all be
    in the database yet (``rotate`` before taking rows, ``written`` after they all are)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.current = Segment(directory)
        self.closed: list[Segment] = []

    def rotate(self) -> None:
        """Start a new segment: the rows waiting now are all in the closed ones."""
        self.closed.append(self.current)
        self.current = Segment(self.directory)

    def written(self) -> None:
        """Every row of the closed segments is in the database."""
        for segment in self.closed:
            segment.delete()
        self.closed = []

    def close(self, *, empty: bool) -> None:
        """At exit: delete everything if nothing waits any more."""
        if empty:
            self.written()
            self.current.delete()


def orphans(directory: Path) -> list[Path]:
    """Segments of processes that are gone (their lock is free)."""
    found = []
    for path in sorted(directory.glob(PATTERN)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live process holds it
        finally:
            os.close(fd)
        found.append(path)
    return found


def read_rows(path: Path) -> list[list[Any]]:
    rows = []
    for line in path.read_bytes().splitlines():
        with contextlib.suppress(ValueError, SyntaxError, UnicodeDecodeError):
            row = ast.literal_eval(line.decode())  # a line cut by the kill is no answered lookup
            if isinstance(row, tuple):
                rows.append(list(row))
    return rows


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def replay(directory: Path, *, existing: Callable[[datetime, datetime], set[tuple]], insert: Callable) -> int:
    """Write the rows of dead processes' segments that the database lacks; delete the segments.
    ``existing(first, last)`` answers the keys (``row_key``) of logged rows in that time range;
    ``insert(rows)`` writes rows with parsed times. Returns how many rows were written."""
    total = 0
    for path in orphans(directory):
        rows = read_rows(path)
        if rows:
            for row in rows:
                row[0] = parse_time(row[0])
            have = existing(min(r[0] for r in rows), max(r[0] for r in rows))
            missing = [tuple(r) for r in rows if row_key(r) not in have]
            if missing:
                insert(missing)
            total += len(missing)
            log.warning(
                "lookup log: %d rows replayed from %s (%d already written)",
                len(missing),
                path.name,
                len(rows) - len(missing),
            )
        with contextlib.suppress(OSError):
            path.unlink()
    return total


def row_key(row: Any) -> tuple:
    """(time, result, channel, token id, client network): the same lookup, logged twice."""
    at = row[0]
    return (at.astimezone(UTC).replace(tzinfo=None), row[1], row[2], row[3], row[7])
