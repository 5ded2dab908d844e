"""Runtime permissions: camera and precise location asked for in one request, after a note.

How Android and python-for-android behave (p4a's ``android.permissions``, 2026.5.9):

- ``request_permissions(names, callback)`` calls ``requestPermissionsWithRequestCode`` and
  registers the callback only after that Java call returned; the answer comes later, from
  Android's UI thread, as ``callback(permissions, grant_results)`` with booleans.
- Android answers a request made while another one is pending with *empty arrays* (the request
  was cancelled); so does a dialog that was dismissed. Two requests in the same tick (location,
  then camera) therefore lose one answer: everything is asked for here, once, and a permission
  that is not in the answer as granted counts as denied (never ``all([])``).
- On Android 12+ the player may grant only approximate location: COARSE granted, FINE denied.
  Fixes then come kilometres off, so the game says so and points to the QR codes.

This module is Kivy-free: the App shows the note, asks through a Permissions object and hands
the Grants to the screens on Kivy's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

CAMERA = "android.permission.CAMERA"
FINE_LOCATION = "android.permission.ACCESS_FINE_LOCATION"
COARSE_LOCATION = "android.permission.ACCESS_COARSE_LOCATION"
REQUESTED = (FINE_LOCATION, COARSE_LOCATION, CAMERA)
"""What the game asks for, in one request (the manifest lists them too: buildozer.spec)."""


class LocationAccess(StrEnum):
    PRECISE = "precise"
    APPROXIMATE = "approximate"
    """Android 12+: only ACCESS_COARSE_LOCATION; fixes are kilometres off."""
    DENIED = "denied"


@dataclass(frozen=True)
class Grants:
    """What the player allowed."""

    location: LocationAccess
    camera: bool

    @property
    def complete(self) -> bool:
        return self.location is LocationAccess.PRECISE and self.camera

    @property
    def location_note(self) -> str:
        """The text key that says what is missing about location ("" when precise)."""
        return {
            LocationAccess.PRECISE: "",
            LocationAccess.APPROXIMATE: "ui.permission.location_approximate",
            LocationAccess.DENIED: "ui.permission.location_denied",
        }[self.location]

    @property
    def camera_note(self) -> str:
        """The text key that says the camera is not allowed ("" when it is)."""
        return "" if self.camera else "ui.permission.camera_denied"


ALL_GRANTED = Grants(LocationAccess.PRECISE, camera=True)


def grants_of(granted: Collection[str]) -> Grants:
    """The Grants when exactly the permission names in granted are held."""
    if FINE_LOCATION in granted:
        location = LocationAccess.PRECISE
    elif COARSE_LOCATION in granted:
        location = LocationAccess.APPROXIMATE
    else:
        location = LocationAccess.DENIED
    return Grants(location, camera=CAMERA in granted)


def granted_in_answer(permissions: Iterable[Any], grant_results: Iterable[Any]) -> set[str]:
    """The names an onRequestPermissionsResult answer grants: empty arrays grant nothing, and
    only a result that is True (p4a's conversion of PERMISSION_GRANTED) counts."""
    return {
        str(name)
        for name, result in zip(permissions, grant_results, strict=False)
        if isinstance(result, bool) and result
    }


class Backend(Protocol):
    """The platform's permission calls (Android: p4a's android.permissions)."""

    def check(self, name: str) -> bool: ...

    def request(
        self, names: Sequence[str], callback: Callable[[Sequence[Any], Sequence[Any]], None]
    ) -> None: ...


class AndroidBackend:
    """p4a's android.permissions (imported on use: the desktop has no such module)."""

    def check(self, name: str) -> bool:
        from android.permissions import check_permission

        return bool(check_permission(name))

    def request(
        self, names: Sequence[str], callback: Callable[[Sequence[Any], Sequence[Any]], None]
    ) -> None:
        from android.permissions import request_permissions

        request_permissions(list(names), callback)


class SimulatedBackend:
    """The desktop: everything granted except what --deny names; answers after returning, from
    another thread, as Android does."""

    def __init__(self, denied: Iterable[str] = ()) -> None:
        self.denied = set(denied)
        self.asked: list[list[str]] = []

    def check(self, name: str) -> bool:
        return name not in self.denied

    def request(
        self, names: Sequence[str], callback: Callable[[Sequence[Any], Sequence[Any]], None]
    ) -> None:
        self.asked.append(list(names))
        results = [self.check(n) for n in names]
        threading.Timer(0.05, callback, (list(names), results)).start()


DENY_CHOICES = {
    "location": (FINE_LOCATION, COARSE_LOCATION),
    "precise-location": (FINE_LOCATION,),
    "camera": (CAMERA,),
}
"""--deny's values (desktop): what the simulated player refuses."""


def simulated_denials(names: Iterable[str]) -> set[str]:
    return {p for name in names for p in DENY_CHOICES[name]}


GrantsCallback = Callable[[Grants], None]


class Permissions:
    """Asks for REQUESTED in one request at a time; everyone who asks meanwhile gets its answer.

    Callbacks run on whatever thread the backend answers on (Android: its UI thread).
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._lock = threading.Lock()
        self._waiting: list[GrantsCallback] = []
        self.requests = 0
        """How many requests reached the platform (tests and logs)."""

    def held(self) -> Grants:
        """What is granted now, without asking."""
        return grants_of({name for name in REQUESTED if self.backend.check(name)})

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._waiting)

    def request(self, callback: GrantsCallback) -> None:
        """Ask for every permission the game needs (once, however many ask), then callback."""
        with self._lock:
            self._waiting.append(callback)
            if len(self._waiting) > 1:
                return
            self.requests += 1
        try:
            self.backend.request(list(REQUESTED), self._answer)
        except Exception:  # no dialog came up: what is held is the answer
            self._answer([], [])

    def _answer(self, permissions: Sequence[Any], grant_results: Sequence[Any]) -> None:
        granted = granted_in_answer(permissions, grant_results)
        # A cancelled request answers with empty arrays: only what is held really counts then
        granted |= {name for name in REQUESTED if self.backend.check(name)}
        grants = grants_of(granted)
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for callback in waiting:
            callback(grants)
