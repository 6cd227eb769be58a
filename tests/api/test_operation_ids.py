"""Operation ids are API: clients generated from /api/v1/openapi.json name their methods after
them. Every published id stays (``operation_ids.json``); new operations may join, and every id is
``api_<domain>_<view>`` and unique."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from api.main import api

PINNED = json.loads((Path(__file__).parent / "operation_ids.json").read_text(encoding="utf-8"))


def _served() -> dict[str, str]:
    schema = api.get_openapi_schema()
    return {
        f"{m.upper()} {p}": op["operationId"] for p, item in schema["paths"].items() for m, op in item.items()
    }


def test_published_operation_ids_do_not_change():
    served = _served()
    changed = {key: (old, served.get(key)) for key, old in PINNED.items() if served.get(key) != old}
    assert changed == {}


def test_operation_ids_name_their_domain_and_are_unique():
    served = _served()
    assert all(re.fullmatch(r"api_[a-z]+_[a-z0-9_]+", op) for op in served.values())
    assert [op for op, n in Counter(served.values()).items() if n > 1] == []
