"""Field encryption and blind indexes for personal identifiers (ID numbers above all).

Sealed values
    ``seal`` encrypts a string with AES-256-GCM under the current data key, with a random 96-bit
    nonce and the *purpose* (e.g. ``"volunteer.id_number"``) as associated data, so a value sealed
    for one column does not open as another. The result is ASCII::

        v1.<kid>.<urlsafe base64 without padding of nonce (12 bytes) || ciphertext || tag (16 bytes)>

    ``kid`` is 8 hex characters of SHA-256 over the key (a fingerprint, not a secret), so
    ``unseal`` knows which key to use and keys can rotate: a new key seals, old keys still open.
    An 18-character ID number seals to 74 characters.

Data keys (read from Django settings on every call, never at import)
    current  ``LINLI_DATA_KEY`` (urlsafe base64 of 32 bytes) or, when empty, HKDF-SHA256 of
             ``SECRET_KEY`` with info ``b"linli data key"`` (fine for development; production sets
             the explicit key so a SECRET_KEY rotation doesn't touch stored data).
    old      each key of ``LINLI_DATA_KEYS_OLD``, the HKDF keys of ``SECRET_KEY_FALLBACKS`` and,
             when ``LINLI_DATA_KEY`` is set, the HKDF key of ``SECRET_KEY`` (the move from a derived
             to an explicit key). Old keys only open; ``needs_reseal`` finds values to re-seal.

Blind indexes
    ``blind_index`` is HMAC-SHA256 under a separate index key (``LINLI_INDEX_KEY``, or HKDF of
    ``SECRET_KEY`` with info ``b"linli index key"``) over ``purpose || 0x00 || normalised value``,
    as 64 hex characters: a unique column for "this ID number is already registered" without
    storing the number in clear. The index key cannot rotate without recomputing every index, so
    production must set ``LINLI_INDEX_KEY`` explicitly.

Every function takes an explicit key (``keyring=`` / ``key=``) for callers and tests that do not
use Django settings; without one, settings are read lazily.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "CryptoError",
    "Keyring",
    "blind_index",
    "data_key",
    "data_keyring",
    "derive_key",
    "generate_key",
    "index_key",
    "key_id",
    "needs_reseal",
    "normalize_for_index",
    "seal",
    "unseal",
]

SEAL_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
DATA_KEY_INFO = b"linli data key"
INDEX_KEY_INFO = b"linli index key"

_B64URL_RE = re.compile(r"[A-Za-z0-9_-]+")
_KID_RE = re.compile(r"[0-9a-f]{8}")
_WHITESPACE_RE = re.compile(r"\s+")


class CryptoError(Exception):
    """A sealed value cannot be opened. ``code``: malformed, unknown_key or invalid."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        super().__init__(message or code)


# --- keys --------------------------------------------------------------------------------------


def generate_key() -> str:
    """A fresh key in the settings format (urlsafe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def derive_key(secret: str | bytes, *, info: bytes) -> bytes:
    """HKDF-SHA256 of a secret (e.g. Django's SECRET_KEY) to a 32-byte key for one use."""
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(material)


def key_id(key: bytes) -> str:
    """The public fingerprint of a key, written into every value it seals."""
    return hashlib.sha256(b"linli key id\x00" + key).hexdigest()[:8]


def check_setting_keys(values: dict[str, list[str]]) -> None:
    """Raise ``ImproperlyConfigured`` naming the first malformed key setting (``backend.settings``
    calls this at start-up, so a bad key fails there and not at its first use)."""
    for setting, keys in values.items():
        for value in keys:
            if value:
                _decode_setting_key(value, setting=setting)


def _decode_setting_key(value: str, *, setting: str) -> bytes:
    text = value.strip().rstrip("=") if isinstance(value, str) else ""
    if not _B64URL_RE.fullmatch(text):
        raise ImproperlyConfigured(f"{setting} is not urlsafe base64")
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{setting} is not urlsafe base64") from None
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{setting} must decode to {KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class Keyring:
    """The current data key (seals and opens) and older keys (only open)."""

    current: bytes
    old: tuple[bytes, ...] = ()
    _by_id: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, bytes] = {}
        for key in (*self.old, self.current):  # the current key wins a (2^-32) fingerprint clash
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise ValueError(f"keys must be {KEY_BYTES} bytes")
            by_id[key_id(key)] = key
        object.__setattr__(self, "_by_id", by_id)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def key_for(self, kid: str) -> bytes | None:
        return self._by_id.get(kid)


def data_key() -> bytes:
    """The current data key from Django settings."""
    configured = getattr(settings, "LINLI_DATA_KEY", "") or ""
    if configured:
        return _decode_setting_key(configured, setting="LINLI_DATA_KEY")
    return derive_key(settings.SECRET_KEY, info=DATA_KEY_INFO)


def data_keyring() -> Keyring:
    """Current and old data keys from Django settings (see the module docstring)."""
    old: list[bytes] = [
        _decode_setting_key(value, setting="LINLI_DATA_KEYS_OLD")
        for value in getattr(settings, "LINLI_DATA_KEYS_OLD", ()) or ()
        if value
    ]
    fallbacks: Iterable[str] = getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()
    old.extend(derive_key(secret, info=DATA_KEY_INFO) for secret in fallbacks if secret)
    if getattr(settings, "LINLI_DATA_KEY", ""):
        old.append(derive_key(settings.SECRET_KEY, info=DATA_KEY_INFO))
    return Keyring(current=data_key(), old=tuple(old))


def index_key() -> bytes:
    """The blind-index key from Django settings."""
    configured = getattr(settings, "LINLI_INDEX_KEY", "") or ""
    if configured:
        return _decode_setting_key(configured, setting="LINLI_INDEX_KEY")
    return derive_key(settings.SECRET_KEY, info=INDEX_KEY_INFO)


# --- sealing -----------------------------------------------------------------------------------


def _aad(purpose: str) -> bytes:
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("purpose must be a non-empty string")
    return purpose.encode("utf-8")


def seal(plaintext: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    """Encrypt ``plaintext`` for storage in the column named by ``purpose``."""
    if not isinstance(plaintext, str):
        raise TypeError("plaintext must be a string")
    ring = keyring if keyring is not None else data_keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.current).encrypt(nonce, plaintext.encode("utf-8"), _aad(purpose))
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
    return f"{SEAL_VERSION}.{ring.current_id}.{body}"


def _split(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise CryptoError("malformed", "a sealed value is a string")
    version, _, rest = token.partition(".")
    kid, _, body = rest.partition(".")
    if version != SEAL_VERSION or not _KID_RE.fullmatch(kid) or not _B64URL_RE.fullmatch(body):
        raise CryptoError("malformed", "not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise CryptoError("malformed", "not a sealed value") from None
    if len(raw) < NONCE_BYTES + 16:
        raise CryptoError("malformed", "sealed value too short")
    return kid, raw


def unseal(token: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    """Decrypt a value made by :func:`seal` with the same purpose; raises :class:`CryptoError`."""
    aad = _aad(purpose)
    kid, raw = _split(token)
    ring = keyring if keyring is not None else data_keyring()
    key = ring.key_for(kid)
    if key is None:
        raise CryptoError("unknown_key", f"no data key with id {kid}")
    try:
        plaintext = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except InvalidTag:
        raise CryptoError("invalid", "the sealed value was altered or has another purpose") from None
    return plaintext.decode("utf-8")


def needs_reseal(token: str, *, keyring: Keyring | None = None) -> bool:
    """True when ``token`` was sealed under a key other than the current one (rotate it)."""
    kid, _ = _split(token)
    ring = keyring if keyring is not None else data_keyring()
    return kid != ring.current_id


# --- blind indexes -----------------------------------------------------------------------------


def normalize_for_index(value: str) -> str:
    """NFKC, all whitespace removed, upper case: ``" 11010519491231002x "`` → ``"…002X"``.

    Generic identifier normalisation; callers normalise domain formats first (a phone number goes
    through ``normalize_mainland_mobile``)."""
    return _WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", value)).upper()


def blind_index(value: str, *, purpose: str, key: bytes | None = None) -> str:
    """A keyed hash of ``value`` for equality lookups and uniqueness, 64 hex characters."""
    if not isinstance(value, str):
        raise TypeError("value must be a string")
    if "\x00" in purpose:
        raise ValueError("purpose must not contain NUL")
    message = _aad(purpose) + b"\x00" + normalize_for_index(value).encode("utf-8")
    return hmac.new(key if key is not None else index_key(), message, hashlib.sha256).hexdigest()
