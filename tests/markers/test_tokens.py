"""markers.tokens: signed QR tokens, key rotation, and the URL they travel in."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers import qr
from markers.tokens import (
    MAX_ID,
    TAG_BYTES,
    KeyRing,
    KeyStatus,
    SigningKey,
    TokenClaims,
    TokenError,
    TokenErrorCode,
    _tag,
    qr_url,
    token_from_url,
)

BASE = "https://artcaching.example.org"
SECRET = bytes(range(32))
RING = KeyRing([SigningKey(1, SECRET)])
TOKEN = RING.sign(7, 42)
ids = st.integers(0, MAX_ID)
secrets = st.binary(min_size=16, max_size=64)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def rejected(ring: KeyRing, token: object, rally_id: int | None = None) -> str:
    with pytest.raises(TokenError) as info:
        ring.verify(token, rally_id)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    return info.value.code


def test_a_token_is_short_url_safe_and_carries_its_claims():
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,24}", TOKEN)
    assert RING.verify(TOKEN) == TokenClaims(rally_id=7, marker_id=42, key_id=1)
    assert RING.verify(TOKEN, rally_id=7).marker_id == 42
    assert RING.sign(7, 42) == TOKEN  # deterministic: one printed code per marker and key
    assert RING.sign(7, 43) != TOKEN
    assert TAG_BYTES * 8 >= 80


@given(ids, ids, ids, secrets)
def test_round_trip(key_id, rally_id, marker_id, secret):
    ring = KeyRing([SigningKey(key_id, secret)])
    token = ring.sign(rally_id, marker_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert ring.verify(token, rally_id) == TokenClaims(rally_id, marker_id, key_id)


@given(ids, ids, st.data())
def test_every_changed_byte_is_rejected(rally_id, marker_id, data):
    raw = bytearray(unb64(RING.sign(rally_id, marker_id)))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    assert rejected(RING, b64(bytes(raw))) in set(TokenErrorCode) - {TokenErrorCode.WRONG_RALLY}


@given(ids, ids, st.data())
def test_every_changed_character_is_rejected(rally_id, marker_id, data):
    token = RING.sign(rally_id, marker_id)
    i = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.sampled_from(ALPHABET.replace(token[i], "")))
    rejected(RING, token[:i] + char + token[i + 1 :])


def test_the_last_characters_spare_bits_are_not_ignored():
    # 16 bytes take 22 characters with 4 bits to spare: other spellings of the same bytes.
    assert len(unb64(TOKEN)) % 3 != 0
    twin = TOKEN[:-1] + ALPHABET[ALPHABET.index(TOKEN[-1]) ^ 1]
    assert unb64(twin) == unb64(TOKEN)
    assert rejected(RING, twin) == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!",
        "AQEH",
        TOKEN + "A",
        TOKEN[:-1],
        TOKEN + "=",
        " " + TOKEN,
        "A" * 200,
        None,
        TOKEN[:5] + "+" + TOKEN[6:],
        TOKEN.encode(),
        b64(b"\x02" + unb64(TOKEN)[1:]),
    ],
)
def test_malformed_tokens(token):
    assert rejected(RING, token) in ("malformed", "bad_signature")


def test_a_signed_but_non_canonical_id_is_malformed():
    body = bytes([1, 1, 7, 0x80 | 42, 0])  # marker 42 written in two bytes
    assert rejected(RING, b64(body + _tag(SECRET, body))) == "malformed"
    body = bytes([1, 1, 7, 42])
    assert RING.verify(b64(body + _tag(SECRET, body))) == TokenClaims(7, 42, 1)


def test_unknown_key_and_wrong_secret():
    stranger = KeyRing([SigningKey(5, SECRET)])
    assert rejected(RING, stranger.sign(7, 42)) == "unknown_key"
    impostor = KeyRing([SigningKey(1, b"another secret of 32 bytes......")])
    assert rejected(RING, impostor.sign(7, 42)) == "bad_signature"


def test_a_token_of_another_rally():
    assert rejected(RING, TOKEN, rally_id=8) == "wrong_rally"
    assert RING.verify(TOKEN, rally_id=7).rally_id == 7


def test_rotation_keeps_printed_codes_valid_until_their_key_is_retired():
    ring2 = RING.rotate(b"second secret, at least 16 bytes")
    assert [(k.id, k.status) for k in ring2.keys] == [(1, "valid"), (2, "active")]
    assert RING.active.id == 1  # rings are immutable
    new = ring2.sign(7, 42)
    assert new != TOKEN
    assert ring2.verify(TOKEN) == TokenClaims(7, 42, 1)
    assert ring2.verify(new) == TokenClaims(7, 42, 2)
    assert rejected(RING, new) == "unknown_key"

    ring3 = ring2.rotate()
    assert ring3.active.id == 3 and len(ring3.active.secret) == 32
    retired = ring3.retire(1)
    assert retired.keys[0].status is KeyStatus.RETIRED
    assert rejected(retired, TOKEN) == "retired_key"
    assert retired.verify(new).key_id == 2
    assert retired.verify(retired.sign(7, 42)).key_id == 3


def test_key_ring_rules():
    with pytest.raises(ValueError, match="exactly one active"):
        KeyRing([SigningKey(1, SECRET, KeyStatus.VALID)])
    with pytest.raises(ValueError, match="exactly one active"):
        KeyRing([SigningKey(1, SECRET), SigningKey(2, SECRET)])
    with pytest.raises(ValueError, match="appears twice"):
        KeyRing([SigningKey(1, SECRET), SigningKey(1, SECRET, "valid")])
    with pytest.raises(ValueError, match="rotate before"):
        RING.retire(1)
    with pytest.raises(ValueError, match="no key"):
        RING.retire(9)
    with pytest.raises(ValueError, match="16 bytes"):
        SigningKey(1, b"short")
    with pytest.raises(ValueError, match="key id"):
        SigningKey(-1, SECRET)
    assert SigningKey(1, SECRET, "retired").status is KeyStatus.RETIRED
    assert "secret" not in repr(SigningKey(1, SECRET))
    generated = KeyRing.generate()
    assert generated.active.id == 1 and len(generated.active.secret) == 32


@pytest.mark.parametrize(
    ("rally_id", "marker_id"), [(-1, 1), (1, -1), (True, 1), (1, 2**63), (1.0, 1)]
)
def test_sign_rejects_bad_ids(rally_id, marker_id):
    with pytest.raises(ValueError, match="id must be an integer"):
        RING.sign(rally_id, marker_id)


def test_every_error_speaks_german_and_english():
    for code in TokenErrorCode:
        text = TokenError(code, "detail").text
        assert text["de"] and text["en"] and text["de"] != text["en"]


def test_the_url_with_the_largest_ids_fits_a_version_6_qr_code():
    ring = KeyRing([SigningKey(MAX_ID, SECRET)])
    url = qr_url(BASE, ring.sign(MAX_ID, MAX_ID))
    assert qr.version(url, "M") <= 6
    qr.make(url, max_version=6, error_correction="M")
    assert qr.version(qr_url(BASE, TOKEN), "M") <= 4


def test_qr_url():
    assert qr_url(BASE + "/", TOKEN) == f"{BASE}/q/{TOKEN}"
    assert qr_url("http://localhost:5000/art", TOKEN) == f"http://localhost:5000/art/q/{TOKEN}"
    with pytest.raises(ValueError, match="http"):
        qr_url("artcaching.example.org", TOKEN)


@pytest.mark.parametrize(
    "scanned",
    [
        TOKEN,
        f" {TOKEN}\n",
        f"{BASE}/q/{TOKEN}",
        f"{BASE}/q/{TOKEN}/",
        f"{BASE}/q/{TOKEN}?lang=de#x",
        f"http://192.168.0.5:8000/kl/q/{TOKEN}",
        f"/q/{TOKEN}",
    ],
)
def test_token_from_url(scanned):
    assert token_from_url(scanned) == TOKEN


@pytest.mark.parametrize(
    "scanned", ["", f"{BASE}/p/{TOKEN}", f"{BASE}/q/", f"{BASE}/q/{TOKEN}!", "WIFI:S:x;;", "a" * 65]
)
def test_token_from_url_rejects_other_codes(scanned):
    with pytest.raises(TokenError) as info:
        token_from_url(scanned)
    assert info.value.code == "malformed"
