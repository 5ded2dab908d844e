/* The phone preview of a stop: in a 360×640 frame over the map, what a player's phone shows in
   the chosen language (German, English, Leichte Sprache): the clue, then, once found, the reveal
   (title, image, story, letter) and the task with its hints. Plain DOM; text only as text. */
"use strict";
window.PhonePreview = (function () {
  const S = window.Staff;
  const { t, el, byId: $ } = S;
  const data = JSON.parse($("preview-texts").textContent);
  const box = $("preview");
  const phone = $("phone");
  const select = $("preview-lang");
  let markerId = null;
  let step = "clue";

  Object.entries(data.languages).forEach(function ([code, name]) {
    select.append(el("option", { value: code, lang: code, text: name }));
  });
  select.value = S.lang;
  $("preview-close").textContent = t("preview_close");
  $("preview-step-clue").textContent = t("preview_clue");
  $("preview-step-found").textContent = t("preview_found");

  /* The fallback chain of markers/i18n.py: de-x-ls -> de -> en, de -> en, en -> de. */
  function pick(text, lang) {
    if (!text) { return ""; }
    const chain = (lang === "de-x-ls" ? ["de-x-ls", "de"] : [lang]).concat(["en", "de"]);
    const code = chain.find(function (c) { return text[c]; });
    return code ? text[code] : "";
  }

  /* A preview text of the player's catalogue in lang, its {names} filled in. */
  function say(key, lang, values) {
    const text = (data.texts[lang] || {})[key] || key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }

  function screenClue(stop, lang) {
    const clue = pick(stop.clue, lang) || pick(stop.marker.clue, lang);
    return [
      el("h3", { text: say("clue", lang) }),
      el("p", { className: "phone-clue", text: clue || "–" }),
    ];
  }

  function taskView(task, lang) {
    const parts = [el("h3", { text: say("task", lang) }), el("p", { className: "phone-question", text: pick(task.question, lang) })];
    if (task.type === "choice") {
      parts.push(el("ul", { className: "phone-options" }, task.options.map(function (o) {
        return el("li", {}, [el("button", { type: "button", className: "secondary", tabindex: "-1", text: pick(o, lang) })]);
      })));
    } else {
      parts.push(el("label", { className: "phone-label", text: say("your_answer", lang) }),
        el("div", { className: "phone-input", "aria-hidden": "true" }),
        el("button", { type: "button", tabindex: "-1", text: say("check", lang) }));
    }
    parts.push(el("p", { className: "phone-small", text: say("task_points", lang, { points: task.points, attempts: task.attempts }) }));
    return parts;
  }

  function hintsView(stop, lang) {
    const list = el("ol", { className: "phone-hints" });
    const taken = list.children;
    const button = el("button", { type: "button", className: "secondary phone-hint-button" });
    function label() {
      const next = stop.hints[taken.length];
      button.hidden = !next;
      if (next) { button.textContent = say("hint", lang, { cost: next.cost }); }
    }
    button.addEventListener("click", function () {
      const n = taken.length;
      if (n >= stop.hints.length) { return; }
      list.append(el("li", {}, [el("strong", { text: say("hint_n", lang, { n: n + 1 }) + ": " }), el("span", { text: pick(stop.hints[n].text, lang) })]));
      label();
    });
    label();
    return [list, button];
  }

  function screenFound(stop, index, rally, lang) {
    const m = stop.marker;
    const parts = [el("h3", { className: "phone-found", text: say("found", lang) }), el("h4", { text: pick(m.title, lang) })];
    if (m.image_url) { parts.push(el("img", { src: m.image_url, alt: "" })); }
    parts.push(el("p", { className: "phone-story", text: pick(m.story, lang) }));
    if (stop.letter) {
      const later = stop.task && stop.task.letter === "answer";
      parts.push(el("div", { className: "phone-letter" }, [
        el("span", { text: later ? say("letter_later", lang) : say("letter", lang) }),
        later ? null : el("strong", { text: stop.letter }),
      ]));
    }
    if (stop.task) { parts.push.apply(parts, taskView(stop.task, lang)); }
    return parts;
  }

  function render() {
    const rally = window.RallyEditor.rally();
    const index = rally.stops.findIndex(function (s) { return s.marker_id === markerId; });
    if (index < 0) { close(); return; }
    const stop = rally.stops[index];
    const lang = select.value;
    phone.setAttribute("lang", lang);
    phone.setAttribute("aria-label", t("preview_of", { n: index + 1 }));
    phone.dataset.step = step;
    const head = el("div", { className: "phone-bar", text: say("stop_of", lang, { n: index + 1, total: rally.stops.length }) });
    const screen = el("div", { className: "phone-screen" }, step === "clue" ? screenClue(stop, lang) : screenFound(stop, index, rally, lang));
    if (stop.hints.length && !(step === "found" && !stop.task)) { screen.append.apply(screen, hintsView(stop, lang)); }
    phone.replaceChildren(head, screen);
    $("preview-step-clue").disabled = step === "clue";
    $("preview-step-found").disabled = step === "found";
  }

  function open(id) {
    markerId = id;
    step = "clue";
    box.hidden = false;
    render();
    $("preview-heading").setAttribute("tabindex", "-1");
    $("preview-heading").focus();
  }

  function close() {
    markerId = null;
    box.hidden = true;
  }

  function refresh() { if (markerId !== null) { render(); } }

  select.addEventListener("change", refresh);
  $("preview-step-clue").addEventListener("click", function () { step = "clue"; render(); });
  $("preview-step-found").addEventListener("click", function () { step = "found"; render(); });
  $("preview-close").addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && markerId !== null) { close(); } });

  return { open: open, refresh: refresh, close: close };
})();
