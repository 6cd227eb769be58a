import base64
import hashlib
import hmac
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from backend.core.crypto import (
    DATA_KEY_INFO,
    CryptoError,
    Keyring,
    blind_index,
    data_key,
    data_keyring,
    derive_key,
    generate_key,
    index_key,
    key_id,
    needs_reseal,
    seal,
    unseal,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
RING_A = Keyring(current=KEY_A)
PURPOSE = "volunteer.id_number"
ID_NUMBER = "11010519491231002X"
SEALED_RE = re.compile(r"v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+")


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture
def settings_override():
    """Django settings for the lazy key lookups: configured minimally when the suite runs without
    pytest-django, then overridden per test."""
    from django.conf import settings
    from django.test import override_settings

    if not settings.configured:
        settings.configure(SECRET_KEY="test-secret-key")

    overrides = []

    def apply(**values):
        override = override_settings(**values)
        override.enable()
        overrides.append(override)

    yield apply
    for override in reversed(overrides):
        override.disable()


# --- seal / unseal with an explicit keyring ----------------------------------------------------


def test_sealed_value_opens_with_same_purpose():
    assert (
        unseal(seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A), purpose=PURPOSE, keyring=RING_A) == ID_NUMBER
    )


def test_sealed_value_format_and_length():
    token = seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A)
    assert SEALED_RE.fullmatch(token)
    assert token.startswith(f"v1.{key_id(KEY_A)}.")
    assert len(token) == 74
    assert ID_NUMBER not in token


def test_sealing_twice_gives_different_ciphertexts():
    assert seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A) != seal(
        ID_NUMBER, purpose=PURPOSE, keyring=RING_A
    )


def test_value_sealed_for_one_purpose_does_not_open_for_another():
    token = seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A)
    with pytest.raises(CryptoError) as exc:
        unseal(token, purpose="practitioner.id_number", keyring=RING_A)
    assert exc.value.code == "invalid"


def test_altered_ciphertext_does_not_open():
    token = seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A)
    head, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for i in range(len(raw)):
        raw[i] ^= 0x01
        altered = head + "." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        with pytest.raises(CryptoError) as exc:
            unseal(altered, purpose=PURPOSE, keyring=RING_A)
        assert exc.value.code == "invalid"
        raw[i] ^= 0x01


def test_value_sealed_under_unknown_key_is_refused():
    token = seal(ID_NUMBER, purpose=PURPOSE, keyring=Keyring(current=KEY_B))
    with pytest.raises(CryptoError) as exc:
        unseal(token, purpose=PURPOSE, keyring=RING_A)
    assert exc.value.code == "unknown_key"


def test_old_key_still_opens_after_rotation_and_flags_reseal():
    token = seal(ID_NUMBER, purpose=PURPOSE, keyring=RING_A)
    rotated = Keyring(current=KEY_B, old=(KEY_A,))
    assert unseal(token, purpose=PURPOSE, keyring=rotated) == ID_NUMBER
    assert needs_reseal(token, keyring=rotated)
    fresh = seal(ID_NUMBER, purpose=PURPOSE, keyring=rotated)
    assert not needs_reseal(fresh, keyring=rotated)
    assert fresh.split(".")[1] == key_id(KEY_B)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1..",
        "v2.0011aabb.AAAA",
        "v1.0011AABB.AAAA",
        "v1.0011aabb.AA+A",
        "v1.0011aabb.AAAA",
        None,
        5,
    ],
)
def test_malformed_sealed_values_are_refused(token):
    with pytest.raises(CryptoError) as exc:
        unseal(token, purpose=PURPOSE, keyring=RING_A)
    assert exc.value.code == "malformed"


@given(st.text())
def test_arbitrary_text_never_opens_and_only_raises_crypto_error(text):
    with pytest.raises(CryptoError):
        unseal(text, purpose=PURPOSE, keyring=RING_A)


@given(st.text())
def test_any_text_round_trips(text):
    assert unseal(seal(text, purpose=PURPOSE, keyring=RING_A), purpose=PURPOSE, keyring=RING_A) == text


def test_empty_purpose_is_a_programming_error():
    with pytest.raises(ValueError):
        seal(ID_NUMBER, purpose="", keyring=RING_A)


def test_keyring_refuses_short_keys():
    with pytest.raises(ValueError):
        Keyring(current=b"short")


# --- keys from Django settings -----------------------------------------------------------------


def test_without_data_key_setting_the_key_derives_from_secret_key(settings_override):
    settings_override(SECRET_KEY="s3cret", LINLI_DATA_KEY="", LINLI_DATA_KEYS_OLD=[], SECRET_KEY_FALLBACKS=[])
    assert data_key() == derive_key("s3cret", info=DATA_KEY_INFO)
    assert data_key() != derive_key("s3cret", info=b"linli index key")
    assert unseal(seal(ID_NUMBER, purpose=PURPOSE), purpose=PURPOSE) == ID_NUMBER


def test_data_key_setting_is_used_when_set(settings_override):
    settings_override(LINLI_DATA_KEY=_b64(KEY_A), LINLI_DATA_KEYS_OLD=[])
    token = seal(ID_NUMBER, purpose=PURPOSE)
    assert token.split(".")[1] == key_id(KEY_A)
    assert unseal(token, purpose=PURPOSE, keyring=RING_A) == ID_NUMBER


def test_old_keys_from_settings_open_but_do_not_seal(settings_override):
    settings_override(LINLI_DATA_KEY=_b64(KEY_A), LINLI_DATA_KEYS_OLD=[])
    token = seal(ID_NUMBER, purpose=PURPOSE)
    settings_override(LINLI_DATA_KEY=_b64(KEY_B), LINLI_DATA_KEYS_OLD=[_b64(KEY_A)])
    assert unseal(token, purpose=PURPOSE) == ID_NUMBER
    assert needs_reseal(token)
    assert data_keyring().current == KEY_B


def test_secret_key_rotation_keeps_derived_keys_readable(settings_override):
    settings_override(SECRET_KEY="first", LINLI_DATA_KEY="", LINLI_DATA_KEYS_OLD=[], SECRET_KEY_FALLBACKS=[])
    token = seal(ID_NUMBER, purpose=PURPOSE)
    settings_override(SECRET_KEY="second", SECRET_KEY_FALLBACKS=["first"])
    assert unseal(token, purpose=PURPOSE) == ID_NUMBER


def test_moving_from_derived_to_explicit_key_keeps_old_values_readable(settings_override):
    settings_override(SECRET_KEY="s3cret", LINLI_DATA_KEY="", LINLI_DATA_KEYS_OLD=[], SECRET_KEY_FALLBACKS=[])
    token = seal(ID_NUMBER, purpose=PURPOSE)
    settings_override(LINLI_DATA_KEY=generate_key())
    assert unseal(token, purpose=PURPOSE) == ID_NUMBER


@pytest.mark.parametrize("bad", ["not base64!", _b64(b"too short"), "AAAA"])
def test_malformed_key_setting_is_a_configuration_error(settings_override, bad):
    settings_override(LINLI_DATA_KEY=bad)
    with pytest.raises(ImproperlyConfigured):
        data_key()


def test_generated_keys_are_valid_settings(settings_override):
    settings_override(LINLI_DATA_KEY=generate_key())
    assert len(data_key()) == 32


# --- blind indexes -----------------------------------------------------------------------------


def test_blind_index_is_hmac_sha256_of_purpose_and_normalised_value():
    expected = hmac.new(KEY_A, b"volunteer.id_number\x0011010519491231002X", hashlib.sha256).hexdigest()
    assert blind_index(" 11010519491231002x", purpose=PURPOSE, key=KEY_A) == expected
    assert re.fullmatch(r"[0-9a-f]{64}", expected)


def test_blind_index_ignores_whitespace_case_and_full_width_forms():
    base = blind_index(ID_NUMBER, purpose=PURPOSE, key=KEY_A)
    assert blind_index("110105 19491231 002x", purpose=PURPOSE, key=KEY_A) == base
    assert blind_index("１１０１０５１９４９１２３１００２Ｘ", purpose=PURPOSE, key=KEY_A) == base


def test_blind_index_differs_by_purpose_key_and_value():
    base = blind_index(ID_NUMBER, purpose=PURPOSE, key=KEY_A)
    assert blind_index(ID_NUMBER, purpose="practitioner.id_number", key=KEY_A) != base
    assert blind_index(ID_NUMBER, purpose=PURPOSE, key=KEY_B) != base
    assert blind_index("110105194912310039", purpose=PURPOSE, key=KEY_A) != base


def test_index_key_is_separate_from_data_key(settings_override):
    settings_override(SECRET_KEY="s3cret", LINLI_DATA_KEY="", LINLI_INDEX_KEY="")
    assert index_key() != data_key()
    assert blind_index(ID_NUMBER, purpose=PURPOSE) == blind_index(ID_NUMBER, purpose=PURPOSE, key=index_key())


def test_index_key_setting_is_used_when_set(settings_override):
    settings_override(LINLI_INDEX_KEY=_b64(KEY_B))
    assert blind_index(ID_NUMBER, purpose=PURPOSE) == blind_index(ID_NUMBER, purpose=PURPOSE, key=KEY_B)
