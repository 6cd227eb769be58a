from backend.core.permissions import rule


@rule("notification.own")
def notification_own(user, notification) -> bool:
    """Only the addressee reads or marks a notification."""
    return notification is not None and notification.user_id == user.pk
