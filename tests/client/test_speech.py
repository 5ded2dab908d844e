"""Read aloud without a window: the speakers (threaded, eSpeak, Android through a fake pyjnius,
the recording fake), the toggle the buttons share, and which speaker a platform gets."""

from __future__ import annotations

import stat
import sys
import threading
import time
import types
from pathlib import Path
from typing import ClassVar

import pytest

from client import speech
from client.speech import (
    AndroidSpeaker,
    EspeakSpeaker,
    PlyerSpeaker,
    ReadAloud,
    RecordingSpeaker,
    SilentSpeaker,
    ThreadedSpeaker,
    Utterance,
    default_speaker,
)


def wait_for(test, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


class SlowEngine(ThreadedSpeaker):
    """Speaks each text until finish() or halted; remembers the thread and what it said."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, str]] = []
        self.halted: list[str] = []
        self.threads: set[str] = set()
        self._finish = threading.Event()

    def say(self, text, locale, halted):
        self.threads.add(threading.current_thread().name)
        self.said.append((text, locale))
        self._finish.clear()
        while not self._finish.is_set():
            if halted.wait(0.01):
                self.halted.append(text)
                return

    def finish(self) -> None:
        self._finish.set()


def test_threaded_speaker_speaks_off_the_calling_thread_and_returns_at_once():
    engine = SlowEngine()
    ended = []
    started = time.monotonic()
    engine.speak("Suche den Brunnen.", "de", done=lambda: ended.append("brunnen"))
    assert time.monotonic() - started < 0.1
    wait_for(lambda: engine.said)
    assert engine.said == [("Suche den Brunnen.", "de-DE")]
    assert engine.threads == {"speech"}
    assert ended == []
    engine.finish()
    wait_for(lambda: ended == ["brunnen"])


def test_a_new_text_stops_the_one_being_said_and_stop_halts():
    engine = SlowEngine()
    ended = []
    engine.speak("one", "en", done=lambda: ended.append("one"))
    wait_for(lambda: engine.said)
    engine.speak("zwei", "de-x-ls", done=lambda: ended.append("zwei"))
    wait_for(lambda: len(engine.said) == 2)
    assert engine.said == [("one", "en-GB"), ("zwei", "de-DE")]
    assert engine.halted == ["one"] and ended == ["one"]
    engine.stop()
    wait_for(lambda: ended == ["one", "zwei"])
    assert engine.halted == ["one", "zwei"]


def test_texts_asked_for_in_quick_succession_only_the_last_is_read():
    engine = SlowEngine()
    ended = []
    with engine._cond:  # the worker cannot take a text while the three arrive
        for word in ("a", "b", "c"):
            engine.speak(word, "en", done=lambda w=word: ended.append(w))
    wait_for(lambda: engine.said)
    engine.finish()
    wait_for(lambda: len(ended) == 3)
    assert engine.said == [("c", "en-GB")]
    assert ended == ["a", "b", "c"]


def test_a_broken_voice_is_logged_and_the_next_text_still_read(caplog):
    class Broken(SlowEngine):
        def say(self, text, locale, halted):
            if text == "boom":
                raise RuntimeError("no voice")
            super().say(text, locale, halted)

    engine = Broken()
    ended = []
    engine.speak("boom", "en", done=lambda: ended.append("boom"))
    wait_for(lambda: ended == ["boom"])
    engine.speak("fine", "en")
    wait_for(lambda: engine.said == [("fine", "en-GB")])
    engine.stop()
    assert "could not speak" in caplog.text


def fake_espeak(tmp_path: Path, seconds: float = 0.0) -> Path:
    """A script in espeak-ng's place: writes its arguments and stdin to a file, then waits."""
    out = tmp_path / "espeak.out"
    exe = tmp_path / "espeak-ng"
    exe.write_text(
        f"#!{sys.executable}\n"
        "import sys, time\n"
        f"open({str(out)!r}, 'w', encoding='utf-8').write("
        "' '.join(sys.argv[1:]) + '|' + sys.stdin.buffer.read().decode('utf-8'))\n"
        f"time.sleep({seconds})\n",
        encoding="utf-8",
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def test_espeak_reads_the_text_from_stdin_with_a_voice_of_its_language(tmp_path):
    exe = fake_espeak(tmp_path)
    ended = []
    speaker = EspeakSpeaker(str(exe))
    speaker.speak("-Über die Brücke", "de-x-ls", done=lambda: ended.append(1))
    wait_for(lambda: ended, timeout_s=10)
    assert (tmp_path / "espeak.out").read_text(encoding="utf-8") == "-b 1 -v de|-Über die Brücke"
    speaker.speak("Cross the bridge", "en", done=lambda: ended.append(2))
    wait_for(lambda: len(ended) == 2, timeout_s=10)
    assert (tmp_path / "espeak.out").read_text(encoding="utf-8") == "-b 1 -v en-gb|Cross the bridge"


def test_stopping_espeak_ends_its_process(tmp_path):
    exe = fake_espeak(tmp_path, seconds=30)
    ended = []
    speaker = EspeakSpeaker(str(exe))
    speaker.speak("long", "en", done=lambda: ended.append(time.monotonic()))
    wait_for(lambda: (tmp_path / "espeak.out").exists(), timeout_s=10)
    stopped = time.monotonic()
    speaker.stop()
    wait_for(lambda: ended, timeout_s=5)
    assert ended[0] - stopped < 2


def test_silent_speaker_says_in_the_log_that_it_cannot_speak(caplog):
    speaker = SilentSpeaker()
    ended = []
    speaker.speak("Hallo", "de", done=lambda: ended.append(1))
    wait_for(lambda: ended)
    assert "no text-to-speech" in caplog.text and "de-DE" in caplog.text


def test_plyer_speaker_hands_the_text_to_plyer(monkeypatch):
    import plyer

    said = []
    monkeypatch.setattr(
        plyer, "tts", types.SimpleNamespace(speak=lambda message: said.append(message))
    )
    ended = []
    PlyerSpeaker().speak("Fountain", "en", done=lambda: ended.append(1))
    wait_for(lambda: ended)
    assert said == ["Fountain"]


class FakeTextToSpeech:
    """android.speech.tts.TextToSpeech as far as AndroidSpeaker uses it: ERROR until its
    service is bound (after `ready_after` calls), then speaking for `speaks_for` polls."""

    instances: ClassVar[list[FakeTextToSpeech]] = []

    def __init__(self, activity, listener, ready_after: int = 2, speaks_for: int = 3):
        self.activity, self.listener = activity, listener
        self.calls: list[tuple] = []
        self.ready_after, self.speaks_for = ready_after, speaks_for
        self.left = 0
        FakeTextToSpeech.instances.append(self)

    def setLanguage(self, locale):
        self.calls.append(("setLanguage", locale.tag))
        return 0

    def speak(self, text, queue, params):
        self.calls.append(("speak", text, queue, params))
        if self.ready_after > 0:
            self.ready_after -= 1
            return -1
        self.left = self.speaks_for
        return 0

    def isSpeaking(self):
        self.left -= 1
        return self.left >= 0

    def stop(self):
        self.calls.append(("stop",))
        self.left = 0

    def shutdown(self):
        self.calls.append(("shutdown",))


@pytest.fixture
def android(monkeypatch):
    """A fake pyjnius with the activity, TextToSpeech and Locale."""
    FakeTextToSpeech.instances.clear()
    looked_up: list[tuple[str, str]] = []

    def autoclass(name):
        looked_up.append((name, threading.current_thread().name))
        if name == "org.kivy.android.PythonActivity":
            return types.SimpleNamespace(mActivity="the-activity")
        if name == "android.speech.tts.TextToSpeech":
            return FakeTextToSpeech
        if name == "java.util.Locale":
            return types.SimpleNamespace(forLanguageTag=lambda tag: types.SimpleNamespace(tag=tag))
        raise AssertionError(f"unexpected class {name}")

    jnius = types.ModuleType("jnius")
    jnius.autoclass = autoclass
    monkeypatch.setitem(sys.modules, "jnius", jnius)
    return looked_up


def test_android_speaker_sets_the_texts_locale_and_waits_for_the_engine(android):
    speaker = AndroidSpeaker()
    ended = []
    speaker.speak("Suche den Turm.", "de-x-ls", done=lambda: ended.append(1))
    wait_for(lambda: ended)
    (tts,) = FakeTextToSpeech.instances
    assert tts.activity == "the-activity" and tts.listener is None
    assert tts.calls == [("setLanguage", "de-DE"), ("speak", "Suche den Turm.", 0, None)] * 3
    assert {thread for _name, thread in android} == {threading.main_thread().name}
    speaker.speak("Find the tower.", "en", done=lambda: ended.append(2))
    wait_for(lambda: len(ended) == 2)
    assert FakeTextToSpeech.instances == [tts], "one engine for every text"
    assert tts.calls[-2:] == [("setLanguage", "en-GB"), ("speak", "Find the tower.", 0, None)]
    speaker.shutdown()
    assert tts.calls[-1] == ("shutdown",)


def test_stopping_android_speech_stops_the_engine(android, monkeypatch):
    monkeypatch.setattr(FakeTextToSpeech.__init__, "__defaults__", (0, 10_000))
    speaker = AndroidSpeaker()
    ended = []
    speaker.speak("long", "en", done=lambda: ended.append(1))
    wait_for(lambda: FakeTextToSpeech.instances and FakeTextToSpeech.instances[0].left > 0)
    speaker.stop()
    wait_for(lambda: ended)
    assert FakeTextToSpeech.instances[0].calls[-1] == ("stop",)


def test_recording_speaker_remembers_text_language_and_voice():
    speaker = RecordingSpeaker()
    ended = []
    speaker.speak("Brunnen", "de-x-ls", done=lambda: ended.append("a"))
    assert speaker.said == [Utterance("Brunnen", "de-x-ls", "de-DE")]
    assert speaker.speaking
    speaker.speak("Fountain", "en", done=lambda: ended.append("b"))
    assert ended == ["a"]
    speaker.finish()
    assert ended == ["a", "b"] and not speaker.speaking
    speaker.stop()
    assert speaker.stops == 1 and ended == ["a", "b"]


def test_read_aloud_toggles_one_text_at_a_time():
    speaker = RecordingSpeaker()
    keys: list[str] = []
    reader = ReadAloud(speaker, keys.append)
    assert reader.toggle("clue-1", "Suche den Brunnen.", "de")
    assert reader.key == "clue-1" and keys == ["clue-1"]
    assert speaker.said == [Utterance("Suche den Brunnen.", "de", "de-DE")]

    # another text: the first stops (its end does not clear the key of the second)
    assert reader.toggle("story", "Der Brunnen ist alt.", "de")
    assert reader.key == "story" and keys == ["clue-1", "story"]

    # the same button again: stop
    assert not reader.toggle("story", "Der Brunnen ist alt.", "de")
    assert reader.key == "" and keys == ["clue-1", "story", ""] and speaker.stops == 1
    assert not speaker.speaking

    # spoken to its end: the key clears, and a press reads it again
    assert reader.toggle("story", "Der Brunnen ist alt.", "de")
    speaker.finish()
    assert reader.key == "" and keys[-1] == ""
    assert reader.toggle("story", "Der Brunnen ist alt.", "de")
    assert len(speaker.said) == 4

    # nothing to read: nothing happens
    assert not reader.toggle("clue-2", "  ", "de")
    assert reader.key == "story"


def test_default_speaker_per_platform(android):
    assert isinstance(default_speaker("android", which=lambda name: None), AndroidSpeaker)
    espeak = default_speaker("linux", which=lambda name: f"/usr/bin/{name}")
    assert isinstance(espeak, EspeakSpeaker) and espeak.executable == "/usr/bin/espeak-ng"
    old = default_speaker("linux", which=lambda name: "/bin/espeak" if name == "espeak" else None)
    assert isinstance(old, EspeakSpeaker) and old.executable == "/bin/espeak"
    assert isinstance(default_speaker("linux", which=lambda name: None), SilentSpeaker)
    for platform in ("macosx", "win", "ios"):
        assert isinstance(default_speaker(platform, which=lambda name: None), PlyerSpeaker)
    assert speech.Speaker  # the protocol every one of them follows
