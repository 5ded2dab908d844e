"""Read aloud: a Speaker says a text (a clue, a story) in the text's language, off the UI thread.

Like the sensors, an interface with real and fake implementations:

- ``AndroidSpeaker``: Android's TextToSpeech through pyjnius, with the text's locale. plyer's
  Android tts (2.1) cannot serve: it makes a new engine for every text, sets ``Locale.US``
  before each one and can neither stop nor tell when it is done.
- ``PlyerSpeaker``: plyer's tts where plyer has one (iOS, macOS, Windows); plyer takes no
  language there, so the system's voice reads.
- ``EspeakSpeaker``: espeak-ng (or espeak) on a desktop, with a voice of the text's language.
- ``SilentSpeaker``: no speech on this machine; says so in the log.
- ``RecordingSpeaker``: the fake for tests; remembers what it was asked to say.

``default_speaker`` picks one for the platform. Imports of plyer and pyjnius happen on use, so
the desktop runs without them.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from markers.i18n import speech_locale

log = logging.getLogger(__name__)

Done = Callable[[], None]
"""Called once when an utterance has ended: spoken to its end, stopped, or replaced (any thread)."""


class Speaker(Protocol):
    """Reads texts aloud, one at a time. Neither call waits for the speech."""

    def speak(self, text: str, lang: str, done: Done | None = None) -> None:
        """Say text, a text in lang (a player language: "de", "en", "de-x-ls"), stopping any
        text before it."""
        ...

    def stop(self) -> None:
        """Stop speaking."""
        ...


class ThreadedSpeaker:
    """A Speaker whose engine speaks on one worker thread: speak() returns at once; a new text
    stops the one being said (and replaces one not yet begun). Subclasses implement say()."""

    thread_name = "speech"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next: tuple[str, str, Done | None] | None = None
        self._halted = threading.Event()
        self._thread: threading.Thread | None = None

    def say(self, text: str, locale: str, halted: threading.Event) -> None:
        """Speak text with a voice for locale (BCP-47, "de-DE"); return when it has been said
        or soon after halted is set. Runs on the worker thread."""
        raise NotImplementedError

    def speak(self, text: str, lang: str, done: Done | None = None) -> None:
        with self._cond:
            self._halted.set()
            if self._next is not None and self._next[2] is not None:
                self._next[2]()
            self._next = (text, speech_locale(lang), done)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self.thread_name, daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._halted.set()
            if self._next is not None and self._next[2] is not None:
                self._next[2]()
            self._next = None

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._next is None:
                    self._cond.wait()
                text, locale, done = self._next
                self._next = None
                self._halted.clear()
            try:
                self.say(text, locale, self._halted)
            except Exception:  # a broken voice must not end the game
                log.exception("read aloud: %s could not speak", type(self).__name__)
            finally:
                if done is not None:
                    done()


class EspeakSpeaker(ThreadedSpeaker):
    """espeak-ng (or the older espeak) as a child process, with a voice for the locale."""

    VOICES: ClassVar[Mapping[str, str]] = {"en-GB": "en-gb", "en-US": "en-us"}
    """eSpeak's voice for a locale where the language alone would pick the wrong one."""

    def __init__(self, executable: str) -> None:
        super().__init__()
        self.executable = executable

    @staticmethod
    def voice(locale: str) -> str:
        return EspeakSpeaker.VOICES.get(locale, locale.split("-")[0].lower())

    def say(self, text: str, locale: str, halted: threading.Event) -> None:
        # The text goes in on stdin (UTF-8, -b 1), so that one starting with "-" is no option.
        with subprocess.Popen(
            [self.executable, "-b", "1", "-v", self.voice(locale)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as proc:
            assert proc.stdin is not None
            try:
                proc.stdin.write(text.encode("utf-8"))
                proc.stdin.close()
            except BrokenPipeError:
                pass
            while proc.poll() is None:
                if halted.wait(0.05):
                    proc.terminate()
                    break


class PlyerSpeaker(ThreadedSpeaker):
    """plyer's tts (iOS, macOS, Windows). plyer passes no language: the system's voice reads,
    and a text once begun is read to its end."""

    def say(self, text: str, locale: str, halted: threading.Event) -> None:
        from plyer import tts

        tts.speak(message=text)


class SilentSpeaker(ThreadedSpeaker):
    """No text-to-speech here: logs what it would have said."""

    def say(self, text: str, locale: str, halted: threading.Event) -> None:
        log.warning(
            "read aloud: no text-to-speech on this machine (install espeak-ng); "
            "would have read %d characters in %s",
            len(text),
            locale,
        )


class AndroidSpeaker(ThreadedSpeaker):
    """Android's TextToSpeech through pyjnius: one engine, the locale set for each text."""

    QUEUE_FLUSH = 0
    ERROR = -1
    START_S = 5.0
    """How long the engine may take to begin speaking (it starts asynchronously)."""

    def __init__(self) -> None:
        # Java classes are looked up here, on the app's thread: on a thread of its own pyjnius
        # would search the system's class loader, which does not know the app's classes.
        from jnius import autoclass

        super().__init__()
        self._activity = autoclass("org.kivy.android.PythonActivity").mActivity
        self._engine_class = autoclass("android.speech.tts.TextToSpeech")
        self._locale_class = autoclass("java.util.Locale")
        self._tts: Any = None

    def say(self, text: str, locale: str, halted: threading.Event) -> None:
        if self._tts is None:
            self._tts = self._engine_class(self._activity, None)
        tts = self._tts
        voice_locale = self._locale_class.forLanguageTag(locale)
        # The engine binds its service asynchronously: until then every call answers ERROR.
        waited = 0.0
        while True:
            tts.setLanguage(voice_locale)
            if tts.speak(text, self.QUEUE_FLUSH, None) != self.ERROR:
                break
            if waited >= self.START_S or halted.wait(0.1):
                if waited >= self.START_S:
                    log.warning("read aloud: Android's text-to-speech did not start")
                return
            waited += 0.1
        begun, waited = False, 0.0
        while not halted.wait(0.1):
            waited += 0.1
            if tts.isSpeaking():
                begun = True
            elif begun or waited > self.START_S:
                return
        tts.stop()

    def shutdown(self) -> None:
        """Release the engine (when the app ends)."""
        if self._tts is not None:
            self._tts.shutdown()
            self._tts = None


@dataclass(frozen=True)
class Utterance:
    text: str
    lang: str
    """The text's language, as the caller gave it ("de-x-ls")."""
    locale: str
    """The voice's language (BCP-47, "de-DE")."""


class RecordingSpeaker:
    """The fake Speaker for tests: remembers each text; it "speaks" until stop(), the next text,
    or finish()."""

    def __init__(self) -> None:
        self.said: list[Utterance] = []
        self.stops = 0
        self._done: Done | None = None
        self.speaking = False

    def speak(self, text: str, lang: str, done: Done | None = None) -> None:
        self._end()
        self.said.append(Utterance(text, lang, speech_locale(lang)))
        self.speaking, self._done = True, done

    def stop(self) -> None:
        self.stops += 1
        self._end()

    def finish(self) -> None:
        """The text has been said to its end."""
        self._end()

    def _end(self) -> None:
        done, self._done, self.speaking = self._done, None, False
        if done is not None:
            done()


class ReadAloud:
    """What the read-aloud buttons share: one text at a time, each known by a key ("clue-2",
    "story"); pressing the button of the text being read stops it. changed(key) says which
    text is being read ("" for none), from any thread."""

    def __init__(self, speaker: Speaker, changed: Callable[[str], None]) -> None:
        self.speaker = speaker
        self.changed = changed
        self.key = ""
        self._turn = 0
        self._lock = threading.Lock()

    def toggle(self, key: str, text: str, lang: str) -> bool:
        """Read text (in lang) aloud, or stop when it is the one being read; True when it began."""
        if not text.strip():
            return False
        with self._lock:
            if key and key == self.key:
                again = True
            else:
                again = False
                self._turn += 1
                turn, self.key = self._turn, key
        if again:
            self.stop()
            return False
        self.changed(key)
        self.speaker.speak(text, lang, done=lambda: self._ended(turn))
        return True

    def stop(self) -> None:
        """Stop reading."""
        with self._lock:
            self._turn += 1
            was, self.key = self.key, ""
        self.speaker.stop()
        if was:
            self.changed("")

    def _ended(self, turn: int) -> None:
        with self._lock:
            if turn != self._turn:
                return
            self.key = ""
        self.changed("")


def default_speaker(platform: str, which: Callable[[str], str | None] = shutil.which) -> Speaker:
    """The Speaker for this platform (Kivy's platform name: "android", "linux", "win", ...)."""
    if platform == "android":
        return AndroidSpeaker()
    for name in ("espeak-ng", "espeak"):
        executable = which(name)
        if executable:
            return EspeakSpeaker(executable)
    if platform in ("ios", "macosx", "win"):
        return PlyerSpeaker()
    return SilentSpeaker()
