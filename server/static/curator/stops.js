/* The rally editor's stop contents: each stop's fold-out with its clue (German, English, Leichte
   Sprache), its task and up to three hints, saved through the rally's stops; and copying the rally.
   Loaded before rally.js, which puts StopPanel.build(stop, index, rally) into each stop's row and
   offers window.RallyEditor (api, rally(), show(answer)). User text only ever as text. */
"use strict";
window.StopPanel = (function () {
  const S = window.Staff;
  const C = window.Curator;
  const { t, el, byId: $ } = S;
  const LANGS = S.textLanguages;
  const EASY = "de-x-ls";
  const MAX_OPTIONS = 6;
  const MIN_OPTIONS = 2;
  const MAX_HINTS = 3;
  const open = new Set();   // marker ids whose fold-out is open

  function langLabel(code) { return code === EASY ? t("easy_optional") : code.toUpperCase(); }

  /* Inputs for a text in each language; ``field`` (e.g. "task.question") names them for errors. */
  function texts(id, field, value, area, maxlength, legend) {
    const box = el("fieldset", { className: "pair" }, [el("legend", { text: legend })]);
    LANGS.forEach(function (code) {
      const inputId = id + "-" + code;
      const input = el(area ? "textarea" : "input", { id: inputId, lang: code, maxlength: maxlength,
        rows: area ? 2 : null, "data-field": field + "." + code, "data-lang": code });
      input.value = (value && value[code]) || "";
      box.append(el("div", { className: code === EASY ? "easy" : null }, [el("label", { for: inputId, text: langLabel(code) }), input]));
    });
    return box;
  }

  function readTexts(box) {
    const out = {};
    box.querySelectorAll("[data-lang]").forEach(function (input) { out[input.dataset.lang] = input.value.trim(); });
    return out;
  }

  function numberInput(id, field, value, attrs) {
    const input = el("input", Object.assign({ id: id, type: "text", inputmode: "decimal", "data-field": field, autocomplete: "off" }, attrs || {}));
    input.value = value === undefined || value === null ? "" : String(value);
    return input;
  }

  function labelled(id, label, input) { return el("div", { className: "field" }, [el("label", { for: id, text: label }), input]); }

  // --- the task ------------------------------------------------------------------------

  function optionRow(list, id, value, right) {
    const row = el("li", { className: "option" });
    const radio = el("input", { type: "radio", name: id + "-right", className: "right", "data-field": "task.answer" });
    radio.checked = !!right;
    const box = texts(id + "-opt", "task.options", value, false, 200, "");
    row.append(el("div", { className: "option-head" }, [
      el("label", { className: "check" }, [radio, el("span", { className: "option-name" })]),
      el("button", { type: "button", className: "secondary remove", onclick: function () {
        if (list.children.length > MIN_OPTIONS) { row.remove(); renumberOptions(list, id); }
      } }),
    ]), box);
    return row;
  }

  /* Numbers, ids and field names of the options after one was added or removed. */
  function renumberOptions(list, id) {
    Array.from(list.children).forEach(function (row, n) {
      row.querySelector(".option-name").textContent = t("option_n", { n: n + 1 });
      row.querySelector("input.right").setAttribute("aria-label", t("option_right", { n: n + 1 }));
      const remove = row.querySelector("button.remove");
      remove.textContent = "✕";
      remove.setAttribute("aria-label", t("option_remove", { n: n + 1 }));
      remove.title = t("option_remove", { n: n + 1 });
      remove.disabled = list.children.length <= MIN_OPTIONS;
      row.querySelector("legend").textContent = t("option_n", { n: n + 1 });
      row.querySelectorAll("[data-lang]").forEach(function (input) {
        const code = input.dataset.lang;
        input.id = id + "-opt" + n + "-" + code;
        input.dataset.field = "task.options." + n + "." + code;
        input.previousElementSibling.setAttribute("for", input.id);
      });
    });
    const add = list.parentNode && list.parentNode.querySelector("button.add-option");
    if (add) { add.disabled = list.children.length >= MAX_OPTIONS; }
  }

  function taskPart(id, task) {
    const type = task ? task.type : "";
    const select = el("select", { id: id + "-type", "data-field": "task.type" },
      [["", "task_none"], ["choice", "task_choice"], ["number", "task_number"], ["text", "task_text"]].map(function ([v, key]) {
        return el("option", { value: v, text: t(key) });
      }));
    select.value = type;
    const question = texts(id + "-q", "task.question", task && task.question, true, 10000, t("question"));

    const options = el("ol", { className: "options", id: id + "-options" });
    const choiceOptions = type === "choice" ? task.options : [{}, {}];
    choiceOptions.forEach(function (o, n) { options.append(optionRow(options, id, o, type === "choice" && task.answer === n)); });
    const choice = el("fieldset", { className: "task-choice" }, [el("legend", { text: t("options") }), options,
      el("button", { type: "button", className: "secondary add-option", text: t("option_add"), onclick: function () {
        if (options.children.length < MAX_OPTIONS) { options.append(optionRow(options, id, {}, false)); renumberOptions(options, id); }
      } })]);
    renumberOptions(options, id);

    const number = el("div", { className: "task-number grid-fields" }, [
      labelled(id + "-number", t("number_answer"), numberInput(id + "-number", "task.answer", type === "number" ? task.answer : "")),
      labelled(id + "-tolerance", t("tolerance"), numberInput(id + "-tolerance", "task.tolerance", type === "number" ? task.tolerance : 0)),
    ]);
    const accepted = el("textarea", { id: id + "-accepted", rows: 3, "data-field": "task.answer" });
    if (type === "text") { accepted.value = (Array.isArray(task.answer) ? task.answer : [task.answer]).join("\n"); }
    const text = el("div", { className: "task-text" }, [labelled(id + "-accepted", t("accepted"), accepted)]);

    const letter = el("select", { id: id + "-letter", "data-field": "task.letter" }, [
      el("option", { value: "find", text: t("letter_find") }), el("option", { value: "answer", text: t("letter_answer") })]);
    letter.value = task ? task.letter : "find";
    const common = el("div", { className: "task-common grid-fields" }, [
      labelled(id + "-points", t("points"), numberInput(id + "-points", "task.points", task ? task.points : 50, { inputmode: "numeric" })),
      labelled(id + "-attempts", t("attempts"), numberInput(id + "-attempts", "task.attempts", task ? task.attempts : 3, { inputmode: "numeric" })),
      labelled(id + "-letter", t("letter_on"), letter),
    ]);
    const details = el("div", { className: "task-details" }, [question, choice, number, text, common]);
    function showType() {
      const v = select.value;
      details.hidden = !v;
      choice.hidden = v !== "choice";
      number.hidden = v !== "number";
      text.hidden = v !== "text";
    }
    select.addEventListener("change", showType);
    showType();
    const box = el("fieldset", { className: "task" }, [el("legend", { text: t("task") }), labelled(id + "-type", t("task_type"), select), details]);
    box.read = function () { return readTask(id, select.value, question, options, accepted, letter); };
    return box;
  }

  class FormProblem extends Error {
    constructor(message, input) { super(message); this.input = input; }
  }

  function readNumber(input, whole) {
    const raw = input.value.trim().replace(",", ".");
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value)) { throw new FormProblem(t("need_number"), input); }
    if (whole && !Number.isInteger(value)) { throw new FormProblem(t("need_whole"), input); }
    return value;
  }

  function readTask(id, type, question, options, accepted, letter) {
    if (!type) { return null; }
    const task = { type: type, question: readTexts(question),
      points: readNumber($(id + "-points"), true), attempts: readNumber($(id + "-attempts"), true), letter: letter.value };
    if (type === "choice") {
      const rows = Array.from(options.children);
      task.options = rows.map(readTexts);
      task.answer = rows.findIndex(function (row) { return row.querySelector("input.right").checked; });
      if (task.answer < 0) { throw new FormProblem(t("need_right_option"), rows[0].querySelector("input.right")); }
    } else if (type === "number") {
      task.answer = readNumber($(id + "-number"), false);
      task.tolerance = readNumber($(id + "-tolerance"), false);
    } else {
      const lines = accepted.value.split("\n").map(function (x) { return x.trim(); }).filter(Boolean);
      task.answer = lines.length === 1 ? lines[0] : lines;
    }
    return task;
  }

  // --- the hints -----------------------------------------------------------------------

  function hintRow(list, id, hint) {
    const row = el("li", { className: "hint" });
    const cost = numberInput("", "", hint.cost === undefined ? 10 : hint.cost, { inputmode: "numeric", className: "cost" });
    const box = texts("", "", hint.text, true, 10000, "");
    row.append(box, el("div", { className: "row" }, [el("label", { className: "cost-label" }), cost,
      el("button", { type: "button", className: "secondary remove", onclick: function () { row.remove(); renumberHints(list, id); } })]));
    return row;
  }

  function renumberHints(list, id) {
    Array.from(list.children).forEach(function (row, n) {
      row.querySelector("legend").textContent = t("hint_n", { n: n + 1 });
      row.querySelectorAll("[data-lang]").forEach(function (input) {
        input.id = id + "-hint" + n + "-" + input.dataset.lang;
        input.dataset.field = "hints." + n + ".text." + input.dataset.lang;
        input.previousElementSibling.setAttribute("for", input.id);
      });
      const cost = row.querySelector("input.cost");
      cost.id = id + "-hint" + n + "-cost";
      cost.dataset.field = "hints." + n + ".cost";
      const label = row.querySelector(".cost-label");
      label.setAttribute("for", cost.id);
      label.textContent = t("hint_cost");
      const remove = row.querySelector("button.remove");
      remove.textContent = "✕";
      remove.title = t("hint_remove", { n: n + 1 });
      remove.setAttribute("aria-label", t("hint_remove", { n: n + 1 }));
    });
    const add = list.parentNode && list.parentNode.querySelector("button.add-hint");
    if (add) { add.disabled = list.children.length >= MAX_HINTS; }
  }

  function hintsPart(id, hints) {
    const list = el("ol", { className: "hints", id: id + "-hints" });
    (hints || []).forEach(function (h) { list.append(hintRow(list, id, h)); });
    const add = el("button", { type: "button", className: "secondary add-hint", text: t("hint_add"), onclick: function () {
      if (list.children.length < MAX_HINTS) { list.append(hintRow(list, id, { text: {} })); renumberHints(list, id); }
    } });
    const box = el("fieldset", { className: "hints-box" }, [el("legend", { text: t("hints") }), list, add]);
    renumberHints(list, id);
    box.read = function () {
      return Array.from(list.children).map(function (row) {
        return { text: readTexts(row.querySelector("fieldset")), cost: readNumber(row.querySelector("input.cost"), true) };
      });
    };
    return box;
  }

  // --- the fold-out ----------------------------------------------------------------------

  function summary(stop) {
    const parts = [];
    if (Object.values(stop.clue || {}).some(Boolean)) { parts.push(t("summary_clue")); }
    parts.push(stop.task ? t("summary_task", { type: t("task_" + stop.task.type) }) : t("summary_no_task"));
    if (stop.hints.length) { parts.push(t("summary_hints", { n: stop.hints.length })); }
    return t("stop_details") + " · " + parts.join(" · ");
  }

  function build(stop, i, rally) {
    const id = "stop" + i;
    const editable = rally.can.edit_stops;
    const clue = texts(id + "-clue", "clue", stop.clue, true, 10000, t("clue"));
    clue.append(el("p", { className: "small help", text: t("clue_help") }));
    const task = taskPart(id, stop.task);
    const hints = hintsPart(id, stop.hints);
    const error = el("p", { className: "error", role: "alert", hidden: true, id: id + "-error" });
    const form = el("form", { className: "stop-form", novalidate: true, "data-marker-id": stop.marker_id }, [clue, task, hints, error,
      el("div", { className: "buttons" }, [
        editable ? el("button", { type: "submit", className: "save-stop", text: t("save_stop") }) : null,
        el("button", { type: "button", className: "secondary preview-stop", text: t("preview"),
          "aria-label": t("preview_of", { n: i + 1 }), onclick: function () { window.PhonePreview.open(stop.marker_id); } }),
      ])]);
    if (!editable) { form.querySelectorAll("input, textarea, select, button.add-option, button.add-hint, button.remove").forEach(function (x) { x.disabled = true; }); }
    form.addEventListener("submit", function (event) { event.preventDefault(); save(form, i, clue, task, hints, error); });
    const details = el("details", { className: "stop-more", id: id + "-more", open: open.has(stop.marker_id) }, [
      el("summary", { text: summary(stop), "aria-label": t("stop_details_of", { n: i + 1 }) }), form]);
    details.addEventListener("toggle", function () {
      if (details.open) { open.add(stop.marker_id); } else { open.delete(stop.marker_id); }
    });
    // typing or selecting text inside the fold-out must not drag the stop
    form.addEventListener("pointerdown", function () {
      const li = form.closest("li[draggable]");
      if (li) { li.setAttribute("draggable", "false"); document.addEventListener("pointerup", function () { li.setAttribute("draggable", "true"); }, { once: true }); }
    });
    return details;
  }

  function showError(form, error, message, input) {
    form.querySelectorAll("[aria-invalid]").forEach(function (x) { x.removeAttribute("aria-invalid"); });
    error.textContent = message || "";
    error.hidden = !message;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  /* The input a server error's field ("stops.2.task.options.1") is about, if the form has it. */
  function inputFor(form, field) {
    if (!field) { return null; }
    const name = field.replace(/^stops\.\d+\./, "");
    return Array.from(form.querySelectorAll("[data-field]")).find(function (x) {
      if (x.closest("[hidden]")) { return false; }
      return x.dataset.field === name || x.dataset.field.startsWith(name + ".");
    }) || null;
  }

  async function save(form, i, clue, task, hints, error) {
    const R = window.RallyEditor;
    const rally = R.rally();
    let body;
    try {
      body = { marker_id: rally.stops[i].marker_id, clue: readTexts(clue), task: task.read(), hints: hints.read() };
    } catch (problem) {
      if (problem instanceof FormProblem) { showError(form, error, problem.message, problem.input); return; }
      throw problem;
    }
    showError(form, error, "");
    const stops = rally.stops.map(function (s, n) { return n === i ? body : { marker_id: s.marker_id }; });
    try {
      R.show(await S.api("PUT", R.api + "/stops", { stops: stops }));
      C.status(t("stop_saved", { n: i + 1 }));
      window.PhonePreview.refresh();
      const again = $("stop" + i + "-more");
      if (again) { again.querySelector("summary").focus(); }
    } catch (e) {
      const field = e.data && e.data.error && e.data.error.field;
      showError(form, error, e.message, inputFor(form, field));
    }
  }

  // --- copying the rally ------------------------------------------------------------------

  const copyForm = $("copy-form");
  if (copyForm) {
    copyForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const error = $("copy-error");
      const input = $("copy-slug");
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      try {
        const copy = await S.api("POST", copyForm.dataset.api, { slug: input.value.trim() });
        C.status(t("copied"));
        window.location.assign(copyForm.dataset.editor.replace(/0$/, String(copy.id)));
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
    });
  }

  return { build: build };
})();
