/* Read aloud: each "Read aloud" button (button.speak, rendered hidden by the spoken macro of
   templates/play/_macros.html) speaks the [data-speak] text beside it with the Web Speech API, in
   the language data-speak names (a BCP-47 tag: "de-DE", "en-GB"; Leichte Sprache is "de-DE").
   Pressing the button again stops; starting one text stops any other. Without speechSynthesis the
   buttons stay hidden. No inline script: the pages send a strict Content-Security-Policy. */
"use strict";
(function () {
  const synth = window.speechSynthesis;
  if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
    return;
  }
  let current = null; /* {button, utterance} of the text being spoken */

  /* The installed voice for a BCP-47 tag: the same tag, else the same language; else null. */
  function voiceFor(tag) {
    const voices = synth.getVoices() || [];
    const norm = function (lang) { return String(lang || "").replace(/_/g, "-").toLowerCase(); };
    const wanted = norm(tag);
    const language = wanted.split("-")[0];
    return voices.find(function (v) { return norm(v.lang) === wanted; }) ||
      voices.find(function (v) { return norm(v.lang).split("-")[0] === language; }) ||
      null;
  }

  function show(button, speaking) {
    if (!button.dataset.read) {
      button.dataset.read = button.textContent;
    }
    button.textContent = speaking ? button.dataset.stop || button.dataset.read : button.dataset.read;
    button.setAttribute("aria-pressed", speaking ? "true" : "false");
  }

  function stop() {
    const was = current;
    current = null;
    if (was) {
      show(was.button, false);
    }
    synth.cancel();
  }

  function speak(button, source) {
    const text = source.textContent.replace(/\s+/g, " ").trim();
    if (!text) {
      return;
    }
    const tag = source.dataset.speak || source.lang || document.documentElement.lang;
    const utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = tag;
    const voice = voiceFor(tag);
    if (voice) {
      utterance.voice = voice;
    }
    const done = function () {
      if (current && current.utterance === utterance) {
        current = null;
        show(button, false);
      }
    };
    utterance.onend = done;
    utterance.onerror = done;
    current = { button: button, utterance: utterance };
    show(button, true);
    synth.speak(utterance);
  }

  document.querySelectorAll("button.speak").forEach(function (button) {
    const box = button.closest(".speakable");
    const source = box && box.querySelector("[data-speak]");
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      const again = current && current.button === button;
      stop();
      if (!again) {
        speak(button, source);
      }
    });
  });
  /* Leaving the page (or its reload) ends what it was saying. */
  window.addEventListener("pagehide", stop);
})();
