"""Check-in writes, one module per sub-domain:

- ``events``: events, their staff and linked shifts, the end-of-event checkout;
- ``lists``: check-in lists;
- ``passes``: passes (issue, void, re-issue, block) and passes that follow volunteers' sign-ups;
- ``scans``: ``checkin_redeem``, the one redeem every scan goes through, and queue uploads;
- ``annul``: annulments of admitted scans;
- ``devices``: scanner devices and their gates;
- ``checkout``: the daily automatic check-out of a list (``auto_checkout_at``);
- ``changes``: the offline bundle's change log (``bundle_change_record``).

The redeem's decision and its SQL live in ``backend.checkin.redeem``. Every public name is
re-exported here: ``from backend.checkin.services import checkin_redeem`` keeps working.
"""

from backend.checkin.redeem.messages import DEVICE_MAX, NONCE_MAX, Redeem, RedeemResult, redeem_parse
from backend.checkin.services.annul import AnnulBy, checkin_annul
from backend.checkin.services.checkout import list_auto_checkout, lists_auto_checkout
from backend.checkin.services.devices import device_check, device_group, device_register, device_revoke
from backend.checkin.services.events import (
    event_auto_checkout,
    event_create,
    event_shifts_link,
    event_staff_grant,
    event_update,
)
from backend.checkin.services.lists import (
    checkin_list_create,
    checkin_list_rules_changed,
    checkin_list_update,
)
from backend.checkin.services.passes import (
    pass_add_attendee,
    pass_block,
    pass_door_search,
    pass_edited,
    pass_issue,
    pass_reissue,
    pass_void,
    signup_changed_listener,
    signup_passes_sync,
)
from backend.checkin.services.scans import checkin_redeem, checkin_upload

__all__ = [
    "DEVICE_MAX",
    "NONCE_MAX",
    "AnnulBy",
    "Redeem",
    "RedeemResult",
    "checkin_annul",
    "checkin_list_create",
    "checkin_list_rules_changed",
    "checkin_list_update",
    "checkin_redeem",
    "checkin_upload",
    "device_check",
    "device_group",
    "device_register",
    "device_revoke",
    "event_auto_checkout",
    "event_create",
    "event_shifts_link",
    "event_staff_grant",
    "event_update",
    "list_auto_checkout",
    "lists_auto_checkout",
    "pass_add_attendee",
    "pass_block",
    "pass_door_search",
    "pass_edited",
    "pass_issue",
    "pass_reissue",
    "pass_void",
    "redeem_parse",
    "signup_changed_listener",
    "signup_passes_sync",
]
