/* The live view: polls the organiser API every few seconds and updates map, counts, teams, flags. */
"use strict";
(function () {
  const root = document.getElementById("live");
  if (!root) { return; }
  const S = window.Staff;
  const t = S.t;
  const el = S.el;
  const intervalMs = Math.max(1, Number(root.dataset.interval) || 5) * 1000;
  const tbody = document.querySelector("#live-teams tbody");
  const filter = document.getElementById("team-filter");
  const updated = document.getElementById("live-updated");
  const map = ArtMap.create(document.getElementById("live-map"), { center: [0, 0], zoom: 2 });
  const stopLayer = L.layerGroup().addTo(map);
  const teamLayer = L.layerGroup().addTo(map);
  const teamMarkers = new Map();
  let data = null;
  let lastText = "";
  let lastStops = "";
  let fitted = false;
  let timer = null;

  function teamName(team) { return team.name === null ? t("organiser.live.anonymous", { id: team.id }) : team.name; }
  function clock(iso) { return S.clock(iso); }
  function ago(iso) {
    if (!iso) { return t("organiser.live.never"); }
    const minutes = Math.floor((Date.now() - new Date(iso).getTime()) / 60000);
    return minutes < 1 ? t("organiser.live.just_now") : t("organiser.live.minutes_ago", { n: minutes });
  }
  function countsText(counts, prefix) {
    return Object.keys(counts).filter(function (k) { return counts[k] > 0; })
      .map(function (k) { return t(prefix + k) + " " + counts[k]; }).join(", ");
  }

  function renderCounts() {
    const c = data.counts;
    const flags = Object.values(c.flags).reduce(function (a, b) { return a + b; }, 0);
    const values = { teams: c.teams, active: c.active, finished: c.finished, finds: c.finds, flags: flags,
      tasks_solved: c.tasks_solved, hints: c.hints };
    document.querySelectorAll("#live-counts [data-count]").forEach(function (dd) {
      dd.textContent = S.number(values[dd.dataset.count], 0);
    });
  }

  function renderStops() {
    const text = JSON.stringify(data.stops);
    if (text === lastStops) { return; }
    lastStops = text;
    stopLayer.clearLayers();
    const bounds = [];
    data.stops.forEach(function (s) {
      const circle = L.circle([s.lat, s.lon], { radius: s.radius_m, className: "stop-fence", weight: 2 });
      const marker = L.circleMarker([s.lat, s.lon], { radius: 11, className: "stop-marker", weight: 2, fillOpacity: 0.9 });
      marker.bindTooltip(String(s.number), { permanent: true, direction: "center", className: "stop-number" });
      let popup = t("organiser.live.stop", { n: s.number }) + ": " + s.title + " · " + t("organiser.live.found_by", { n: s.found });
      if (s.task) { popup += " · " + t("organiser.live.stop_tasks", { solved: s.solved, answered: s.answered }); }
      if (s.hint_count) { popup += " · " + t("organiser.live.stop_hints", { n: s.hinted }); }
      marker.bindPopup(el("div", { text: popup }));
      stopLayer.addLayer(circle);
      stopLayer.addLayer(marker);
      bounds.push([s.lat, s.lon]);
    });
    if (!fitted && bounds.length) { map.fitBounds(bounds, { padding: [30, 30] }); fitted = true; }
  }

  function renderPositions() {
    const seen = new Set();
    data.teams.forEach(function (team) {
      if (!team.position) { return; }
      seen.add(team.id);
      const label = el("span", { text: teamName(team) + " · " + team.found + "/" + data.rally.total_stops + " · " +
        t("organiser.live.position_at", { time: clock(team.position.at) }) });
      let m = teamMarkers.get(team.id);
      if (!m) {
        m = L.circleMarker([team.position.lat, team.position.lon],
          { radius: 7, className: "team-marker", weight: 1, fillOpacity: 0.8 });
        m.bindTooltip(label);
        teamLayer.addLayer(m);
        teamMarkers.set(team.id, m);
      } else {
        m.setLatLng([team.position.lat, team.position.lon]);
        m.setTooltipContent(label);
      }
      m.bringToFront();
      const path = m.getElement && m.getElement();
      if (path) { path.setAttribute("data-team", String(team.id)); }
    });
    teamMarkers.forEach(function (m, id) {
      if (!seen.has(id)) { teamLayer.removeLayer(m); teamMarkers.delete(id); }
    });
  }

  // A shape for each way of finding, so that the colour is not the only sign (WCAG 1.4.1).
  const SHAPES = { gps: "●", qr: "■", assist: "▲" };

  function stopDots(team) {
    const dots = el("span", { className: "dots", role: "img" });
    const said = [];
    for (let n = 1; n <= data.rally.total_stops; n++) {
      const method = team.finds[String(n)];
      const title = t("organiser.live.stop", { n: n }) + ": " + t(method ? "organiser.method." + method : "organiser.live.open");
      dots.appendChild(el("span", { className: "dot " + (method ? "found-" + method : "open"), title: title,
        text: method ? SHAPES[method] || "●" : "○" }));
      said.push(title);
    }
    dots.setAttribute("aria-label", said.join("; "));
    return dots;
  }

  function renderTeams() {
    const needle = filter.value.trim().toLowerCase();
    const rows = document.createDocumentFragment();
    const canEdit = data.rally.purged_at === null;
    data.teams.forEach(function (team) {
      if (needle && teamName(team).toLowerCase().indexOf(needle) < 0) { return; }
      const tr = el("tr", { "data-team": String(team.id) });
      tr.appendChild(el("td", { className: "num", text: team.rank }));
      const name = el("td", { className: "team-name", text: teamName(team) });
      if (team.finished) { name.appendChild(el("span", { className: "badge done", text: t("organiser.live.finished") })); }
      tr.appendChild(name);
      const dots = el("td");
      dots.appendChild(stopDots(team));
      tr.appendChild(dots);
      tr.appendChild(el("td", { className: "num found", text: team.found + "/" + data.rally.total_stops }));
      tr.appendChild(el("td", { className: "num", text: S.number(team.score, 0) }));
      tr.appendChild(el("td", { className: "tasks", text: team.tasks_answered ? t("organiser.live.task_cell",
        { points: team.task_points, solved: team.tasks_solved, answered: team.tasks_answered }) : "–" }));
      tr.appendChild(el("td", { className: "hints", text: team.hints ? t("organiser.live.hint_cell",
        { n: team.hints, cost: team.hint_cost }) : "–" }));
      tr.appendChild(el("td", { text: ago(team.last_active_at) }));
      tr.appendChild(el("td", { className: "flag-counts", text: countsText(team.flags, "organiser.flag.") }));
      const actions = el("td", { className: "actions" });
      if (canEdit) {
        if (team.next_stop !== null) {
          actions.appendChild(el("button", { type: "button", className: "small-button", "data-action": "assist", text: t("organiser.live.help") }));
        }
        actions.appendChild(el("button", { type: "button", className: "small-button secondary", "data-action": "rename", text: t("organiser.live.rename") }));
        actions.appendChild(el("button", { type: "button", className: "small-button danger", "data-action": "remove", text: t("organiser.live.remove") }));
      }
      tr.appendChild(actions);
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
    if (!tbody.children.length) {
      const tr = el("tr");
      tr.appendChild(el("td", { colspan: "10", text: data.teams.length ? t("organiser.live.matching") : t("organiser.live.no_teams") }));
      tbody.appendChild(tr);
    }
  }

  function renderFlags() {
    const list = document.getElementById("live-flags");
    list.replaceChildren();
    if (!data.flags.length) { list.appendChild(el("li", { className: "small", text: t("organiser.live.no_flags") })); return; }
    data.flags.forEach(function (f) {
      const li = el("li", { className: "flag flag-" + f.kind });
      li.appendChild(el("time", { datetime: f.at, text: clock(f.at) }));
      li.appendChild(el("strong", { text: " " + t("organiser.flag." + f.kind) }));
      const who = f.team === null ? t("organiser.live.anonymous", { id: f.team_id }) : f.team;
      let text = " · " + who + (f.stop ? " · " + t("organiser.live.stop", { n: f.stop }) : "");
      if (f.detail.reason) { text += " · " + t("organiser.live.quoted", { text: f.detail.reason }); }
      if (f.detail.speed_mps) { text += " · " + S.number(f.detail.speed_mps, 1) + " m/s"; }
      li.appendChild(document.createTextNode(text));
      list.appendChild(li);
    });
  }

  function render() {
    renderCounts();
    renderStops();
    renderPositions();
    renderTeams();
    renderFlags();
    document.getElementById("live-privacy").hidden = !data.positions.shown;
    if (!data.positions.shown) { updated.dataset.hidden = "1"; }
    root.dataset.status = data.rally.status;
  }

  async function poll() {
    timer = null;
    try {
      const answer = await S.api("GET", root.dataset.url);
      if (!answer) { throw new Error("no answer"); }
      const text = JSON.stringify(answer);
      if (text !== lastText) {
        lastText = text;
        data = answer;
        render();
      }
      let status = t("organiser.live.updated", { time: S.clock(new Date().toISOString()) });
      if (!data.positions.shown) { status += " · " + t("organiser.live.positions_hidden"); }
      updated.textContent = status;
      updated.className = "";
      root.dataset.polls = String(Number(root.dataset.polls || 0) + 1);
    } catch (e) {
      const loggedOut = e.status === 401 || e.status === 403;
      updated.textContent = t(loggedOut ? "organiser.live.logged_out" : "organiser.live.offline");
      updated.className = "error";
      if (loggedOut) { return; }
    }
    schedule();
  }
  function schedule() {
    if (timer === null && !document.hidden) { timer = setTimeout(poll, intervalMs); }
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null) { poll(); }
  });
  filter.addEventListener("input", function () { if (data) { renderTeams(); } });

  /* Actions: help a team (assist), rename, remove. */
  const assistDialog = document.getElementById("assist-dialog");
  const renameDialog = document.getElementById("rename-dialog");
  let current = null;
  function teamUrl(team) { return root.dataset.api + "/teams/" + team.id; }
  function showError(id, error) {
    const p = document.getElementById(id);
    p.textContent = error.message;
    p.hidden = false;
  }
  document.querySelectorAll("dialog [data-close]").forEach(function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });
  tbody.addEventListener("click", async function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) { return; }
    const id = Number(button.closest("tr").dataset.team);
    current = data.teams.find(function (t) { return t.id === id; });
    if (!current) { return; }
    const action = button.dataset.action;
    if (action === "assist") {
      const select = document.getElementById("assist-stop");
      select.replaceChildren();
      data.stops.forEach(function (s) {
        if (current.finds[String(s.number)]) { return; }
        const option = el("option", { value: String(s.marker_id), text: s.number + ". " + s.title });
        if (s.number === current.next_stop) { option.selected = true; }
        select.appendChild(option);
      });
      document.getElementById("assist-team").textContent = teamName(current);
      document.getElementById("assist-reason").value = "";
      document.getElementById("assist-error").hidden = true;
      assistDialog.showModal();
    } else if (action === "rename") {
      document.getElementById("rename-name").value = current.name || "";
      document.getElementById("rename-error").hidden = true;
      renameDialog.showModal();
    } else if (action === "remove") {
      if (!window.confirm(t("organiser.live.confirm_remove", { name: teamName(current) }))) { return; }
      try {
        await S.api("DELETE", teamUrl(current));
        refresh();
      } catch (error) { updated.textContent = error.message; updated.className = "error"; }
    }
  });
  document.getElementById("assist-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    try {
      await S.api("POST", teamUrl(current) + "/assists", {
        marker_id: Number(document.getElementById("assist-stop").value),
        reason: document.getElementById("assist-reason").value,
      });
      assistDialog.close();
      refresh();
    } catch (error) { showError("assist-error", error); }
  });
  document.getElementById("rename-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    try {
      await S.api("PATCH", teamUrl(current), { name: document.getElementById("rename-name").value });
      renameDialog.close();
      refresh();
    } catch (error) { showError("rename-error", error); }
  });
  function refresh() {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    poll();
  }

  /* On a phone the teams come first; the map waits behind a button (site layout: organiser.css). */
  const mapToggle = document.getElementById("map-toggle");
  mapToggle.addEventListener("click", function () {
    const shown = root.classList.toggle("map-shown");
    mapToggle.setAttribute("aria-expanded", String(shown));
    mapToggle.textContent = shown ? mapToggle.dataset.hide : mapToggle.dataset.show;
    if (!shown) { return; }
    map.invalidateSize();
    if (data && data.stops.length) {
      map.fitBounds(data.stops.map(function (s) { return [s.lat, s.lon]; }), { padding: [30, 30] });
    }
  });

  poll();
})();
