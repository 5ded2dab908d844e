"""Short codes for typing: six characters of Crockford's base32, printed as ``KM7-4QX``.

Case does not matter, and the letters people confuse with digits are read as those digits
(O as 0, I and L as 1); U, which Crockford leaves out, is not in the alphabet either.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
GROUP = 3
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.·]+")
MAX_INPUT_CHARS = 32


def new_code() -> str:
    """A random code in its stored form (six characters, no dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one (length or letters)."""
    if not isinstance(typed, str) or len(typed) > MAX_INPUT_CHARS:
        return None
    code = _SEPARATORS.sub("", typed).upper().translate(_READS_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def display(code: str) -> str:
    """The printed form: ``KM74QX`` -> ``KM7-4QX``."""
    return f"{code[:GROUP]}-{code[GROUP:]}"
