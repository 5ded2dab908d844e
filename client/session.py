"""The session facade the screens use: a GameSession turns sensor readings and scans into server
events and publishes what to show as immutable Snapshots. No Kivy.

Threads: handle_* may be called from any thread and return at once (events are stored in the
outbox first); network work runs on one worker thread (client/sync.py); subscribers get
Snapshots from any thread (the UI wraps its callback with ``@mainthread``). Calls that ask the
server something (list_rallies, start_rally, ...) return a ``concurrent.futures.Future``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from client import http, i18n, qrscan, tasks
from client import settings as settings_store
from client.api import ApiClient, ApiError, NetworkError, UntrustedServer
from client.ar import Estimate, HeadingSmoother, PositionSmoother
from client.clock import ServerClock
from client.outbox import Event, Outbox
from client.pack import MB, MapProgress, RallyPack, download_map
from client.reveals import RevealQueue
from client.sensors import Fix
from client.settings import Settings, normalise_server
from client.sync import Sync
from client.targets import Target, make_targets, wants_checkin
from client.widgets.tiles import TileCache
from markers import shortcodes

log = logging.getLogger(__name__)

REVEALS_FILE = "reveals.json"
"""The reveal queue's file in the rally pack's folder."""


@dataclass(frozen=True)
class Snapshot:
    """Everything a screen shows, at one moment. Never mutated; a new one is published instead."""

    rally: dict[str, Any] | None = None
    """The rally's public JSON (GET /api/v1/rallies/<slug>)."""
    team: dict[str, Any] | None = None
    """The team's last JSON from the server (GET /api/v1/team)."""
    pending: int = 0
    """Events stored in the outbox and not yet answered by the server."""
    online: bool = False
    """The last request reached the server."""
    last_error: str | None = None
    """The latest problem, in the app's language (None when all is well)."""
    position: Estimate | None = None
    """Smoothed position and its accuracy."""
    heading_deg: float | None = None
    """Smoothed heading, degrees from north."""
    pitch_deg: float = 0.0
    targets: tuple[Target, ...] = ()
    last_reveal: dict[str, Any] | None = None
    """The latest entry of a server answer's found_now: title, story, letter, image_url, stop..."""
    elapsed_s: float | None = None
    """Time played: since the team started, until it finished."""
    language: str = "de"
    last_result: str | None = None
    """What the server said to the latest scan or find, in the app's language ("Found!", ...)."""
    verdicts: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    """Stop number -> what was said to the latest answer to its task: the server's answer
    (result correct/wrong/..., points, attempts_left), {"result": "bad_answer"} when the server
    refused its form, or {"result": "form", "key": ...} when the app could not send it."""
    waiting: tuple[tuple[str, int], ...] = ()
    """(kind, stop) of the answers and hint requests waiting in the outbox."""
    team_lost: str | None = None
    """Set ("" when its name is unknown) when the server no longer knows the saved team's token
    (401 token_unknown: a fresh database, another server): the team is forgotten and this is
    its name; the player starts again or joins by code."""
    reveals: tuple[dict[str, Any], ...] = ()
    """The finds whose reveal the player has not seen yet, the next one first (found_now
    entries; see client/reveals.py). ``GameSession.reveal_seen`` takes one off."""
    clock_offset_s: float | None = None
    """How many seconds the server's clock is ahead of the phone's (None: not known yet)."""
    map_pack: MapProgress | None = None
    """How far the rally's map tiles are on the phone (None: not asked for yet)."""

    @property
    def joined(self) -> bool:
        return self.team is not None

    @property
    def finished(self) -> bool:
        return bool(self.team and self.team.get("finished"))

    @property
    def found(self) -> tuple[dict[str, Any], ...]:
        """The found stops (server JSON), in the order found."""
        return tuple(self.team.get("found", ())) if self.team else ()

    @property
    def solution(self) -> str | None:
        """The solution word so far, e.g. "K _ N _ T", or None when the rally has none."""
        return self.team.get("solution") if self.team else None

    @property
    def progress(self) -> tuple[int, int]:
        """(found, total) stops."""
        if not self.team:
            return 0, int(self.rally.get("stops", 0)) if self.rally else 0
        p = self.team.get("progress", {})
        return int(p.get("found", 0)), int(p.get("total", 0))

    @property
    def join_code(self) -> str | None:
        return self.team.get("join_code") if self.team else None

    def answer_waiting(self, stop: int) -> bool:
        """An answer to stop's task waits in the outbox."""
        return ("answer", stop) in self.waiting

    def hint_waiting(self, stop: int) -> bool:
        """A hint for stop was asked for and waits in the outbox."""
        return ("hint", stop) in self.waiting


Listener = Callable[[Snapshot], None]


ANSWERED_KEEP_S = 3600.0
"""Answered events stay in the outbox this long (for the screens and the logs), then go."""
PURGE_EVERY_S = 600.0
"""How often a running session cleans the outbox up."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_z(at: datetime) -> str:
    """An aware time as RFC 3339 in UTC, e.g. 2026-09-12T18:00:00.123Z."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class GameSession:
    """One player's game: settings, API client, outbox and rally pack in data_dir, one worker.

    Attributes a UI may read: ``settings``, ``data_dir``, ``outbox``, ``pack`` (None before a
    rally is chosen). ``clock`` is the phone's time of events that carry no fix (default: the
    phone's wall clock, ``server_clock.device``); every stamp sent is in the server's time
    (``server_clock``, learnt from the answers). ``tiles`` is the map's cache: with it, the
    rally's map tiles are fetched into it after the rally.
    """

    def __init__(
        self,
        data_dir: str | Path,
        settings: Settings | None = None,
        *,
        sync_interval_s: float = 15.0,
        timeout_s: float = 10.0,
        clock: Callable[[], datetime] | None = None,
        server_clock: ServerClock | None = None,
        tiles: TileCache | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings if settings is not None else settings_store.load(self.data_dir)
        self.server_clock = server_clock if server_clock is not None else ServerClock()
        self.clock = clock or self.server_clock.device
        self.tiles = tiles
        i18n.set_language(self.settings.language)
        self._error: str | None = None
        try:
            http.set_ca_file(self.settings.ca_file)
        except (OSError, ValueError) as exc:
            log.warning("CA file %s not used: %s", self.settings.ca_file, exc)
            http.set_ca_file(None)
            self._error = i18n.t("error.ca_file", path=self.settings.ca_file or "")
        self.api = ApiClient(
            self.settings.server_url,
            self.settings.team_for(self.settings.server_url),
            timeout_s,
            self.settings.language,
            self.server_clock,
        )
        self.outbox = Outbox(self.data_dir / "outbox.sqlite3")
        self._purged_at = -1e9
        self.pack: RallyPack | None = None
        self._lock = threading.RLock()
        self._publishing = threading.RLock()
        self._listeners: list[Listener] = []
        self._rally: dict[str, Any] | None = None
        self._team: dict[str, Any] | None = None
        self._online = False
        self._lost: str | None = None
        self._result: str | None = None
        self._reveal: dict[str, Any] | None = None
        self._reveals = RevealQueue()
        self._verdicts: dict[int, Mapping[str, Any]] = {}
        self._positions = PositionSmoother()
        self._headings = HeadingSmoother()
        self._pitch = 0.0
        self._fix: Fix | None = None
        self._sent_fix: Fix | None = None
        self._scanned: dict[str, tuple[Any, ...]] = {}
        self._snapshot = Snapshot(language=self.settings.language, last_error=self._error)
        self._sync = Sync(self.api, self.outbox, self, sync_interval_s)
        self._qr = ThreadPoolExecutor(1, thread_name_prefix="artcaching-qr")
        self._maps = ThreadPoolExecutor(1, thread_name_prefix="artcaching-map")
        self._map: MapProgress | None = None
        self._map_cancel = threading.Event()
        self._decoding = threading.Event()
        self._closed = threading.Event()
        self._targets: tuple[Any, Fix | None, tuple[Target, ...]] = (None, None, ())

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Clean the outbox up, then start the worker: flush the outbox and refresh the team
        every sync_interval_s."""
        self.purge_outbox()
        self._sync.start()

    def purge_outbox(self, force: bool = True) -> int:
        """Delete events answered more than ANSWERED_KEEP_S ago (at start, then at most every
        PURGE_EVERY_S); how many went."""
        now = time.monotonic()
        if not force and now - self._purged_at < PURGE_EVERY_S:
            return 0
        self._purged_at = now
        try:
            return self.outbox.purge(ANSWERED_KEEP_S)
        except Exception as exc:  # a full disk must not stop the game
            log.warning("outbox not cleaned up: %s", exc)
            return 0

    def close(self) -> None:
        """Stop the worker (what is in the outbox stays there for the next start)."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._map_cancel.set()
        self._sync.close()
        self._qr.shutdown(wait=True, cancel_futures=True)
        self._maps.shutdown(wait=True, cancel_futures=True)
        self.outbox.close()

    def __enter__(self) -> GameSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state -------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The latest Snapshot."""
        return self._snapshot

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener with every new Snapshot (from any thread); returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def set_language(self, lang: str) -> None:
        """Switch the app's language (de, en, de-x-ls); server texts follow on the next sync."""
        i18n.set_language(lang)
        self._save_settings(language=lang)
        self.api.language = lang
        self._publish()
        self._sync.wake()

    def set_large_text(self, on: bool) -> None:
        """Remember the large-text setting."""
        self._save_settings(large_text=bool(on))
        self._publish()

    def set_server(self, url: str) -> None:
        """Use another server (ValueError for a bad address). The saved team stays saved but is
        used only with its own server: another server never sees its token."""
        url = normalise_server(url)
        self._save_settings(server_url=url)
        self.api.base_url = url
        if self.settings.team_for(url) is None:
            self.api.token = None

    # --- asking the server -------------------------------------------------------------------

    def list_rallies(self) -> Future[list[dict[str, Any]]]:
        """Future of the published rallies (list of summary dicts)."""
        return self._sync.submit(self.api.rallies)

    def load_rally(self, slug: str) -> Future[dict[str, Any]]:
        """Future of one rally's public JSON (also kept in the rally pack)."""

        def work() -> dict[str, Any]:
            rally = self.api.rally(slug)
            if self.pack is not None and self.pack.slug == slug:
                self.pack.save_rally(rally)
                with self._lock:
                    self._rally = rally
            return rally

        return self._sync.submit(work)

    def start_rally(self, slug: str, name: str, lang: str | None = None) -> Future[dict[str, Any]]:
        """Create a team and play: Future of the team JSON; token kept in the settings."""
        return self._sync.submit(
            lambda: self._joined(
                slug, self.api.create_team(slug, name, lang or self.settings.language)
            )
        )

    def join_team(self, slug: str, code: str) -> Future[dict[str, Any]]:
        """Join an existing team with its join code: Future of the team JSON."""
        return self._sync.submit(lambda: self._joined(slug, self.api.join_team(slug, code)))

    def resume(self) -> bool:
        """Continue the team saved in the settings (offline from the rally pack); False if none
        is saved for this server."""
        slug, token = self.settings.rally_slug, self.settings.team_for(self.settings.server_url)
        if not slug or not token:
            return False
        self.api.token = token
        pack = RallyPack(self.data_dir, slug)
        with self._lock:
            self.pack = pack
            self._rally, self._team = pack.rally(), pack.team()
            self._reveals = RevealQueue(pack.folder / REVEALS_FILE)
        self._publish()
        self._sync.wake()
        self.fetch_map()
        return True

    def leave(self) -> None:
        """Forget the team (token, pack); events still waiting in the outbox are dropped."""
        self._forget_team(None)

    def _forget_team(self, lost: str | None) -> None:
        self.outbox.drop_pending()
        with self._lock:
            if self.pack is not None:
                self.pack.clear()
            self.pack, self._rally, self._team, self._reveal = None, None, None, None
            self._map = None
            self._reveals = RevealQueue()
            self._sent_fix, self._result, self._error = None, None, None
            self._lost = lost
            self._scanned.clear()
            self._verdicts.clear()
        self.api.token = None
        self._save_settings(rally_slug=None, team_token=None, join_code=None, team_server=None)
        self._publish()

    def _team_unknown(self, exc: ApiError | None, code: str = "") -> bool:
        """The server does not know the saved token (401 token_unknown): forget the team and
        say so; True if that was it."""
        if (exc.code if exc is not None else code) != "token_unknown":
            return False
        with self._lock:
            if self.api.token is None:
                return True
            name = str((self._team or {}).get("name") or "")
        log.warning("the server does not know the saved team %r: forgotten", name)
        self._forget_team(name)
        return True

    def leaderboard(self) -> Future[dict[str, Any]]:
        """Future of the current rally's leaderboard JSON."""
        slug = self.settings.rally_slug
        if not slug:
            failed: Future[dict[str, Any]] = Future()
            failed.set_exception(ApiError(400, "no_team", i18n.t("error.no_team")))
            return failed
        return self._sync.submit(lambda: self.api.leaderboard(slug))

    def reveal_seen(self, stop: int) -> None:
        """The player has seen the reveal of stop (it is not shown again, also after a
        restart); the next queued one, if any, is first in the next Snapshot's reveals."""
        with self._lock:
            reveals = self._reveals
        reveals.seen(stop)
        self._publish()

    def stamp(self, at: datetime) -> str:
        """A time read from the phone's clock as the recorded_at sent: in the server's time. An
        event keeps its stamp in the outbox, whatever the phone's clock does later."""
        return iso_z(self.server_clock.to_server(at))

    def fetch_map(self) -> Future[MapProgress]:
        """Fetch the rally's map tiles into the map's cache, off the UI thread (progress in the
        Snapshots' map_pack): the server's manifest (or the one kept in the pack when the server
        is away), capped at the map_pack_mb setting; tiles already kept are not fetched again."""
        pack, cache = self.pack, self.tiles
        if pack is None or cache is None or self.settings.map_pack_mb <= 0:
            skipped: Future[MapProgress] = Future()
            skipped.set_result(MapProgress("none"))
            return skipped

        def progress(state: MapProgress) -> None:
            with self._lock:
                if self.pack is pack:
                    self._map = state
            self._publish()

        def work() -> MapProgress:
            try:
                manifest = self.api.tile_manifest(pack.slug)
                pack.save_map(manifest)
            except (NetworkError, ApiError) as exc:
                log.info("tile manifest not fetched: %s", exc)
                manifest = pack.map() or {}
            return download_map(
                manifest,
                cache,
                self.api.base_url,
                self.settings.map_pack_mb * MB,
                progress=progress,
                cancel=self._map_cancel,
                timeout_s=self.api.timeout,
            )

        try:
            return self._maps.submit(work)
        except RuntimeError:
            closed: Future[MapProgress] = Future()
            closed.set_result(MapProgress("none"))
            return closed

    def sync_now(self) -> Future[None]:
        """Flush the outbox and refresh the team now; Future resolves when done (None)."""
        return self._sync.sync_now()

    # --- sensors and scans -------------------------------------------------------------------

    def handle_fix(self, fix: Fix) -> None:
        """A location fix: smooth it, update targets, and store a check-in when the policy says."""
        if self._closed.is_set():
            return
        with self._lock:
            self._positions.update(fix.position, fix.accuracy_m, fix.at)
            self._fix = fix
            store = False
            if self._team is not None and self.api.token:
                targets = self._current_targets()
                uncertain = self.outbox.count() > 0
                store = wants_checkin(fix, self._sent_fix, targets, uncertain)
                if store:
                    self._sent_fix = fix
        if store:
            payload: dict[str, Any] = {
                "lat": fix.lat,
                "lon": fix.lon,
                "accuracy_m": round(fix.accuracy_m, 1),
                "recorded_at": self.stamp(fix.at),
                "mock_location": fix.mock,
            }
            heading = self._headings.value
            if heading is not None:
                payload["heading"] = round(heading, 1)
            self.outbox.put("checkin", payload)
            self._sync.wake()
        self._publish()

    def handle_heading(self, heading_deg: float, pitch_deg: float | None = None) -> None:
        """A compass reading (degrees from north) and optionally the camera's pitch."""
        if self._closed.is_set():
            return
        with self._lock:
            self._headings.update(heading_deg, time.monotonic())
            if pitch_deg is not None:
                self._pitch = self._pitch + 0.3 * (pitch_deg - self._pitch)
        self._publish()

    def handle_qr_text(self, text: str) -> bool:
        """A decoded QR code: if it is an Art Caching code, store a scan event; True if stored.

        The same code is sent again only once the team's open stops have changed.
        """
        if self._closed.is_set():
            return False
        token = qrscan.qr_token(text)
        if token is None:
            with self._lock:
                self._result = i18n.t("qr.not_ours")
            self._publish()
            return False
        return self._store_scan({"token": text.strip()}, token)

    def handle_typed_code(self, typed: str) -> bool:
        """A stop's short code typed on the scan screen (KM7-4QX, any case): store it as a scan
        event, as the server takes it instead of a token; True if stored. Each try is sent."""
        if self._closed.is_set():
            return False
        code = shortcodes.normalize(typed)
        if code is None:
            with self._lock:
                self._result = i18n.t("qr.code_invalid")
            self._publish()
            return False
        return self._store_scan({"code": shortcodes.display(code)}, None)

    def _store_scan(self, what: dict[str, str], token: str | None) -> bool:
        """Put a scan event of ``what`` (token or code) with the latest fix in the outbox; a
        ``token`` already sent is sent again only once the team's open stops have changed."""
        with self._lock:
            if self._team is None or not self.api.token:
                self._result = i18n.t("error.no_team")
                stored = False
            else:
                state = self._open_state()
                stored = token is None or self._scanned.get(token) != state
                if stored:
                    if token is not None:
                        self._scanned[token] = state
                    self._result = i18n.t("qr.stored")
            fix = self._fix
        if stored:
            now = self.clock()
            payload: dict[str, Any] = {**what, "recorded_at": self.stamp(now)}
            if fix is not None and abs((now - fix.at).total_seconds()) <= 60:
                payload.update(
                    lat=fix.lat,
                    lon=fix.lon,
                    accuracy_m=round(fix.accuracy_m, 1),
                    mock_location=fix.mock,
                )
            self.outbox.put("scan", payload)
            self._sync.wake()
        self._publish()
        return stored

    def handle_frame(self, image: Any) -> Future[list[str]] | None:
        """A camera frame (qrscan.Gray or a PIL image): decode QR codes off the caller's thread
        and handle them.

        Returns a Future of the decoded texts, or None (no work) while the previous frame is
        still being decoded.
        """
        if self._decoding.is_set() or self._closed.is_set():
            return None
        self._decoding.set()

        def work() -> list[str]:
            try:
                texts = qrscan.decode(image)
                for text in texts:
                    self.handle_qr_text(text)
                return texts
            finally:
                self._decoding.clear()

        try:
            return self._qr.submit(work)
        except RuntimeError:
            self._decoding.clear()
            return None

    # --- tasks and hints -----------------------------------------------------------------------

    def handle_answer(self, stop: int, given: object) -> bool:
        """The player's answer to the task of found stop number stop (an option's index for a
        choice, the typed text for a number or a text): stored for the server, which decides
        right or wrong; True if stored. False when the task is not open, an answer to it still
        waits, or the answer has the wrong form (then the stop's verdict says why)."""
        if self._closed.is_set():
            return False
        with self._lock:
            found = tasks.found_stop(self._team, stop)
            task = found.get("task") if found else None
            if not self.api.token or not tasks.task_open(task):
                return False
            if self._waits("answer", stop):
                return False
            try:
                value = tasks.parse_answer(str(task.get("type")), given)  # type: ignore[union-attr]
            except tasks.AnswerFormError as exc:
                self._verdicts[stop] = {"result": "form", "key": exc.key}
                stored = False
            else:
                self._verdicts.pop(stop, None)
                stored = True
        if stored:
            self.outbox.put(
                "answer", {"stop": stop, "answer": value, "recorded_at": self.stamp(self.clock())}
            )
            self._sync.wake()
        self._publish()
        return stored

    def take_hint(self, stop: int) -> bool:
        """Ask for the next hint of stop number stop (it costs points); True if stored. False
        when the stop offers no hint or one is already asked for."""
        if self._closed.is_set():
            return False
        with self._lock:
            team = self._team
            entry = tasks.open_stop(team, stop) or tasks.found_stop(team, stop)
            if (
                not self.api.token
                or entry is None
                or not entry.get("hints_left")
                or self._waits("hint", stop)
            ):
                return False
        self.outbox.put("hint", {"stop": stop, "recorded_at": self.stamp(self.clock())})
        self._sync.wake()
        self._publish()
        return True

    def describe_error(self, exc: BaseException) -> str:
        """A failed Future's exception as a sentence in the app's language."""
        if isinstance(exc, UntrustedServer):
            return i18n.t("error.untrusted")
        if isinstance(exc, NetworkError):
            return i18n.t("error.network")
        if isinstance(exc, ApiError):
            if exc.status == 429:
                return i18n.t("error.rate_limited")
            if exc.retryable:
                return i18n.t("error.server", status=exc.status)
            return i18n.t("error.rejected", message=exc.message or exc.code)
        if isinstance(exc, KeyError | TypeError | ValueError):
            return i18n.t("error.bad_answer")
        return i18n.t("error.unexpected", message=str(exc))

    # --- what the Sync reports (on its worker thread) ----------------------------------------

    def on_answer(self, event: Event) -> None:
        """Take the server's answer to one event: the team, what was found now."""
        answer = event.response or {}
        team = answer.get("team")
        if isinstance(team, dict):
            self.on_team(team)
        found_now = answer.get("found_now") or []
        outcome = str(answer.get("result", ""))
        with self._lock:
            self._online = True
            if found_now:
                self._reveal = found_now[-1]
                self._reveals.add(found_now)
                self._result = i18n.t("result.found")
            elif event.kind == "scan" and i18n.has(f"result.{outcome}"):
                self._result = i18n.t(f"result.{outcome}")
            if event.kind == "answer":
                self._verdicts[int(event.payload["stop"])] = {
                    "result": outcome,
                    "points": answer.get("points", 0),
                    "attempts_left": answer.get("attempts_left", 0),
                }
        self._publish()

    def on_rejected(self, event: Event) -> None:
        """The server refused an event for good: say so (a refused scan is the scan's result; an
        answer of the wrong form is its task's verdict: it used no attempt, the player may try
        again)."""
        code = (event.error or "").partition(":")[0]
        if self._team_unknown(None, code) or code == "token_missing":
            return
        with self._lock:
            if event.kind == "answer" and code == "bad_answer":
                self._verdicts[int(event.payload["stop"])] = {"result": code}
                return
            self._error = i18n.t("error.rejected", message=event.error or "")
            if event.kind == "scan":
                self._result = self._error

    def on_team(self, team: dict[str, Any]) -> None:
        """Keep the team's latest JSON (also in the rally pack)."""
        with self._lock:
            self._team = team
            if self.pack is not None:
                self.pack.save_team(team)

    def on_synced(self) -> None:
        """All sent and the team current: online, no error; then fetch the pack's images."""
        with self._lock:
            self._online, self._error = True, None
        self._publish()
        self.purge_outbox(force=False)
        if self.pack is not None:
            try:
                self.pack.fetch_images(self.api.base_url, self.api.timeout)
            except OSError as exc:
                log.info("images not fetched: %s", exc)

    def on_failure(self, exc: NetworkError | ApiError) -> None:
        """A request failed: offline when the server was not reached; say what went wrong."""
        if isinstance(exc, ApiError) and (self._team_unknown(exc) or exc.code == "token_missing"):
            return
        with self._lock:
            self._online = not isinstance(exc, NetworkError)
            self._error = self.describe_error(exc)
        self._publish()

    # --- inside ------------------------------------------------------------------------------

    def _joined(self, slug: str, answer: dict[str, Any]) -> dict[str, Any]:
        """After create/join: keep token and pack, load the rally's public face."""
        token = answer["token"]
        pack = RallyPack(self.data_dir, slug)
        if token != self.settings.team_for(self.api.base_url, slug):
            self.outbox.drop_pending()
            pack.clear()  # another team's (or server's) finds must not mix with this one's
        self._save_settings(
            rally_slug=slug,
            team_token=token,
            join_code=answer.get("join_code"),
            team_server=normalise_server(self.api.base_url),
        )
        self.api.token = token
        team = dict(answer["team"], join_code=answer.get("join_code"))
        with self._lock:
            self.pack = pack
            self._team, self._reveal, self._sent_fix, self._result = None, None, None, None
            self._lost = None
            self._reveals = RevealQueue(pack.folder / REVEALS_FILE)
            self._reveals.clear()
            self._scanned.clear()
            self._verdicts.clear()
        self.on_team(team)
        try:
            rally = self.api.rally(slug)
            pack.save_rally(rally)
            with self._lock:
                self._rally = rally
        except NetworkError:
            pass
        with self._lock:
            self._online, self._error = True, None
        self._publish()
        self.fetch_map()
        return team

    def _save_settings(self, **changes: Any) -> None:
        with self._lock:
            self.settings = self.settings.with_(**changes)
            settings_store.save(self.data_dir, self.settings)

    def _waits(self, kind: str, stop: int) -> bool:
        """An event of kind for stop number stop waits in the outbox."""
        return any(e.payload.get("stop") == stop for e in self.outbox.pending_of((kind,)))

    def _open_state(self) -> tuple[Any, ...]:
        team = self._team or {}
        return (tuple(o.get("marker_id") for o in team.get("open", [])), len(team.get("found", [])))

    def _elapsed(self) -> float | None:
        team = self._team
        if not team or not team.get("started_at"):
            return None
        started = datetime.fromisoformat(team["started_at"].replace("Z", "+00:00"))
        end = team.get("finished_at")
        until = (
            datetime.fromisoformat(end.replace("Z", "+00:00"))
            if end
            else self.server_clock.to_server(self.clock())
        )
        return max((until - started).total_seconds(), 0.0)

    def _current_targets(self) -> tuple[Target, ...]:
        """The targets, measured again only when the team or the fix changed (not per heading)."""
        team, fix, targets = self._targets
        if team is not self._team or fix is not self._fix:
            estimate = self._positions.estimate
            targets = make_targets(self._team, self._fix, estimate.position if estimate else None)
            self._targets = (self._team, self._fix, targets)
        return targets

    def _publish(self) -> None:
        """Build a Snapshot and hand it to the listeners; one publish at a time, so listeners
        see snapshots in the order they were made."""
        if self._closed.is_set():
            return
        with self._publishing:
            self._deliver()

    def _deliver(self) -> None:
        with self._lock:
            estimate = self._positions.estimate
            waiting = tuple(
                (e.kind, int(e.payload.get("stop", 0)))
                for e in self.outbox.pending_of(("answer", "hint"))
            )
            snap = Snapshot(
                rally=self._rally,
                team=self._team,
                pending=self.outbox.count(),
                online=self._online,
                last_error=self._error,
                position=estimate,
                heading_deg=self._headings.value,
                pitch_deg=self._pitch,
                targets=self._current_targets(),
                last_reveal=self._reveal,
                elapsed_s=self._elapsed(),
                language=self.settings.language,
                last_result=self._result,
                verdicts=dict(self._verdicts),
                waiting=waiting,
                team_lost=self._lost,
                reveals=self._reveals.items,
                clock_offset_s=self.server_clock.offset_s(),
                map_pack=self._map,
            )
            self._snapshot = snap
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(snap)
            except Exception:
                log.exception("snapshot listener failed")
