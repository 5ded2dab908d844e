"""The reveal queue and the journal. No Kivy.

A find's reveal (story, letter, image, the next clue) is shown once, in the order found: after an
outage several stops may be found by one catch-up, and each gets its turn. The queue is kept in
a JSON file (in the rally pack), so a restart neither shows a seen reveal again nor loses one not
yet seen. The journal is every found stop, to be opened again from the progress screen.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def _stop(entry: Mapping[str, Any]) -> int | None:
    try:
        return int(entry["stop"])
    except (KeyError, TypeError, ValueError):
        return None


class RevealQueue:
    """The finds whose reveal the player has not yet seen, oldest first (thread-safe).

    ``path`` is the JSON file that keeps it (None: only in memory). A stop is queued at most once
    per team: once seen, it is never queued again (a resent event's answer repeats its found_now).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._queued: list[dict[str, Any]] = []
        self._seen: set[int] = set()
        if self.path is not None:
            self._load()

    @property
    def items(self) -> tuple[dict[str, Any], ...]:
        """The queued reveals (found_now entries), the next one first."""
        with self._lock:
            return tuple(self._queued)

    def add(self, found_now: Iterable[Mapping[str, Any]]) -> int:
        """Queue the new finds of one server answer, in its order; returns how many were new."""
        added = 0
        with self._lock:
            queued = {_stop(e) for e in self._queued}
            for entry in found_now:
                stop = _stop(entry)
                if stop is None or stop in self._seen or stop in queued:
                    continue
                self._queued.append(dict(entry))
                queued.add(stop)
                added += 1
            if added:
                self._save()
        return added

    def seen(self, stop: int) -> bool:
        """The player has seen stop's reveal: it leaves the queue for good; True if queued."""
        with self._lock:
            before = len(self._queued)
            self._queued = [e for e in self._queued if _stop(e) != stop]
            self._seen.add(int(stop))
            self._save()
            return len(self._queued) != before

    def clear(self) -> None:
        """Forget everything (a new team, or the team left)."""
        with self._lock:
            self._queued, self._seen = [], set()
            self._save()

    def _load(self) -> None:
        assert self.path is not None
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(raw, dict):
            return
        queued = raw.get("queued")
        seen = raw.get("seen")
        if isinstance(queued, list):
            self._queued = [e for e in queued if isinstance(e, dict) and _stop(e) is not None]
        if isinstance(seen, list):
            self._seen = {int(s) for s in seen if isinstance(s, int)}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        body = {"queued": self._queued, "seen": sorted(self._seen)}
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


def journal(team: Mapping[str, Any] | None) -> tuple[dict[str, Any], ...]:
    """Every found stop (story, letter, image_url, task ...), in the order found."""
    if not team:
        return ()
    return tuple(dict(f) for f in team.get("found", ()) if _stop(f) is not None)


def journal_entry(
    team: Mapping[str, Any] | None, stop: int, queued: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any] | None:
    """What to show for found stop number stop: the team's entry (its task's state is current),
    else the queued reveal (the team's JSON may not have caught up yet)."""
    for entry in journal(team):
        if _stop(entry) == stop:
            return entry
    for waiting in queued:
        if _stop(waiting) == stop:
            return dict(waiting)
    return None
