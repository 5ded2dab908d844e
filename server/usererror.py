"""The one error a user sees: raised by services, shown by whichever face met it.

A ``UserError`` names its message by a stable code (errors.<code> in the catalogue), carries the
HTTP status, the field it is about and the values its message needs. The API turns it into JSON
(server/api/errors.py), the pages into a flashed message or an error page (server/errors.py),
the command line into a clear line and a non-zero exit (server/cli.py). It lives here, beside the
catalogue it reads and below every module that raises it, so that no service imports the API.
"""

from __future__ import annotations

from server.i18n import t


def error_message(code: str, lang: str | None = None, **values: object) -> str:
    """The message of error ``code`` in lang (default: the request's), its values filled in."""
    return t(f"errors.{code}", lang, **values)


class UserError(Exception):
    """``code`` names the message errors.<code>; ``values`` fill its placeholders (a language map
    is shown in the reader's language); ``field`` is the input it is about, if any."""

    status = 422

    def __init__(
        self, code: str, *, status: int | None = None, field: str | None = None, **values: object
    ) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.field = field
        self.values = values

    def message(self, lang: str | None = None) -> str:
        """The message in lang (default: the request's language)."""
        values = {"field": self.field, **self.values} if self.field else self.values
        return error_message(self.code, lang, **values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, status={self.status})"
