/* The rally editor: stops in order on a map, findings beside each stop, publish, a simulated walk. */
"use strict";
(function () {
  const S = window.Staff;
  const C = window.Curator;
  const { t, byId: $ } = S;
  const { root, api: API, map, mode } = C.editor("rally-editor");
  const candidateLayer = L.layerGroup().addTo(map);
  const stopLayer = L.layerGroup().addTo(map);
  const routeLayer = L.layerGroup().addTo(map);

  let rally = null;
  let markers = new Map();     // every marker, id -> data
  let checks = null;           // the latest findings answer
  let formDirty = false;
  let suggestion = null;
  const previews = { start: null, finish: null };   // a start or finish picked but not saved yet
  const POINTS = {   // the rally's start and finish: pin label, texts
    start: { label: "S", title: "start_point", pick: "pick_start_mode", picked: "start_picked" },
    finish: { label: "F", title: "finish_point", pick: "pick_finish_mode", picked: "finish_picked" },
  };
  let fitted = false;
  const removed = new Map();   // marker id -> clue, task, hints of a removed stop (for Undo)

  function markerTitle(m) { return C.pick(m.title) || t("untitled", { id: m.id }); }
  function stopIds() { return rally.stops.map(function (s) { return s.marker_id; }); }

  // --- rendering ----------------------------------------------------------------------

  function renderHeader() {
    const title = C.pick(rally.title) || rally.slug;
    $("rally-heading").textContent = title;
    document.title = title + " · Art Caching";
    const badge = $("rally-status");
    badge.textContent = t("status_" + rally.status);
    badge.className = "status status-" + rally.status;
    $("rally-owner").textContent = rally.owner ? t("owned_by", { name: rally.owner.username }) : t("no_owner");
    const notice = $("rally-readonly");
    let reason = "";
    if (!rally.can.edit) { reason = rally.status === "closed" ? t("readonly_closed") : t("readonly_not_yours"); }
    else if (!rally.can.edit_stops) { reason = rally.teams ? t("readonly_published_teams", { n: rally.teams }) : t("readonly_published"); }
    notice.textContent = reason;
    notice.hidden = !reason;
    $("publish").hidden = rally.status !== "draft";
    $("publish").disabled = !rally.can.publish;
    $("unpublish").hidden = rally.status !== "published";
    $("unpublish").disabled = !rally.can.unpublish;
    $("unpublish").title = rally.status === "published" && !rally.can.unpublish && rally.can.edit ? t("unpublish_teams") : "";
    $("r-delete").hidden = !rally.can.delete;
    $("add-stop").hidden = !rally.can.edit_stops;
    $("suggest").disabled = !rally.can.edit_stops || rally.stops.length < 3;
    const form = $("rally-form");
    form.querySelectorAll("input, textarea, #r-save, #start-pick, #start-clear, #finish-pick, #finish-clear").forEach(function (x) { x.disabled = !rally.can.edit; });
    ["r-slug", "r-word", "r-order-fixed", "r-order-free"].forEach(function (id) { if (!rally.can.edit_stops) { $(id).disabled = true; } });
  }

  function renderForm() {
    $("r-slug").value = rally.slug;
    ["title", "intro", "finish_text"].forEach(function (name) {
      S.textLanguages.forEach(function (code) { $("r-" + name + "-" + code).value = rally[name][code] || ""; });
    });
    $("r-order-fixed").checked = rally.order_mode === "fixed";
    $("r-order-free").checked = rally.order_mode === "free";
    $("r-word").value = rally.solution_word || "";
    const s = rally.start;
    C.setCoordinates($("start-lat"), $("start-lon"), s ? s.lat : null, s ? s.lon : null);
    $("start-name").value = s ? s.name : "";
    const f = rally.finish;
    C.setCoordinates($("finish-lat"), $("finish-lon"), f ? f.lat : null, f ? f.lon : null);
    $("finish-coords-msg").hidden = true;
    $("r-form-error").hidden = true;
    $("start-coords-msg").hidden = true;
    formDirty = false;
  }

  function stopButton(label, text, onclick, disabled) {
    return S.el("button", { type: "button", "aria-label": label, title: label, text: text, onclick: onclick, disabled: disabled });
  }

  function renderStops() {
    const list = $("stops");
    list.replaceChildren();
    const n = rally.stops.length;
    const editable = rally.can.edit_stops;
    rally.stops.forEach(function (s, i) {
      const name = markerTitle(s.marker);
      const letter = s.letter;
      const li = S.el("li", { "data-marker-id": s.marker_id, "data-index": i, draggable: editable ? "true" : null }, [
        S.el("div", { className: "stop-head" }, [
          S.el("span", { className: "handle", "aria-hidden": "true", text: editable ? "⠿" : "" }),
          S.el("span", { className: "stop-num", text: (i + 1) + "." }),
          S.el("span", {}, [
            S.el("span", { className: "letter-badge" + (letter ? "" : " none"), title: letter ? t("reveals_letter", { letter: letter }) : t("no_letter"),
              "aria-label": letter ? t("reveals_letter", { letter: letter }) : t("no_letter"), text: letter || "–" }),
            " ",
            S.el("a", { href: root.dataset.markersPage + "#marker-" + s.marker_id, text: name }),
            s.marker.venue ? S.el("span", { className: "small", text: " · " + s.marker.venue }) : null,
          ]),
          editable ? S.el("span", { className: "stop-tools" }, [
            stopButton(t("move_up", { n: i + 1, title: name }), "↑", function () { moveStop(i, -1); }, i === 0),
            stopButton(t("move_down", { n: i + 1, title: name }), "↓", function () { moveStop(i, 1); }, i === n - 1),
            stopButton(t("remove_stop", { n: i + 1, title: name }), "✕", function () { removeStop(i); }),
          ]) : S.el("span"),
        ]),
        S.el("ul", { className: "findings", id: "stop-findings-" + i, "aria-label": t("findings_of_stop", { n: i + 1 }) }),
        window.StopPanel ? window.StopPanel.build(s, i, rally) : null,
      ]);
      if (editable) { dragAndDrop(li, i); }
      list.append(li);
    });
    if (!n) { list.append(S.el("li", { className: "small", text: t("no_stops") })); }
    renderAddSelect();
  }

  function renderAddSelect() {
    const select = $("add-stop-marker");
    const used = new Set(stopIds());
    select.replaceChildren();
    Array.from(markers.values()).filter(function (m) { return !used.has(m.id); })
      .sort(function (a, b) { return markerTitle(a).localeCompare(markerTitle(b)); })
      .forEach(function (m) {
        select.append(S.el("option", { value: m.id, text: markerTitle(m) + (m.venue ? " · " + m.venue : "") }));
      });
    if (!select.children.length) { select.append(S.el("option", { value: "", text: t("no_more_markers") })); }
  }

  function findingItem(f, i) {
    const text = C.pick(f.message);
    return S.el("li", { className: f.severity, "data-code": f.code, "data-severity": f.severity }, [
      S.el("strong", { text: t("severity_" + f.severity) }),
      S.el("span", { text: text }),
      i !== undefined && f.stop_index !== i ? S.el("span", { className: "small", text: " " + t("see_stop", { n: f.stop_index + 1 }) }) : null,
    ]);
  }

  function renderFindings() {
    if (!checks) { return; }
    const s = checks.summary;
    $("sum-stops").textContent = s.stops;
    $("sum-length").textContent = C.metres(s.length_m);
    $("sum-walking").textContent = C.minutes(s.walking_s);
    $("sum-duration").textContent = C.minutes(s.duration_s);
    const top = $("rally-findings");
    top.replaceChildren();
    checks.findings.filter(function (f) { return f.stop_index === null; }).forEach(function (f) { top.append(findingItem(f)); });
    rally.stops.forEach(function (_, i) {
      const box = $("stop-findings-" + i);
      if (!box) { return; }
      box.replaceChildren();
      checks.findings.filter(function (f) { return f.stop_index === i || f.other_stop_index === i; })
        .forEach(function (f) { box.append(findingItem(f, i)); });
    });
    $("publish").title = checks.publishable ? "" : t("publish_blocked");
    drawRoute();
  }

  // --- the map ------------------------------------------------------------------------

  function drawMap() {
    candidateLayer.clearLayers();
    stopLayer.clearLayers();
    const used = new Set(stopIds());
    markers.forEach(function (m) {
      if (used.has(m.id)) { return; }
      const dot = L.circleMarker([m.lat, m.lon], { radius: 6, weight: 2,
        fillOpacity: 0.9, className: "candidate candidate-" + m.id });
      dot.bindTooltip(S.el("span", { text: markerTitle(m) }));
      const content = S.el("div", {}, [S.el("strong", { text: markerTitle(m) }),
        rally.can.edit_stops ? S.el("div", {}, [S.el("button", { type: "button", text: t("add_as_stop"), onclick: function () { map.closePopup(); addStop(m.id); } })]) : null]);
      dot.bindPopup(content);
      dot.addTo(candidateLayer);
    });
    rally.stops.forEach(function (s, i) {
      const m = s.marker;
      const fence = { interactive: false, className: "geofence stop-fence stop-fence-" + m.id, weight: 2, fillOpacity: 0.15 };
      (m.polygon ? L.polygon(m.polygon, fence) : L.circle([m.lat, m.lon], Object.assign({ radius: m.radius_m }, fence))).addTo(stopLayer);
      const pin = L.marker([m.lat, m.lon], { icon: C.icon(i + 1, "stop"), title: (i + 1) + ". " + markerTitle(m), keyboard: true });
      pin.bindPopup(S.el("div", {}, [S.el("strong", { text: (i + 1) + ". " + markerTitle(m) }),
        s.letter ? S.el("div", { text: t("reveals_letter", { letter: s.letter }) }) : null]));
      pin.addTo(stopLayer);
    });
    ["start", "finish"].forEach(function (kind) {
      const p = rally[kind];
      if (!p) { return; }
      const pin = L.marker([p.lat, p.lon], { icon: C.icon(POINTS[kind].label, kind), title: t(POINTS[kind].title),
        alt: t(POINTS[kind].title), keyboard: true, draggable: rally.can.edit });
      pin.on("dragend", function (e) { picked(kind, e.target.getLatLng(), false); });
      pin.addTo(stopLayer);
      pin.getElement().dataset.point = kind;
    });
    if (!fitted) {
      const points = rally.stops.map(function (s) { return [s.marker.lat, s.marker.lon]; });
      if (rally.start) { points.push([rally.start.lat, rally.start.lon]); }
      if (rally.finish) { points.push([rally.finish.lat, rally.finish.lon]); }
      if (!points.length) { markers.forEach(function (m) { points.push([m.lat, m.lon]); }); }
      if (points.length) { map.fitBounds(points, { padding: [40, 40], maxZoom: 17 }); } else { map.setView([20, 0], 2); }
      fitted = true;
    }
  }

  function drawRoute() {
    routeLayer.clearLayers();
    if (checks && checks.route.length > 1) {
      L.polyline(checks.route, { weight: 4, opacity: 0.8, className: "route", interactive: false }).addTo(routeLayer);
    }
    if (suggestion) {
      const line = suggestion.marker_ids.map(function (id) { const m = markers.get(id); return [m.lat, m.lon]; });
      if (rally.start) { line.unshift([rally.start.lat, rally.start.lon]); }
      if (rally.finish) { line.push([rally.finish.lat, rally.finish.lon]); }
      L.polyline(line, { weight: 4, dashArray: "8 8", className: "route-suggested", interactive: false }).addTo(routeLayer);
    }
  }

  map.on("click", function (e) {
    const kind = mode.get();
    if (kind === "start" || kind === "finish") {
      mode.set(null);
      picked(kind, e.latlng, true);
    }
  });

  /* A start or finish picked on the map (clicked, or its pin dragged): into the form, saved with it. */
  function picked(kind, latlng, preview) {
    C.setCoordinates($(kind + "-lat"), $(kind + "-lon"), latlng.lat, latlng.lng);
    formDirty = true;
    if (preview) { previewPoint(kind); }
    C.status(t(POINTS[kind].picked));
  }

  function previewPoint(kind) {
    if (previews[kind]) { map.removeLayer(previews[kind]); previews[kind] = null; }
    const p = C.readCoordinates($(kind + "-lat"), $(kind + "-lon"), null);
    if (p) {
      previews[kind] = L.marker([p.lat, p.lon], { icon: C.icon(POINTS[kind].label, kind + " preview"), interactive: false, keyboard: false, opacity: 0.6 }).addTo(map);
    }
  }

  function clearPreviews() {
    ["start", "finish"].forEach(function (kind) { if (previews[kind]) { map.removeLayer(previews[kind]); previews[kind] = null; } });
  }

  // --- changes ------------------------------------------------------------------------

  async function refreshFindings() {
    try {
      checks = await S.api("GET", API + "/findings");
      renderFindings();
    } catch (e) { C.status(e.message, "error"); }
  }

  function show(data) {
    rally = data;
    checks = { findings: data.findings, publishable: data.publishable, summary: data.summary, route: data.route };
    renderHeader();
    renderStops();
    drawMap();
    renderFindings();
  }

  async function setStops(ids, message, undoIds, focus) {
    try {
      const data = await S.api("PUT", API + "/stops", { stops: ids.map(function (id) {
        return Object.assign({ marker_id: id }, removed.get(id) || {});
      }) });
      ids.forEach(function (id) { removed.delete(id); });
      suggestion = null;
      $("suggestion").hidden = true;
      show(data);
      if (focus) { focus(); }
      C.status(message, "ok", undoIds ? { label: t("undo"), run: function () { setStops(undoIds, t("undone")); } } : null);
      await refreshFindings();
    } catch (e) {
      C.status(e.message, "error");
    }
  }

  function addStop(id) {
    const m = markers.get(id);
    setStops(stopIds().concat([id]), t("stop_added", { title: markerTitle(m) }), stopIds());
  }

  function removeStop(i) {
    const ids = stopIds();
    const gone = rally.stops[i];
    removed.set(gone.marker_id, { clue: gone.clue, task: gone.task, hints: gone.hints });
    const name = markerTitle(rally.stops[i].marker);
    const next = ids.slice(0, i).concat(ids.slice(i + 1));
    setStops(next, t("stop_removed", { title: name }), ids);
  }

  function reorder(from, to) {
    const ids = stopIds();
    if (from === to || to < 0 || to >= ids.length) { return null; }
    const next = ids.slice();
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved);
    return next;
  }

  function moveStop(i, delta) {
    const next = reorder(i, i + delta);
    if (!next) { return; }
    const before = stopIds();
    const arrow = delta < 0 ? 0 : 1;
    setStops(next, t("stop_moved", { n: i + 1 + delta }), before, function () {
      const li = $("stops").children[i + delta];
      const buttons = li ? li.querySelectorAll(".stop-tools button") : [];
      const target = buttons[arrow] && !buttons[arrow].disabled ? buttons[arrow] : buttons[1 - arrow];
      if (target) { target.focus(); }
    });
  }

  let dragFrom = null;
  function dragAndDrop(li, i) {
    li.addEventListener("dragstart", function (e) {
      dragFrom = i;
      li.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", String(i));
    });
    li.addEventListener("dragend", function () { li.classList.remove("dragging"); dragFrom = null; });
    li.addEventListener("dragover", function (e) { if (dragFrom !== null) { e.preventDefault(); li.classList.add("drop-target"); } });
    li.addEventListener("dragleave", function () { li.classList.remove("drop-target"); });
    li.addEventListener("drop", function (e) {
      e.preventDefault();
      li.classList.remove("drop-target");
      const from = dragFrom !== null ? dragFrom : Number(e.dataTransfer.getData("text/plain"));
      const next = reorder(from, i);
      if (next) { setStops(next, t("stop_moved", { n: i + 1 }), stopIds()); }
    });
  }

  $("add-stop").addEventListener("submit", function (event) {
    event.preventDefault();
    const id = Number($("add-stop-marker").value);
    if (id) { addStop(id); }
  });

  $("suggest").addEventListener("click", async function () {
    try {
      const s = await S.api("GET", API + "/order-suggestion");
      if (!s.changed || s.saving_m < 1) {
        C.status(t("suggest_none"));
        return;
      }
      suggestion = s;
      $("suggestion-text").textContent = t("suggest_saving", { saving: C.metres(s.saving_m),
        from: C.metres(s.original_length_m), to: C.metres(s.length_m) });
      $("suggestion").hidden = false;
      drawRoute();
      $("suggestion-apply").focus();
    } catch (e) { C.status(e.message, "error"); }
  });
  $("suggestion-apply").addEventListener("click", function () {
    if (!suggestion) { return; }
    const saving = C.metres(suggestion.saving_m);
    setStops(suggestion.marker_ids, t("suggest_applied", { saving: saving }), stopIds());
  });
  $("suggestion-cancel").addEventListener("click", function () {
    suggestion = null;
    $("suggestion").hidden = true;
    drawRoute();
  });

  async function setStatus(status) {
    try {
      show(await S.api("PUT", API + "/status", { status: status }));
      C.status(status === "published" ? t("published") : t("unpublished"));
    } catch (e) {
      C.status(e.message, "error");
      await refreshFindings();
    }
  }
  $("publish").addEventListener("click", function () { setStatus("published"); });
  $("unpublish").addEventListener("click", function () {
    if (window.confirm(t("confirm_unpublish"))) { setStatus("draft"); }
  });

  $("rally-form").addEventListener("input", function () { formDirty = true; });
  ["start", "finish"].forEach(function (kind) {
    $(kind + "-lat").addEventListener("change", function () { previewPoint(kind); });
    $(kind + "-lon").addEventListener("change", function () { previewPoint(kind); });
    $(kind + "-pick").addEventListener("click", function () { mode.set(kind, t(POINTS[kind].pick)); });
    $(kind + "-clear").addEventListener("click", function () {
      C.setCoordinates($(kind + "-lat"), $(kind + "-lon"), null, null);
      if (kind === "start") { $("start-name").value = ""; }
      formDirty = true;
      previewPoint(kind);
    });
  });

  $("rally-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    const error = $("r-form-error");
    error.hidden = true;
    const body = { title: {}, intro: {}, finish_text: {} };
    ["title", "intro", "finish_text"].forEach(function (name) {
      S.textLanguages.forEach(function (code) { body[name][code] = $("r-" + name + "-" + code).value.trim(); });
    });
    if (rally.can.edit_stops) {
      body.slug = $("r-slug").value.trim();
      body.order_mode = $("r-order-free").checked ? "free" : "fixed";
      body.solution_word = $("r-word").value.trim() || null;
    }
    if ($("start-lat").value.trim() || $("start-lon").value.trim()) {
      const p = C.readCoordinates($("start-lat"), $("start-lon"), $("start-coords-msg"));
      if (!p) { return; }
      body.start = { lat: p.lat, lon: p.lon, name: $("start-name").value.trim() };
    } else {
      body.start = null;
    }
    body.finish = null;
    if ($("finish-lat").value.trim() || $("finish-lon").value.trim()) {
      const p = C.readCoordinates($("finish-lat"), $("finish-lon"), $("finish-coords-msg"));
      if (!p) { return; }
      body.finish = { lat: p.lat, lon: p.lon };
    }
    try {
      const data = await S.api("PATCH", API, body);
      clearPreviews();
      show(data);
      renderForm();
      await refreshFindings();
      C.status(t("saved"));
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });

  $("r-delete").addEventListener("click", async function () {
    if (!window.confirm(t("confirm_delete_rally", { slug: rally.slug }))) { return; }
    try {
      await S.api("DELETE", API);
      window.location.assign(root.dataset.index);
    } catch (e) { C.status(e.message, "error"); }
  });

  window.addEventListener("beforeunload", function (e) { if (formDirty) { e.preventDefault(); e.returnValue = ""; } });

  // --- the simulated walk: one request walks the whole rally on the server; the page replays it -----

  let walking = false;
  let dot = null;

  function taskLine(task) {
    if (!task) { return t("sim_no_task"); }
    return task.correct ? t("sim_task", { points: task.points }) : t("sim_task_failed");
  }

  function logReveal(found, team, task) {
    const log = $("sim-log");
    const item = S.el("li", { className: "reveal", "data-stop": found.stop }, [
      S.el("strong", { text: t("sim_found", { n: found.stop, title: found.title }) }),
      S.el("div", { className: "sim-task" + (task && !task.correct ? " error" : ""), text: taskLine(task) }),
      found.letter ? S.el("div", { text: t("reveals_letter", { letter: found.letter }) }) : null,
      found.image_url ? S.el("img", { src: found.image_url, alt: "" }) : null,
      S.el("p", { text: found.story }),
    ]);
    log.append(item);
    item.scrollIntoView({ block: "nearest" });
    $("sim-word").textContent = team.solution || "";
  }

  function showClue(team) {
    const next = team.open[0];
    $("sim-clue").textContent = next ? t("sim_clue", { n: next.stop, clue: next.clue || "–" }) : "";
  }

  /* A failure of the walk, beside its buttons where the curator looks (role=alert). */
  function simError(message) {
    const box = $("sim-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function simDone(walked) {
    walking = false;
    $("sim-start").disabled = false;
    $("sim-stop").disabled = true;
    $("sim-start").removeAttribute("aria-busy");
    if (walked) { $("sim-section").dataset.walks = String(Number($("sim-section").dataset.walks || 0) + 1); }
  }

  async function walk() {
    simError("");
    if (!rally.stops.length) { simError(t("sim_no_route")); return; }
    walking = true;
    $("sim-start").disabled = true;
    $("sim-start").setAttribute("aria-busy", "true");
    $("sim-stop").disabled = false;
    $("sim-log").replaceChildren();
    $("sim-word").textContent = "";
    $("sim-clue").textContent = "";
    let answer;
    try {
      answer = await S.api("POST", API + "/simulate/walk", { language: $("sim-lang").value });
    } catch (e) {
      simError(e.message);
      simDone(false);
      return;
    }
    const delay = Number($("sim-speed").value);
    const steps = answer.steps;
    if (!dot) { dot = L.marker([steps[0].lat, steps[0].lon], { icon: L.divIcon({ className: "", html: S.el("div", { className: "sim-dot" }), iconSize: [16, 16] }), interactive: false, keyboard: false, zIndexOffset: 1000 }); }
    dot.setLatLng([steps[0].lat, steps[0].lon]).addTo(map);
    for (let k = 0; k < steps.length && walking; k++) {
      const step = steps[k];
      dot.setLatLng([step.lat, step.lon]);
      const ev = step.event;
      if (ev) {
        if (k === 0) { $("sim-word").textContent = ev.team.solution || ""; }
        ev.found_now.forEach(function (f) {
          logReveal(f, ev.team, (step.tasks || []).find(function (task) { return task.stop === f.stop; }));
        });
        showClue(ev.team);
      }
      if (delay && k < steps.length - 1) { await new Promise(function (resolve) { setTimeout(resolve, delay); }); }
    }
    if (walking && answer.finished) {
      const team = steps[steps.length - 1].event.team;
      $("sim-log").append(S.el("li", { className: "done", text: t("sim_done", { score: answer.score, tasks: answer.task_points, word: team.solution || "" }) }));
    } else if (walking) {
      $("sim-log").append(S.el("li", { className: "incomplete", text: t("sim_incomplete") }));
    }
    simDone(true);
  }
  $("sim-start").addEventListener("click", walk);
  $("sim-stop").addEventListener("click", function () { walking = false; });

  /* What stops.js and preview.js use: the rally as shown, and showing an answer of the API. */
  window.RallyEditor = { api: API, rally: function () { return rally; }, show: show };

  // --- start --------------------------------------------------------------------------

  async function load() {
    try {
      const [data, list] = await Promise.all([S.api("GET", API), S.api("GET", root.dataset.markers)]);
      markers = new Map(list.markers.map(function (m) { return [m.id, m]; }));
      show(data);
      renderForm();
      root.dataset.ready = "true";
    } catch (e) { C.status(e.message, "error"); }
  }
  load();
})();
