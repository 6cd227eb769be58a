"""The signing-key store: which Ed25519 key signs and verifies compact tokens for each purpose.

Purposes and their domain tags (``backend.core.signed_tokens``)
    ``credential`` → ``CREDENTIAL_DOMAIN`` (practitioner badges), ``pass`` → ``PASS_DOMAIN`` (event
    passes). A token signed for one purpose never verifies for another.

Contract (other domains use only these)
    ``token_sign(purpose=, token_id=, issued=, expires=) -> str``
    ``token_verify(purpose=, token=, today=None, check_expiry=True) -> TokenPayload``, raising
    ``TokenError`` with code ``malformed`` / ``unknown_key`` / ``bad_signature`` / ``revoked_key``
    / ``expired`` (an expired token's error carries ``.payload``: it *was* genuine).
    ``atoken_verify(...)`` the same for async views (reloads keys off the event loop when due).
    ``public_jwks(purpose=None) -> dict`` the RFC 8037 JWK Set of keys that may still verify.

Hot path without database
    Verification uses public keys cached in the process. The cache is refreshed when
    (a) the key-set version in Django's cache changed — checked at most every
    ``LINLI_SIGNING_KEYS_RECHECK`` seconds (default 5) — or (b) it is older than
    ``LINLI_SIGNING_KEYS_MAX_AGE`` seconds (default 60). Every change (new key, rotation,
    revocation) writes a new version after commit. With a shared cache (Redis, production) a
    revocation stops verifying in every process within 5 s; with a per-process cache (the
    local-memory default) within 60 s. The process that made the change sees it at once.
    Between refreshes a verification costs no query; a refresh costs one.

Private keys
    Sealed with ``backend.core.crypto.seal`` (purpose ``core.signing_key``) in ``SigningKey``, or
    kept outside the database in the JSON file named by ``LINLI_SIGNING_KEY_FILE``::

        {"keys": [{"kid": 12, "purpose": "credential", "seed": "<urlsafe base64 of 32 bytes>"}]}

    ``manage.py rotate_signing_keys --import-file`` registers the file's keys (public halves only
    go to the database). When no key is active for a purpose, ``token_sign`` creates one (sealed).

Rotation and revocation: ``key_rotate`` makes a new active key and retires the old one (it keeps
verifying; JWKS keeps publishing it while a token it signed may be unexpired); ``key_revoke``
stops a key verifying at once in this process and within the bounds above elsewhere.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from backend.core.audit import audit_record
from backend.core.crypto import seal, unseal
from backend.core.models import SigningKey
from backend.core.signed_tokens import (
    CREDENTIAL_DOMAIN,
    PASS_DOMAIN,
    SERVICE_PROOF_DOMAIN,
    VERSION,
    SignedDocument,
    TokenError,
    TokenPayload,
    Verifier,
    public_jwk,
    sign_document,
    sign_token,
    verify_document,
    verify_token,
)

log = logging.getLogger("linli.keys")

__all__ = [
    "DOMAINS",
    "KeyInfo",
    "atoken_verify",
    "document_sign",
    "document_verify",
    "key_import_file",
    "key_revoke",
    "key_rotate",
    "keys_invalidate",
    "keys_list",
    "public_jwks",
    "token_sign",
    "token_verify",
]

DOMAINS: dict[str, bytes] = {
    "credential": CREDENTIAL_DOMAIN,
    "pass": PASS_DOMAIN,
    "service_proof": SERVICE_PROOF_DOMAIN,
}
SEAL_PURPOSE = "core.signing_key"
VERSION_CACHE_KEY = "linli:signing-keys:version"


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_SIGNING_KEYS_RECHECK", 5))


def _max_age_seconds() -> float:
    return float(getattr(settings, "LINLI_SIGNING_KEYS_MAX_AGE", 60))


def _today() -> date:
    return timezone.localdate()


def _domain(purpose: str) -> bytes:
    try:
        return DOMAINS[purpose]
    except KeyError:
        raise ValueError(f"unknown token purpose {purpose!r}") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the in-process public-key cache -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: int
    purpose: str
    status: str
    public_key: Ed25519PublicKey
    last_expiry: date | None
    signed_unexpiring: bool
    created_at: datetime | None = None
    verifier: Verifier = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "verifier", Verifier(self.public_key))  # frozen: set once here

    def published(self, today: date) -> bool:
        """Whether JWKS lists the key: not revoked, and active or with tokens that may be valid."""
        if self.status == "revoked":
            return False
        if self.status == "active" or self.signed_unexpiring:
            return True
        return self.last_expiry is not None and self.last_expiry >= today


#: The key-set version could not be read (the shared cache, Redis, is away).
_UNKNOWN: Any = object()


def _cache_failed() -> Any:
    log.warning("signing keys: the shared cache cannot be reached; keys are rechecked in the database")
    return _UNKNOWN


def _version_read() -> Any:
    """The key-set version from Django's cache, ``_UNKNOWN`` when the cache fails. Verification
    must outlive the cache (a resident at the door gets an answer, not a 500)."""
    try:
        return cache.get(VERSION_CACHE_KEY)
    except Exception:
        return _cache_failed()


class _KeyCache:
    def __init__(self) -> None:
        self.keys: dict[int, KeyInfo] = {}
        self.version: Any = None
        self.loaded_at = float("-inf")
        self.checked_at = float("-inf")
        self.lock = threading.Lock()

    def due(self) -> bool:
        """True when the keys must be reloaded from the database (at most a cache read here)."""
        now = time.monotonic()
        if now - self.loaded_at >= _max_age_seconds():
            return True
        if now - self.checked_at < _recheck_seconds():
            return False
        self.checked_at = now
        version = _version_read()
        # The shared cache is away: nobody can announce a change, so reload from the database at
        # every recheck instead (one query per process every few seconds) until it is back.
        return version is _UNKNOWN or version != self.version

    def load(self) -> None:
        with self.lock:
            version = _version_read()
            if version is None:
                version = secrets.token_hex(8)
                try:
                    cache.add(VERSION_CACHE_KEY, version, None)
                    version = cache.get(VERSION_CACHE_KEY, version)
                except Exception:
                    version = _cache_failed()
            rows = SigningKey.objects.values_list(
                "kid", "purpose", "status", "public_key", "last_expiry", "signed_unexpiring", "created_at"
            )
            self.keys = {
                kid: KeyInfo(
                    kid=kid,
                    purpose=purpose,
                    status=status,
                    public_key=Ed25519PublicKey.from_public_bytes(_unb64(public)),
                    last_expiry=last_expiry,
                    signed_unexpiring=unexpiring,
                    created_at=created_at,
                )
                for kid, purpose, status, public, last_expiry, unexpiring, created_at in rows
            }
            self.version = version
            self.loaded_at = self.checked_at = time.monotonic()

    def invalidate(self) -> None:
        self.loaded_at = float("-inf")


_cache = _KeyCache()


def keys_invalidate(*, everywhere: bool = True) -> None:
    """Forget the cached keys here, and (``everywhere``) tell other processes to reload too."""
    _cache.invalidate()
    if everywhere:
        try:
            cache.set(VERSION_CACHE_KEY, secrets.token_hex(8), None)
        except Exception:
            # The other processes reload from the database while they cannot read the version.
            _cache_failed()


def _changed() -> None:
    _cache.invalidate()  # this process at once (a reload inside the transaction sees the change)
    transaction.on_commit(keys_invalidate)  # the others once the change is visible to them


def _cached_keys() -> dict[int, KeyInfo]:
    if _cache.due():
        _cache.load()
    return _cache.keys


async def _acached_keys() -> dict[int, KeyInfo]:
    if _cache.due():
        await sync_to_async(_cache.load, thread_sensitive=True)()
    return _cache.keys


def _key_lookup(purpose: str, keys: dict[int, KeyInfo], revoked: list[int]) -> Any:
    """The ``public_key_for`` of a verification: keys of ``purpose`` only; a revoked key still
    checks the signature (noted in ``revoked``) so a forgery cannot tell revoked ids apart."""

    def public_key_for(kid: int) -> Verifier | None:
        info = keys.get(kid)
        if info is None or info.purpose != purpose:
            return None
        if info.status == "revoked":
            revoked.append(kid)
        return info.verifier

    return public_key_for


def _check(
    purpose: str, token: str, keys: dict[int, KeyInfo], today: date | None, check_expiry: bool
) -> TokenPayload:
    domain = _domain(purpose)
    revoked: list[int] = []
    payload = verify_token(token, domain=domain, public_key_for=_key_lookup(purpose, keys, revoked))
    if revoked:
        # Checked after the signature, so a forged token cannot tell revoked key ids from others.
        raise TokenError("revoked_key", f"key {payload.key_id} is revoked")
    if check_expiry and payload.is_expired(on=today or _today()):
        error = TokenError("expired", f"the token expired on {payload.expires_day}")
        error.payload = payload  # type: ignore[attr-defined]
        raise error
    return payload


def token_verify(
    *, purpose: str, token: str, today: date | None = None, check_expiry: bool = True
) -> TokenPayload:
    """Verify ``token`` for ``purpose`` with cached public keys (no query between refreshes)."""
    return _check(purpose, token, _cached_keys(), today, check_expiry)


async def atoken_verify(
    *, purpose: str, token: str, today: date | None = None, check_expiry: bool = True
) -> TokenPayload:
    """``token_verify`` for async code: a due key reload runs in a thread, never on the loop."""
    return _check(purpose, token, await _acached_keys(), today, check_expiry)


def public_jwks(purpose: str | None = None) -> dict[str, Any]:
    """The public keys that may still verify a valid token, as an RFC 8037 JWK Set.

    Each key carries the standard members (``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``)
    plus ``purpose`` and ``status`` (``active`` signs new tokens; ``retired`` only verifies)."""
    if purpose is not None:
        _domain(purpose)
    today = _today()
    out = []
    for kid, info in sorted(_cached_keys().items()):
        if (purpose is None or info.purpose == purpose) and info.published(today):
            out.append({**public_jwk(kid, info.public_key), "purpose": info.purpose, "status": info.status})
    return {"keys": out}


def keys_list() -> list[KeyInfo]:
    """Every key (from the database, not the cache), for the management command and admin."""
    _cache.load()
    return sorted(_cache.keys.values(), key=lambda k: k.kid)


# --- private keys and signing ------------------------------------------------------------------


def _key_file() -> dict[int, tuple[str, bytes]]:
    path = getattr(settings, "LINLI_SIGNING_KEY_FILE", "") or ""
    if not path:
        path = os.environ.get("LINLI_SIGNING_KEY_FILE", "")
    if not path:
        return {}
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[int, tuple[str, bytes]] = {}
    for entry in data.get("keys", []):
        seed = _unb64(str(entry["seed"]))
        if len(seed) != 32:
            raise ValueError(f"LINLI_SIGNING_KEY_FILE: key {entry.get('kid')} is not 32 bytes")
        _domain(entry["purpose"])
        out[int(entry["kid"])] = (entry["purpose"], seed)
    return out


def _private_key(row: Any) -> Ed25519PrivateKey:
    if row.private_key_sealed:
        seed = _unb64(unseal(row.private_key_sealed, purpose=SEAL_PURPOSE))
    else:
        entry = _key_file().get(row.kid)
        if entry is None:
            raise RuntimeError(
                f"The private half of signing key {row.kid} is neither sealed nor in the key file."
            )
        seed = entry[1]
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if _b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)) != row.public_key:
        raise RuntimeError(f"The private key of signing key {row.kid} does not match its public key.")
    return key


def _next_kid() -> int:
    top = SigningKey.objects.aggregate(top=Max("kid"))["top"] or 0
    if top >= 0xFFFF:
        raise RuntimeError("No signing key ids are left (2 bytes).")
    return top + 1


def _create_key(
    *,
    purpose: str,
    seed: bytes | None = None,
    kid: int | None = None,
    sealed: bool = True,
    status: str = "active",
) -> Any:
    private = Ed25519PrivateKey.from_private_bytes(seed) if seed is not None else Ed25519PrivateKey.generate()
    raw_seed = private.private_bytes_raw()
    public = _b64(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    row = SigningKey.objects.create(
        kid=kid if kid is not None else _next_kid(),
        purpose=purpose,
        status=status,
        retired_at=timezone.now() if status == "retired" else None,
        public_key=public,
        private_key_sealed=seal(_b64(raw_seed), purpose=SEAL_PURPOSE) if sealed else "",
    )
    _changed()
    return row


def _active_key(purpose: str) -> Any:
    row = SigningKey.objects.filter(purpose=purpose, status=SigningKey.Status.ACTIVE).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            row = _create_key(purpose=purpose)
            audit_record(
                actor=None, action="signing_key.create", target=row, data={"kid": row.kid, "purpose": purpose}
            )
            return row
    except IntegrityError:  # another process created it first
        return SigningKey.objects.get(purpose=purpose, status=SigningKey.Status.ACTIVE)


def token_sign(*, purpose: str, token_id: bytes, issued: date, expires: date | None) -> str:
    """Sign a token for ``purpose`` with its active key (created on first use)."""
    domain = _domain(purpose)
    with transaction.atomic():
        row = _active_key(purpose)
        payload = TokenPayload(
            version=VERSION, key_id=row.kid, token_id=token_id, issued_day=issued, expires_day=expires
        )
        token = sign_token(payload, private_key=_private_key(row), domain=domain)
        # Remember how long this key's tokens may live, so JWKS keeps it after rotation.
        if expires is None:
            SigningKey.objects.filter(pk=row.pk, signed_unexpiring=False).update(signed_unexpiring=True)
        else:
            SigningKey.objects.filter(pk=row.pk).filter(
                Q(last_expiry__isnull=True) | Q(last_expiry__lt=expires)
            ).update(last_expiry=expires)
    return token


def document_sign(*, purpose: str, body: bytes) -> str:
    """Sign a document (``signed_tokens.sign_document``) with the purpose's active key. Documents
    do not expire (a proof of past service stays true), so the key stays published (JWKS) after
    rotation until it is revoked."""
    domain = _domain(purpose)
    with transaction.atomic():
        row = _active_key(purpose)
        token = sign_document(body, key_id=row.kid, private_key=_private_key(row), domain=domain)
        SigningKey.objects.filter(pk=row.pk, signed_unexpiring=False).update(signed_unexpiring=True)
    return token


def document_verify(*, purpose: str, token: str) -> SignedDocument:
    """Verify a signed document with the cached public keys (no query between refreshes); raises
    ``TokenError`` (``malformed`` / ``unknown_key`` / ``bad_signature`` / ``revoked_key``)."""
    domain = _domain(purpose)
    revoked: list[int] = []
    document = verify_document(
        token, domain=domain, public_key_for=_key_lookup(purpose, _cached_keys(), revoked)
    )
    if revoked:
        raise TokenError("revoked_key", f"key {document.key_id} is revoked")
    return document


# --- rotation, revocation, import --------------------------------------------------------------


def key_rotate(*, purpose: str, actor: Any = None) -> Any:
    """Retire the active key of ``purpose`` (it keeps verifying) and make a new active key."""
    _domain(purpose)
    with transaction.atomic():
        old = list(
            SigningKey.objects.select_for_update().filter(purpose=purpose, status=SigningKey.Status.ACTIVE)
        )
        SigningKey.objects.filter(pk__in=[k.pk for k in old]).update(
            status=SigningKey.Status.RETIRED, retired_at=timezone.now()
        )
        row = _create_key(purpose=purpose)
        audit_record(
            actor=actor,
            action="signing_key.rotate",
            target=row,
            data={"kid": row.kid, "purpose": purpose, "retired": [k.kid for k in old]},
        )
    return row


def key_revoke(*, kid: int, reason: str, actor: Any = None) -> Any:
    """Stop key ``kid`` verifying: every token it signed becomes ``revoked_key``."""
    with transaction.atomic():
        row = SigningKey.objects.select_for_update().get(kid=kid)
        if row.status != SigningKey.Status.REVOKED:
            SigningKey.objects.filter(pk=row.pk).update(
                status=SigningKey.Status.REVOKED, revoked_at=timezone.now(), revoked_reason=reason[:200]
            )
            row.refresh_from_db()
            audit_record(
                actor=actor, action="signing_key.revoke", target=row, data={"kid": kid}, reason=reason
            )
            _changed()
    _cache.invalidate()  # this process stops at once (after commit for the other processes)
    return row


def key_import_file(*, actor: Any = None) -> list[int]:
    """Register the keys of ``LINLI_SIGNING_KEY_FILE`` (public halves only). The key with the
    highest kid of each purpose becomes active unless that purpose already has a newer key."""
    entries = _key_file()
    added: list[int] = []
    with transaction.atomic():
        for kid, (purpose, seed) in sorted(entries.items()):
            existing = SigningKey.objects.filter(kid=kid).first()
            if existing is not None:
                if existing.purpose != purpose:
                    raise ValueError(f"key {kid} is registered for {existing.purpose}, not {purpose}")
                continue
            SigningKey.objects.filter(purpose=purpose, status=SigningKey.Status.ACTIVE, kid__lt=kid).update(
                status=SigningKey.Status.RETIRED, retired_at=timezone.now()
            )
            newer = SigningKey.objects.filter(purpose=purpose, status=SigningKey.Status.ACTIVE).exists()
            status = SigningKey.Status.RETIRED if newer else SigningKey.Status.ACTIVE
            row = _create_key(purpose=purpose, seed=seed, kid=kid, sealed=False, status=status)
            audit_record(
                actor=actor, action="signing_key.import", target=row, data={"kid": kid, "purpose": purpose}
            )
            added.append(kid)
    return added
