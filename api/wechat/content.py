"""How an operation that stores text others will see documents WeChat's content check.

``@router.post(..., openapi_extra=CONTENT_CHECKED)``: its 422 answer names ``content_rejected``
beside the validation errors, so a client knows to show the refused field.
"""

from __future__ import annotations

from typing import Any

CONTENT_CHECKED: dict[str, Any] = {
    "responses": {
        "422": {
            "description": (
                "`validation_error`, or `content_rejected`: WeChat's content check refused the text "
                "of the field named in `details.field` (nothing was stored)."
            )
        }
    }
}
