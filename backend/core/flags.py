"""On/off switches read from settings or the environment (no Django needed here)."""

from __future__ import annotations

OFF = frozenset({"0", "false", "no", "off"})


def switched_on(value: object) -> bool:
    """``"0"``, ``"false"``, ``"no"``, ``"off"`` (any case, spaces ignored) and ``False`` are off;
    anything else is on."""
    return str(value).strip().lower() not in OFF
