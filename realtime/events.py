"""Group names and broadcast helpers shared by services and consumers."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def group_send_after_commit(group: str, message: dict[str, Any]) -> None:
    """Broadcast ``message`` to ``group`` once the current transaction commits (never on rollback)."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)
