"""The base of errors a user caused: a stable code naming the message errors.<code>, and values."""

from __future__ import annotations


class UserError(ValueError):
    """``code`` names the catalogue message errors.<code>; ``values`` fill its placeholders."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values
