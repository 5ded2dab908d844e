"""Signed QR tokens: short URL-safe proofs naming a rally, a marker and the key that signed them.

A token is base64url (no padding) of ``version | key id | rally id | marker id | tag``: the ids as
unsigned LEB128 varints, the tag the first 96 bits of HMAC-SHA256 over everything before it. Keys
rotate: the one active key signs, older valid keys still verify the codes already printed, retired
keys verify nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import urlsplit

from markers.i18n import MARKERS_TEXTS, Text

TOKEN_VERSION = 1
TAG_BYTES = 12
MAX_ID = 2**63 - 1
MIN_SECRET_BYTES = 16
_DOMAIN = b"artcaching/qr-token\x00"
_MAX_TOKEN_CHARS = 64
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")


class KeyStatus(StrEnum):
    """ACTIVE signs and verifies (exactly one key), VALID only verifies, RETIRED is rejected."""

    ACTIVE = "active"
    VALID = "valid"
    RETIRED = "retired"


class TokenErrorCode(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    WRONG_RALLY = "wrong_rally"


class TokenError(ValueError):
    """A token that does not verify; ``code`` is stable, ``key`` names its text for players."""

    def __init__(self, code: TokenErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.key = f"errors.token_{code.value}"

    @property
    def text(self) -> Text:
        """What to tell a player, in every language."""
        return MARKERS_TEXTS.text_map(self.key)


@dataclass(frozen=True)
class SigningKey:
    """A secret with its id (written into every token it signs) and status."""

    id: int
    secret: bytes = field(repr=False)
    status: KeyStatus = KeyStatus.ACTIVE

    def __post_init__(self) -> None:
        _check_id("key id", self.id)
        if not isinstance(self.secret, bytes) or len(self.secret) < MIN_SECRET_BYTES:
            raise ValueError(f"key {self.id}: secret must be at least {MIN_SECRET_BYTES} bytes")
        object.__setattr__(self, "status", KeyStatus(self.status))


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    rally_id: int
    marker_id: int
    key_id: int


class KeyRing:
    """The signing keys of an installation; immutable, rotate() and retire() return a new ring."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys: dict[int, SigningKey] = {}
        for key in keys:
            if key.id in self._keys:
                raise ValueError(f"key id {key.id} appears twice")
            self._keys[key.id] = key
        active = [k for k in self._keys.values() if k.status is KeyStatus.ACTIVE]
        if len(active) != 1:
            raise ValueError(f"a key ring needs exactly one active key, got {len(active)}")
        self.active: SigningKey = active[0]

    @classmethod
    def generate(cls, secret: bytes | None = None) -> KeyRing:
        """A new ring with one active key, id 1."""
        return cls([SigningKey(1, secrets.token_bytes(32) if secret is None else secret)])

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return tuple(self._keys.values())

    def sign(self, rally_id: int, marker_id: int) -> str:
        """A token for a marker of a rally, signed with the active key."""
        _check_id("rally id", rally_id)
        _check_id("marker id", marker_id)
        key = self.active
        body = bytes([TOKEN_VERSION]) + b"".join(map(_varint, (key.id, rally_id, marker_id)))
        raw = body + _tag(key.secret, body)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def verify(self, token: str, rally_id: int | None = None) -> TokenClaims:
        """The claims of a genuine token, else TokenError; with rally_id, only for that rally."""
        raw = _decode(token)
        if len(raw) < 1 + 3 + TAG_BYTES:
            raise TokenError(TokenErrorCode.MALFORMED, "token too short")
        if raw[0] != TOKEN_VERSION:
            raise TokenError(TokenErrorCode.MALFORMED, f"unknown token version {raw[0]}")
        body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
        key_id, claimed_rally, marker_id = _read_varints(body[1:], 3)
        key = self._keys.get(key_id)
        if key is None:
            raise TokenError(TokenErrorCode.UNKNOWN_KEY, f"no key with id {key_id}")
        if key.status is KeyStatus.RETIRED:
            raise TokenError(TokenErrorCode.RETIRED_KEY, f"key {key_id} is retired")
        if not hmac.compare_digest(tag, _tag(key.secret, body)):
            raise TokenError(TokenErrorCode.BAD_SIGNATURE, "signature does not match")
        if rally_id is not None and claimed_rally != rally_id:
            raise TokenError(
                TokenErrorCode.WRONG_RALLY, f"token is for rally {claimed_rally}, not {rally_id}"
            )
        return TokenClaims(claimed_rally, marker_id, key_id)

    def rotate(self, new_secret: bytes | None = None) -> KeyRing:
        """A ring whose new active key has the next id; the old active key becomes valid."""
        secret = secrets.token_bytes(32) if new_secret is None else new_secret
        new = SigningKey(max(self._keys) + 1, secret)
        old = replace(self.active, status=KeyStatus.VALID)
        return KeyRing([*(old if k.id == old.id else k for k in self.keys), new])

    def retire(self, key_id: int) -> KeyRing:
        """A ring in which key_id verifies nothing; the active key must be rotated out first."""
        if key_id not in self._keys:
            raise ValueError(f"no key with id {key_id}")
        if key_id == self.active.id:
            raise ValueError(f"key {key_id} is the active key; rotate before retiring it")
        return KeyRing(
            replace(k, status=KeyStatus.RETIRED) if k.id == key_id else k for k in self.keys
        )


def qr_url(public_base: str, token: str) -> str:
    """The URL a QR code holds: ``<public base>/q/<token>``."""
    parts = urlsplit(public_base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"public base must be an http(s) URL, got {public_base!r}")
    return f"{public_base.rstrip('/')}/q/{token}"


def token_from_url(url_or_token: str) -> str:
    """The token in a scanned URL (any host, path ending in /q/<token>) or a bare token."""
    text = url_or_token.strip()
    if "/" in text:
        segments = urlsplit(text).path.rstrip("/").split("/")
        if len(segments) < 2 or segments[-2] != "q":
            raise TokenError(TokenErrorCode.MALFORMED, f"no /q/<token> in {text[:100]!r}")
        text = segments[-1]
    if not _TOKEN_RE.fullmatch(text) or len(text) > _MAX_TOKEN_CHARS:
        raise TokenError(TokenErrorCode.MALFORMED, f"not a token: {text[:100]!r}")
    return text


def _check_id(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise ValueError(f"{name} must be an integer from 0 to 2**63-1, got {value!r}")


def _tag(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + body, hashlib.sha256).digest()[:TAG_BYTES]


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _read_varints(data: bytes, count: int) -> list[int]:
    """Exactly count canonical varints filling data."""
    values, n, shift = [], 0, 0
    for i, byte in enumerate(data):
        n |= (byte & 0x7F) << shift
        shift += 7
        if byte & 0x80:
            if shift >= 63:
                raise TokenError(TokenErrorCode.MALFORMED, "id too large")
            continue
        if (byte == 0 and shift > 7) or n > MAX_ID:
            raise TokenError(TokenErrorCode.MALFORMED, f"bad id encoding at byte {i + 1}")
        values.append(n)
        n, shift = 0, 0
    if shift or len(values) != count:
        raise TokenError(TokenErrorCode.MALFORMED, f"expected {count} ids")
    return values


def _decode(token: str) -> bytes:
    """Canonical unpadded base64url only, so that one token never has two spellings."""
    if not (
        isinstance(token, str) and len(token) <= _MAX_TOKEN_CHARS and _TOKEN_RE.fullmatch(token)
    ):
        raise TokenError(TokenErrorCode.MALFORMED, "not a base64url token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except binascii.Error as e:
        raise TokenError(TokenErrorCode.MALFORMED, f"not a base64url token: {e}") from e
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise TokenError(TokenErrorCode.MALFORMED, "not a canonical base64url token")
    return raw
