import base64
from datetime import date, datetime

import pytest
import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from backend.core.signed_tokens import (
    CREDENTIAL_DOMAIN,
    EPOCH,
    PASS_DOMAIN,
    TOKEN_LENGTH,
    TokenError,
    TokenPayload,
    Verifier,
    encode_payload,
    jwks,
    new_token_id,
    parse_token,
    public_jwk,
    sign_token,
    token_id_hex,
    verify_token,
)

# Fixed test vectors: Ed25519 signatures are deterministic (RFC 8032), so a fixed seed and payload
# always give the same token. A change here breaks every printed badge: bump the version instead.
SEED = bytes(range(32))
PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(SEED)
PUBLIC_KEY = PRIVATE_KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))

CREDENTIAL_PAYLOAD = TokenPayload(
    version=1,
    key_id=1,
    token_id=bytes.fromhex("00112233445566778899"),
    issued_day=date(2025, 1, 1),
    expires_day=date(2027, 12, 31),
)
CREDENTIAL_BYTES = bytes.fromhex("0100010011223344556677889907230b69")
CREDENTIAL_TOKEN = (
    "AEAACAAREIZUIVLGO6EJSBZDBNUQJ6QKP7AYSWCRZZ2KORCYPZPOFQBQW4Z6KDS2"
    "V7J3BXZVIZUJF5TZ5HJZID6OI6MLULOPVCIN4CICDYBXY54WOR75WI4KGO3V3M27AU"
)
PASS_PAYLOAD = TokenPayload(
    version=1,
    key_id=7,
    token_id=bytes.fromhex("ffeeddccbbaa99887766"),
    issued_day=date(2025, 6, 1),
    expires_day=None,
)
PASS_TOKEN = (
    "AEAAP77O3XGLXKUZRB3WMB52AAAKYN7ZNE553JBPK6FR25DSITEO7DKXU2UMK2MN"
    "6JGZJJTCO37YS53I4XQAU2WGLUUHPWCKVAVRB3ONDGFF7SGKA72K7QVC3SLLV5FPBU"
)
PUBLIC_X = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
KEYS = {1: PUBLIC_KEY, 7: PUBLIC_KEY}


def _verify(token, *, domain=CREDENTIAL_DOMAIN, keys=KEYS):
    return verify_token(token, domain=domain, public_key_for=keys.get)


def _raw(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _text(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


# --- fixed vectors -----------------------------------------------------------------------------


def test_credential_vector_signs_to_the_pinned_token():
    assert (
        sign_token(CREDENTIAL_PAYLOAD, private_key=PRIVATE_KEY, domain=CREDENTIAL_DOMAIN) == CREDENTIAL_TOKEN
    )


def test_credential_vector_payload_bytes_follow_the_documented_layout():
    assert encode_payload(CREDENTIAL_PAYLOAD) == CREDENTIAL_BYTES
    assert _raw(CREDENTIAL_TOKEN)[:17] == CREDENTIAL_BYTES


def test_pass_vector_without_expiry_signs_to_the_pinned_token():
    assert sign_token(PASS_PAYLOAD, private_key=PRIVATE_KEY, domain=PASS_DOMAIN) == PASS_TOKEN
    assert _raw(PASS_TOKEN)[15:17] == b"\x00\x00"


def test_pinned_tokens_verify_to_their_payloads():
    assert _verify(CREDENTIAL_TOKEN) == CREDENTIAL_PAYLOAD
    assert _verify(PASS_TOKEN, domain=PASS_DOMAIN) == PASS_PAYLOAD


def test_public_jwk_vector():
    assert public_jwk(1, PUBLIC_KEY) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": PUBLIC_X,
        "kid": "1",
        "use": "sig",
        "alg": "EdDSA",
    }


def test_jwks_lists_keys_by_id():
    other = OTHER_KEY.public_key()
    assert [jwk["kid"] for jwk in jwks({7: other, 1: PUBLIC_KEY})["keys"]] == ["1", "7"]


# --- length and QR fit -------------------------------------------------------------------------


def test_token_is_130_characters_of_upper_case_base32():
    assert TOKEN_LENGTH == 130
    assert len(CREDENTIAL_TOKEN) == len(PASS_TOKEN) == 130
    assert set(CREDENTIAL_TOKEN) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@pytest.mark.parametrize(
    ("url", "max_version"),
    [
        ("https://linli.sz.example.org/v/", 10),  # byte mode, 31-character prefix
        ("HTTPS://LINLI.SZ.EXAMPLE.ORG/V/", 7),  # all alphanumeric
    ],
)
def test_verification_url_fits_a_small_qr_code_at_ecc_m(url, max_version):
    qr = segno.make(url + CREDENTIAL_TOKEN, error="m", micro=False, boost_error=False)
    assert qr.error == "M"
    assert qr.version <= max_version


# --- tampering ---------------------------------------------------------------------------------


def test_every_single_bit_flip_is_refused():
    raw = bytearray(_raw(CREDENTIAL_TOKEN))
    for bit in range(len(raw) * 8):
        raw[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(TokenError) as exc:
            _verify(_text(bytes(raw)))
        assert exc.value.code in {"malformed", "bad_signature", "unknown_key"}
        raw[bit // 8] ^= 1 << (bit % 8)


def test_every_single_character_substitution_is_refused():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    for position, original in enumerate(CREDENTIAL_TOKEN):
        for char in alphabet:
            if char == original:
                continue
            altered = CREDENTIAL_TOKEN[:position] + char + CREDENTIAL_TOKEN[position + 1 :]
            with pytest.raises(TokenError):
                _verify(altered)


def test_bit_flip_in_signature_is_bad_signature():
    raw = bytearray(_raw(CREDENTIAL_TOKEN))
    raw[40] ^= 0x10
    with pytest.raises(TokenError) as exc:
        _verify(_text(bytes(raw)))
    assert exc.value.code == "bad_signature"


def test_non_zero_unused_bits_in_last_character_are_malformed():
    # 130 characters carry 650 bits for 648 bits of data: "AU" ends in …10100, "AV" only differs
    # in the two unused bits and would otherwise decode to the same bytes.
    assert CREDENTIAL_TOKEN.endswith("U")
    with pytest.raises(TokenError) as exc:
        _verify(CREDENTIAL_TOKEN[:-1] + "V")
    assert exc.value.code == "malformed"


def test_token_for_another_domain_is_bad_signature():
    with pytest.raises(TokenError) as exc:
        _verify(CREDENTIAL_TOKEN, domain=PASS_DOMAIN)
    assert exc.value.code == "bad_signature"
    with pytest.raises(TokenError) as exc:
        _verify(PASS_TOKEN, domain=CREDENTIAL_DOMAIN)
    assert exc.value.code == "bad_signature"


def test_unknown_key_id_is_unknown_key():
    with pytest.raises(TokenError) as exc:
        _verify(CREDENTIAL_TOKEN, keys={2: PUBLIC_KEY})
    assert exc.value.code == "unknown_key"


def test_token_signed_by_another_key_is_bad_signature():
    forged = sign_token(CREDENTIAL_PAYLOAD, private_key=OTHER_KEY, domain=CREDENTIAL_DOMAIN)
    with pytest.raises(TokenError) as exc:
        _verify(forged)
    assert exc.value.code == "bad_signature"


@pytest.mark.parametrize("cut", [1, 2, 8, 64, 129])
def test_truncated_token_is_malformed(cut):
    with pytest.raises(TokenError) as exc:
        _verify(CREDENTIAL_TOKEN[:-cut])
    assert exc.value.code == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        CREDENTIAL_TOKEN + "A",
        CREDENTIAL_TOKEN[:-2] + "==",
        CREDENTIAL_TOKEN[:-1] + "1",  # 0, 1, 8, 9 are not base32
        CREDENTIAL_TOKEN.replace("S", "ſ", 1),  # upper-cases to the very same S, but is not ASCII
        None,
        CREDENTIAL_TOKEN.encode(),
    ],
)
def test_non_tokens_are_malformed(token):
    with pytest.raises(TokenError) as exc:
        _verify(token)
    assert exc.value.code == "malformed"


def test_unknown_version_is_malformed():
    raw = bytearray(_raw(CREDENTIAL_TOKEN))
    raw[0] = 2
    with pytest.raises(TokenError) as exc:
        parse_token(_text(bytes(raw)))
    assert exc.value.code == "malformed"


def test_lower_case_token_is_the_same_token():
    assert _verify(CREDENTIAL_TOKEN.lower()) == CREDENTIAL_PAYLOAD


def test_key_lookup_is_skipped_for_malformed_tokens():
    looked_up = []
    with pytest.raises(TokenError):
        verify_token("A" * 130, domain=CREDENTIAL_DOMAIN, public_key_for=looked_up.append)
    assert looked_up == []


def test_parse_returns_payload_signature_and_signed_bytes():
    payload, signature, signed = parse_token(CREDENTIAL_TOKEN)
    assert payload == CREDENTIAL_PAYLOAD
    assert signed == CREDENTIAL_BYTES
    assert len(signature) == 64
    PUBLIC_KEY.verify(signature, CREDENTIAL_DOMAIN + b"\x00" + signed)


# --- payload rules -----------------------------------------------------------------------------


def test_token_id_helpers():
    assert token_id_hex(CREDENTIAL_PAYLOAD) == "00112233445566778899"
    assert len(new_token_id()) == 10
    assert new_token_id() != new_token_id()


def test_expiry_is_inclusive():
    assert not CREDENTIAL_PAYLOAD.is_expired(on=date(2027, 12, 31))
    assert CREDENTIAL_PAYLOAD.is_expired(on=date(2028, 1, 1))
    assert not PASS_PAYLOAD.is_expired(on=date(2100, 1, 1))


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 2},
        {"key_id": 65536},
        {"key_id": -1},
        {"token_id": bytes(9)},
        {"token_id": bytes(11)},
        {"issued_day": date(2019, 12, 31)},
        {"issued_day": datetime(2025, 1, 1)},
        {"expires_day": EPOCH},
        {"expires_day": date(2199, 6, 7)},
    ],
)
def test_payload_out_of_layout_is_refused(changes):
    fields = {
        "version": 1,
        "key_id": 1,
        "token_id": bytes(10),
        "issued_day": date(2025, 1, 1),
        "expires_day": None,
    } | changes
    with pytest.raises(ValueError):
        TokenPayload(**fields)


def test_signing_refuses_expiry_before_issue():
    payload = TokenPayload(
        version=1, key_id=1, token_id=bytes(10), issued_day=date(2025, 1, 2), expires_day=date(2025, 1, 1)
    )
    with pytest.raises(ValueError):
        sign_token(payload, private_key=PRIVATE_KEY, domain=CREDENTIAL_DOMAIN)


@pytest.mark.parametrize("domain", [b"", b"linli\x00pass", "linli/pass/v1"])
def test_bad_domain_tag_is_refused(domain):
    with pytest.raises(ValueError):
        sign_token(CREDENTIAL_PAYLOAD, private_key=PRIVATE_KEY, domain=domain)


# --- properties --------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 2), max_value=date(2199, 6, 6))


@st.composite
def payloads(draw):
    issued = draw(days)
    expires = draw(st.none() | st.dates(min_value=issued, max_value=date(2199, 6, 6)))
    return TokenPayload(
        version=1,
        key_id=draw(st.integers(0, 0xFFFF)),
        token_id=draw(st.binary(min_size=10, max_size=10)),
        issued_day=issued,
        expires_day=expires,
    )


@given(payloads(), st.sampled_from([CREDENTIAL_DOMAIN, PASS_DOMAIN]))
def test_any_payload_round_trips(payload, domain):
    token = sign_token(payload, private_key=PRIVATE_KEY, domain=domain)
    assert len(token) == TOKEN_LENGTH
    assert verify_token(token, domain=domain, public_key_for=lambda kid: PUBLIC_KEY) == payload


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH))
def test_random_base32_strings_never_verify(text):
    with pytest.raises(TokenError):
        verify_token(text, domain=CREDENTIAL_DOMAIN, public_key_for=lambda kid: PUBLIC_KEY)


@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_token_error(text):
    with pytest.raises(TokenError):
        verify_token(text, domain=CREDENTIAL_DOMAIN, public_key_for=lambda kid: PUBLIC_KEY)


# --- the libsodium verifier agrees with OpenSSL -------------------------------------------------

FAST_KEYS = {kid: Verifier(key) for kid, key in KEYS.items()}


def _outcome(token: str, keys, domain=CREDENTIAL_DOMAIN):
    try:
        return verify_token(token, domain=domain, public_key_for=keys.get)
    except TokenError as exc:
        return exc.code


def test_fast_verifier_accepts_the_pinned_tokens():
    assert _outcome(CREDENTIAL_TOKEN, FAST_KEYS) == CREDENTIAL_PAYLOAD
    assert _outcome(PASS_TOKEN, FAST_KEYS, PASS_DOMAIN) == PASS_PAYLOAD


def test_fast_verifier_agrees_on_every_single_bit_flip():
    raw = _raw(CREDENTIAL_TOKEN)
    for i in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[i // 8] ^= 0x80 >> (i % 8)
        token = _text(bytes(flipped))
        assert _outcome(token, FAST_KEYS) == _outcome(token, KEYS) != CREDENTIAL_PAYLOAD, i


def test_fast_verifier_refuses_another_domain_and_another_key():
    assert _outcome(CREDENTIAL_TOKEN, FAST_KEYS, PASS_DOMAIN) == "bad_signature"
    other = {1: Verifier(OTHER_KEY.public_key())}
    assert _outcome(CREDENTIAL_TOKEN, other) == "bad_signature"


def test_fast_verifier_raises_like_openssl():
    signature = PRIVATE_KEY.sign(b"data")
    Verifier(PUBLIC_KEY).verify(signature, b"data")
    for bad_signature, data in [
        (signature, b"other"),
        (signature[:63], b"data"),
        (signature + b"\0", b"data"),
    ]:
        with pytest.raises(InvalidSignature):
            Verifier(PUBLIC_KEY).verify(bad_signature, data)


@given(payloads(), st.sampled_from([CREDENTIAL_DOMAIN, PASS_DOMAIN]), st.integers(0, 80 * 8 - 1))
def test_fast_verifier_agrees_on_signed_and_altered_payloads(payload, domain, bit):
    token = sign_token(payload, private_key=PRIVATE_KEY, domain=domain)
    keys, fast = {payload.key_id: PUBLIC_KEY}, {payload.key_id: Verifier(PUBLIC_KEY)}
    assert _outcome(token, fast, domain) == _outcome(token, keys, domain) == payload
    raw = bytearray(_raw(token))
    raw[bit // 8] ^= 0x80 >> (bit % 8)
    altered = _text(bytes(raw))
    assert _outcome(altered, fast, domain) == _outcome(altered, keys, domain)
