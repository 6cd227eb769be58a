"""Firebase Auth: verifying phone-number ID tokens with firebase-admin.

With ``FIREBASE_AUTH_EMULATOR_HOST`` set (tests, local development) the SDK verifies the
emulator's unsigned tokens and needs no credentials; otherwise ``FIREBASE_CREDENTIALS`` names a
service-account file (or application default credentials apply).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import firebase_admin
from django.conf import settings
from firebase_admin import auth, credentials

_lock = threading.Lock()
_apps: dict[tuple[str, str, str], firebase_admin.App] = {}


def configured() -> bool:
    """Whether this server can verify Firebase tokens: a service-account file, application
    default credentials named by ``GOOGLE_APPLICATION_CREDENTIALS``, or the emulator. Without any,
    the SDK would go looking for credentials (the cloud metadata address included): it is not
    asked at all."""
    return bool(
        settings.FIREBASE_CREDENTIALS
        or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        or os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    )


def firebase_app() -> firebase_admin.App:
    emulator = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "")
    key = (settings.FIREBASE_PROJECT_ID, settings.FIREBASE_CREDENTIALS, emulator)
    with _lock:
        app = _apps.get(key)
        if app is None:
            cred: Any = None
            if settings.FIREBASE_CREDENTIALS:
                cred = credentials.Certificate(settings.FIREBASE_CREDENTIALS)
            app = firebase_admin.initialize_app(
                cred, options={"projectId": settings.FIREBASE_PROJECT_ID}, name=f"linli-{len(_apps)}"
            )
            _apps[key] = app
        return app


class FirebaseTokenError(Exception):
    pass


def verify_id_token(id_token: str) -> dict[str, Any]:
    try:
        return auth.verify_id_token(id_token, app=firebase_app(), clock_skew_seconds=10)
    except (auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError) as exc:
        raise FirebaseTokenError(str(exc)) from exc
    except (ValueError, auth.CertificateFetchError) as exc:
        raise FirebaseTokenError(str(exc)) from exc
