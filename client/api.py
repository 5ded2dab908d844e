"""HTTP client of the player API (urllib through client.http, so Android needs no extra recipe).
Blocking: call it off the UI thread (GameSession does)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from client import USER_AGENT
from client.clock import ServerClock
from client.http import CertificateNotTrusted, open_url

API_PREFIX = "/api/v1"
MAX_BATCH = 50
"""Events in one POST /team/events, at most (the server's limit)."""


class ApiError(Exception):
    """The server answered with an error: HTTP status, stable code, message, offending field."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str = "",
        field: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """5xx and 429 mean: try again later; other 4xx mean the server has decided."""
        return self.status >= 500 or self.status == 429


class NetworkError(Exception):
    """The server could not be reached (no network, refused, timeout, broken answer)."""


class UntrustedServer(NetworkError):
    """The server's https certificate is not trusted (private CA without --ca-file, wrong
    host, expired): retrying will not help until the CA file is set."""


class ApiClient:
    """The player API at base_url (e.g. "http://127.0.0.1:5000"; "" until the player names a
    server: every call then fails with NetworkError); token is the team's bearer. Every answer,
    an error too, tells ``clock`` the server's time."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10.0,
        language: str | None = None,
        clock: ServerClock | None = None,
    ) -> None:
        if base_url and not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.language = language
        self.clock = clock if clock is not None else ServerClock()

    # --- the routes --------------------------------------------------------------------------

    def rallies(self) -> list[dict[str, Any]]:
        return self._call("GET", "/rallies")["rallies"]

    def rally(self, slug: str) -> dict[str, Any]:
        return self._call("GET", f"/rallies/{quote(slug, safe='')}")

    def create_team(self, slug: str, name: str, lang: str | None = None) -> dict[str, Any]:
        """{token, join_code, team}; remembers the token for the calls that need it."""
        body: dict[str, Any] = {"name": name}
        if lang:
            body["language"] = lang
        answer = self._call("POST", f"/rallies/{quote(slug, safe='')}/teams", body)
        self.token = answer["token"]
        return answer

    def join_team(self, slug: str, code: str) -> dict[str, Any]:
        """{token, join_code, team}; remembers the token."""
        answer = self._call("POST", f"/rallies/{quote(slug, safe='')}/join", {"join_code": code})
        self.token = answer["token"]
        return answer

    def team(self) -> dict[str, Any]:
        return self._call("GET", "/team", auth=True)

    def checkin(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a check-in {lat, lon, accuracy_m, recorded_at, client_event_id, ...}."""
        return self._call("POST", "/team/checkins", payload, auth=True)

    def scan(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a scan {token or code, client_event_id, recorded_at?, lat?, lon?, accuracy_m?}:
        the scanned QR code, or the short code under it as typed (KM7-4QX)."""
        return self._call("POST", "/team/scans", payload, auth=True)

    def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST an answer to a found stop's task {stop, answer, client_event_id, recorded_at}:
        {result, correct, points, attempts_left, team}; a wrong form is 422 bad_answer."""
        return self._call("POST", "/team/answers", payload, auth=True)

    def take_hint(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a hint request {stop, client_event_id, recorded_at}: {result, hint, team}."""
        return self._call("POST", "/team/hints", payload, auth=True)

    def events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST several events at once [{kind, body}, ...] (at most MAX_BATCH): {results, team},
        one result {client_event_id, status, body} per event, in the order sent, each what the
        kind's own endpoint would have answered. A server without it answers 404 or 405."""
        return self._call("POST", "/team/events", {"events": events}, auth=True)

    def leaderboard(self, slug: str) -> dict[str, Any]:
        return self._call("GET", f"/rallies/{quote(slug, safe='')}/leaderboard")

    def tile_manifest(self, slug: str) -> dict[str, Any]:
        """The map tiles of the rally's play area the server holds: {url, attribution, tiles
        [[z, x, y], ...], bytes, capped}; no tiles when it has no package."""
        return self._call("GET", f"/rallies/{quote(slug, safe='')}/tiles")

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = False
    ) -> dict[str, Any]:
        if not self.base_url:
            raise NetworkError(f"{method} {path}: no server address given")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.language:
            headers["Accept-Language"] = self.language
        if auth:
            if not self.token:
                raise ApiError(401, "token_missing", "no team token: join a rally first")
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        url = self.base_url + API_PREFIX + path
        if self.language:
            url += "?" + urlencode({"lang": self.language})  # wins over the team's own language
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        sent = self.clock.device()
        try:
            with open_url(request, self.timeout) as response:
                raw = response.read()
                response_headers = response.headers
        except urllib.error.HTTPError as exc:
            self.clock.observe_headers(exc.headers, sent, self.clock.device())
            raise _api_error(exc) from None
        except CertificateNotTrusted as exc:
            raise UntrustedServer(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise NetworkError(f"{method} {self.base_url}{API_PREFIX}{path}: {reason}") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise NetworkError(f"{method} {path}: the answer is not JSON: {exc}") from exc
        if not isinstance(answer, dict):
            raise NetworkError(f"{method} {path}: the answer is not a JSON object")
        self.clock.observe_headers(response_headers, sent, self.clock.device(), answer)
        return answer


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    """The error JSON {"error": {code, message, field}} of an HTTP error, or its status."""
    try:
        raw = exc.read()
    except OSError:
        raw = b""
    retry_after = None
    header = exc.headers.get("Retry-After") if exc.headers else None
    if header:
        try:
            retry_after = max(float(header), 0.0)
        except ValueError:
            retry_after = None
    try:
        error = json.loads(raw)["error"]
        return ApiError(
            exc.code,
            str(error.get("code", "error")),
            str(error.get("message", "")),
            error.get("field"),
            retry_after,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return ApiError(exc.code, f"http_{exc.code}", exc.reason or "", None, retry_after)
