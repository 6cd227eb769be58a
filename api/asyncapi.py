"""The websocket protocol, published: an AsyncAPI 3 document at ``/api/v1/asyncapi.json``.

The document describes Linli's server (``send`` = the server sends a frame, ``receive`` = the
server receives one) on every socket of ``realtime.routing``: the echo socket, the event
scanner and the live dashboard. Close codes have no AsyncAPI construct: each channel lists its
own under ``x-close-codes`` (the close codes of ``realtime.consumers``).

The test suite checks every frame and close code the server sends in the realtime tests against
this document (``tests/support/asyncapi_contract.py``), as it checks HTTP answers against the
OpenAPI document. The tables below are the only place to edit when the protocol changes.
"""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest, JsonResponse

from api.docs import docs_visible
from backend.checkin.models import Checkin, Kind, Pass, Reason
from realtime.consumers import (
    CLOSE_BAD_FRAME,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNAVAILABLE,
)

OFFSET_TIME = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$",
    "description": "ISO 8601 with the +08:00 offset (Asia/Shanghai).",
}
NULLABLE_TIME = {"oneOf": [OFFSET_TIME, {"type": "null"}]}
NULLABLE_TEXT = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def _type(name: str) -> dict[str, Any]:
    return {"type": "string", "const": name}


# -- close codes (one table; a channel names the ones it uses) ------------------------------------

CLOSE_CODES: dict[int, str] = {
    1000: "Normal closure (the client left).",
    1011: "The server met an unexpected error; reconnect (a dashboard with ?since=SEQ).",
    CLOSE_UNAVAILABLE: "Service unavailable (as HTTP 503): the database is away; reconnect after a few seconds, with backoff.",
    CLOSE_UNAUTHENTICATED: (
        "Not authenticated: no token, an invalid or expired one, or the session ended (sign-out, "
        "cancelled account) while the socket was open. Refresh the token, then reconnect."
    ),
    CLOSE_FORBIDDEN: (
        "Forbidden: the user has no role on the event (an unknown event answers the same), the role "
        "was revoked while the socket was open, the scanner's registered device was revoked, or a "
        "browser page's Origin is not allowed."
    ),
    CLOSE_NOT_FOUND: "Scanner: the registered device named (`device_id`) is unknown for this event.",
    CLOSE_TOO_BIG: "A frame over the socket's size limit (any size, also over the server's 1 MiB cap).",
    CLOSE_BAD_FRAME: (
        "Abuse: 10 malformed frames (or refused redeems that could not be read) within 60 s. One "
        "malformed frame only gets an error frame and the socket stays."
    ),
}

#: Close codes each channel may send. Malformed frames (not JSON, not an object, binary) are
#: answered with an ``error`` frame (``invalid_json`` / ``invalid_message``); only repeated ones
#: within a minute close the socket (4400).
CHANNEL_CLOSE_CODES: dict[str, list[int]] = {
    "echo": [1000, 1011, CLOSE_UNAVAILABLE, CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_TOO_BIG],
    "scanner": [
        1000,
        1011,
        CLOSE_UNAVAILABLE,
        CLOSE_UNAUTHENTICATED,
        CLOSE_FORBIDDEN,
        CLOSE_NOT_FOUND,
        CLOSE_TOO_BIG,
        CLOSE_BAD_FRAME,
    ],
    "dashboard": [
        1000,
        1011,
        CLOSE_UNAVAILABLE,
        CLOSE_UNAUTHENTICATED,
        CLOSE_FORBIDDEN,
        CLOSE_TOO_BIG,
        CLOSE_BAD_FRAME,
    ],
}

#: Frame size limits (characters of one text frame) per channel (``max_message_chars``).
CHANNEL_MAX_CHARS = {"echo": 16 * 1024, "scanner": 2048, "dashboard": 512}

ERROR_CODES = {
    "invalid_json": "The frame is not valid JSON.",
    "invalid_message": "Not a JSON object with a string `type`, or a redeem with bad fields "
    "(`details.errors` lists them, `nonce` echoes the redeem's).",
    "unknown_type": "No message of that `type` on this socket (`details.type`).",
}


# -- schemas ----------------------------------------------------------------------------------------


def _feed(name: str, reason: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dashboard feed message: one recorded row (a scan, a forced scan we would have refused, an
    annulment), ``seq`` without gaps."""
    return _obj(
        {
            "type": _type(name),
            "seq": {"type": "integer", "description": "Per event, from 1, without gaps."},
            "kind": {"type": "string", "enum": list(Kind.values)},
            "status": {"type": "string", "enum": list(Checkin.Status.values)},
            "reason": {"oneOf": [reason, {"type": "null"}]},
            "pass": {"oneOf": [_ref("FeedPass"), {"type": "null"}]},
            "list": {"type": ["integer", "null"]},
            "scanned_at": OFFSET_TIME,
            "received_at": OFFSET_TIME,
            "late": {"type": "boolean"},
            "source": {"type": "string", "enum": list(Checkin.Source.values)},
            "checked_in": {"type": ["integer", "null"]},
            "inside": {"type": ["integer", "null"]},
            "list_counts": {"oneOf": [_ref("ListCounts"), {"type": "null"}]},
            "gate": NULLABLE_TEXT,
            "gate_counts": {"oneOf": [_ref("GateCounts"), {"type": "null"}]},
        },
        extra,
    )


def _schemas() -> dict[str, Any]:
    reason = {"type": "string", "enum": list(Reason.values)}
    return {
        "Error": _obj(
            {
                "type": _type("error"),
                "code": {
                    "type": "string",
                    "description": "Stable, as in the HTTP API: " + ", ".join(ERROR_CODES),
                },
                "message": {"type": "string", "description": "In the language of Accept-Language."},
                "details": {"type": "object"},
            },
            {"nonce": {"type": ["string", "null"]}},
        ),
        "Ping": _obj({"type": _type("ping")}, {"data": {}}),
        "EchoPong": _obj({"type": _type("pong"), "user_id": {"type": "integer"}, "data": {}}),
        "ScannerPong": _obj({"type": _type("pong")}),
        "DashboardPong": _obj({"type": _type("pong"), "seq": {"type": "integer"}}),
        "Redeem": _obj(
            {
                "type": _type("redeem"),
                "secret": {"type": "string", "minLength": 1, "maxLength": 512},
                "nonce": {"type": "string", "minLength": 8, "maxLength": 64},
            },
            {
                "kind": {"type": "string", "enum": [Kind.ENTRY, Kind.EXIT], "default": "entry"},
                "scanned_at": {"type": "string", "description": "ISO 8601; the server's time when absent."},
                "list": {"type": ["integer", "null"], "minimum": 1},
                "device": {"type": "string", "maxLength": 64},
                "device_id": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "A registered device.",
                },
                "forced": {"type": "boolean", "description": "Admit although the server would refuse."},
            },
        )
        | {"additionalProperties": True},
        "Annul": _obj(
            {
                "type": _type("annul"),
                "nonce": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 64,
                    "description": "The scan's nonce.",
                },
            },
            {
                "reason": {"type": "string"},
                "device_id": {"type": ["integer", "null"]},
                "device": {"type": "string", "maxLength": 64},
            },
        ),
        "ScanPass": _obj(
            {"name": {"type": "string"}, "kind": {"type": "string", "enum": list(Pass.Kind.values)}}
        ),
        "RedeemResult": _obj(
            {
                "type": _type("result"),
                "nonce": {"type": "string"},
                "status": {"type": "string", "enum": list(Checkin.Status.values)},
                "kind": {"type": "string", "enum": list(Kind.values)},
                "pass": {"oneOf": [_ref("ScanPass"), {"type": "null"}]},
                "checked_in_at": NULLABLE_TIME,
                "checked_in_gate": NULLABLE_TEXT,
                "gate": NULLABLE_TEXT,
                "list": {"type": ["integer", "null"]},
                "seq": {"type": "integer"},
                "late": {"type": "boolean"},
            },
            {"reason": reason, "replayed": {"const": True}, "forced": {"const": True}, "conflict": reason},
        ),
        "Resume": _obj({"type": _type("resume")}, {"since": {"type": ["integer", "null"]}}),
        "FeedPass": _obj(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": list(Pass.Kind.values)},
            }
        ),
        "ListCounts": _obj(
            {"id": {"type": "integer"}, "checked_in": {"type": "integer"}, "inside": {"type": "integer"}}
        ),
        "Checkin": _feed("checkin", reason),
        "Conflict": _feed(
            "conflict",
            reason,
            {
                "forced": {"type": "boolean"},
                "conflict": reason,
                "entry_at": NULLABLE_TIME,
                "entry_gate": NULLABLE_TEXT,
            },
        ),
        "Annulled": _feed(
            "annulled",
            reason,
            {
                "annulled_seq": {"type": "integer"},
                "annulled_kind": {"type": "string", "enum": list(Kind.values)},
                "note": {"type": "string"},
            },
        ),
        "GateCounts": _obj(
            {"gate": {"type": "string"}, "entries": {"type": "integer"}, "exits": {"type": "integer"}}
        ),
        "ListStats": _obj(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "checked_in": {"type": "integer"},
                "inside": {"type": "integer"},
            },
            {
                "auto_checked_out": {
                    "type": "integer",
                    "description": "Exits made by the list's auto check-out.",
                }
            },
        ),
        "Snapshot": _obj(
            {
                "type": _type("snapshot"),
                "event": {"type": "integer"},
                "seq": {"type": "integer", "description": "The feed position the counts are as of."},
                "passes": {"type": "integer"},
                "checked_in": {"type": "integer"},
                "inside": {"type": "integer"},
                "auto_checked_out": {"type": "integer"},
                "by_list": {"type": "array", "items": _ref("ListStats")},
                "by_gate": {"type": "array", "items": _ref("GateCounts")},
                "title": {"type": "string"},
                "starts_at": OFFSET_TIME,
                "ends_at": OFFSET_TIME,
                "recent": {
                    "type": "array",
                    "items": {"oneOf": [_ref("Checkin"), _ref("Conflict"), _ref("Annulled")]},
                },
            }
        ),
        "Resumed": _obj(
            {
                "type": _type("resumed"),
                "since": {"type": "integer"},
                "count": {"type": "integer", "description": "How many checkin messages follow."},
            }
        ),
    }


# -- messages and channels ----------------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    # name: (schema, summary)
    "error": ("Error", "A refused or malformed frame; the socket stays open."),
    "ping": ("Ping", "Keep-alive / round trip."),
    "echoPong": ("EchoPong", "The answer to ping: who the token belongs to, and the data sent."),
    "scannerPong": ("ScannerPong", "The answer to ping."),
    "dashboardPong": ("DashboardPong", "The answer to ping, with the dashboard's position."),
    "redeem": ("Redeem", "Redeem a pass (idempotent by nonce: a repeat answers the first result)."),
    "redeemResult": ("RedeemResult", "The outcome of one redeem, in the order redeems were sent."),
    "resume": ("Resume", "Ask for the checkin messages after `since` (or a snapshot)."),
    "snapshot": ("Snapshot", "Counts, lists and recent scans; sent on connect and when a gap is too long."),
    "resumed": ("Resumed", "Replay after `since` follows (`count` checkin messages)."),
    "checkin": ("Checkin", "One recorded scan, admitted or refused; `seq` without gaps."),
    "conflict": ("Conflict", "A forced scan the server would have refused (`conflict` says why)."),
    "annulled": ("Annulled", "An annulment of an earlier scan (`annulled_seq`); also the answer to annul."),
    "annul": ("Annul", "Annul a scan by its nonce (this device's within the window; a coordinator's: any)."),
}

CHANNELS: dict[str, dict[str, Any]] = {
    "echo": {
        "address": "/ws/v1/echo",
        "title": "Echo",
        "description": "Any signed-in user: test the connection and the token.",
        "receive": ["ping"],
        "send": ["echoPong", "error"],
    },
    "scanner": {
        "address": "/ws/v1/events/{event_id}/scan",
        "title": "Event scanner",
        "description": (
            "Scanners and coordinators of the event redeem passes. Every redeem is answered by one "
            "`result` (also a refused scan: `status: error` with a `reason`) or an `error` frame."
        ),
        "query": {"device_id": "Scan as this registered device (its gate; follows its revocation)."},
        "receive": ["redeem", "annul", "ping"],
        "send": ["redeemResult", "annulled", "scannerPong", "error"],
    },
    "dashboard": {
        "address": "/ws/v1/events/{event_id}/live",
        "title": "Live dashboard",
        "description": (
            "Coordinators of the event or its organisation. On connect: a `snapshot`, or with "
            "`?since=SEQ` a `resumed` and the missed `checkin` messages. Then one `checkin` per "
            "recorded scan in seq order; a dashboard that sees a gap (or reconnects) sends "
            "`resume` with its last seq. The server heals dropped messages from the database."
        ),
        "query": {"since": "The last seq the dashboard has (optional)."},
        "receive": ["resume", "ping"],
        "send": ["snapshot", "resumed", "checkin", "conflict", "annulled", "dashboardPong", "error"],
    },
}


def _channel(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": spec["address"],
        "title": spec["title"],
        "description": spec["description"],
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in [*spec["receive"], *spec["send"]]},
        "x-close-codes": [{"code": c, "description": CLOSE_CODES[c]} for c in CHANNEL_CLOSE_CODES[name]],
        "x-max-frame-chars": CHANNEL_MAX_CHARS[name],
        "bindings": {"ws": {"method": "GET", "bindingVersion": "0.1.0"}},
    }
    if "{event_id}" in spec["address"]:
        channel["parameters"] = {"event_id": {"description": "The event's id."}}
    if spec.get("query"):
        channel["bindings"]["ws"]["query"] = {
            "type": "object",
            "properties": {k: {"type": "integer", "description": v} for k, v in spec["query"].items()},
        }
    return channel


def _operations() -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for name, spec in CHANNELS.items():
        for action in ("receive", "send"):
            ops[f"{name}_{action}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{name}"},
                "messages": [{"$ref": f"#/channels/{name}/messages/{m}"} for m in spec[action]],
            }
    return ops


@functools.cache
def document() -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Linli websockets",
            "version": "1",
            "description": (
                "Linli's websockets, described from the server's side (`send`: the server sends). "
                "Every frame is one JSON object with a `type`. Authentication: "
                "`Authorization: Bearer <token>` (mini-program) or the subprotocols "
                '`["linli.v1", "bearer.<token>"]` (browsers; the server accepts `linli.v1`); never '
                "in the URL. A refused socket is accepted, then closed with a code of "
                "`x-close-codes`. Error frames carry the HTTP API's codes. The REST API: "
                "/api/v1/openapi.json."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "linli": {
                "host": "{host}",
                "protocol": "wss",
                "description": "The API's host (ws:// in development).",
                "variables": {"host": {"default": "127.0.0.1:8000"}},
            }
        },
        "channels": {name: _channel(name, spec) for name, spec in CHANNELS.items()},
        "operations": _operations(),
        "components": {
            "messages": {
                name: {
                    "name": name,
                    "summary": summary,
                    "contentType": "application/json",
                    "payload": _ref(schema),
                }
                for name, (schema, summary) in MESSAGES.items()
            },
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {"type": "httpApiKey", "name": "Authorization", "in": "header"},
            },
        },
        "x-close-codes": [{"code": c, "description": d} for c, d in CLOSE_CODES.items()],
    }


@docs_visible
def asyncapi_json(request: HttpRequest) -> JsonResponse:
    """``GET /api/v1/asyncapi.json``."""
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
