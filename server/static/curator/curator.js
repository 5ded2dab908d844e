/* What the curator pages share beyond Staff: the user, distances and durations, coordinates,
   messages, map symbols. */
"use strict";
window.Curator = (function () {
  const S = window.Staff;
  const t = S.t;
  const el = S.el;
  const me = JSON.parse(document.getElementById("curator-me").textContent);

  function pick(text, language) {
    if (!text) { return ""; }
    const first = language || S.lang;
    return text[first] || text.en || text.de || "";
  }

  function metres(m) {
    if (m >= 1000) { return t("km", { n: S.number(m / 1000, 2) }); }
    return t("m", { n: Math.round(m) });
  }
  function minutes(s) {
    const total = Math.round(s / 60);
    if (total < 60) { return t("min", { n: total }); }
    return t("h_min", { h: Math.floor(total / 60), m: total % 60 });
  }

  /* A latitude/longitude pair typed by hand: numbers in range, with a message naming what is wrong. */
  function readCoordinates(latInput, lonInput, messageEl) {
    const out = {};
    let problem = null;
    [["lat", latInput, 90], ["lon", lonInput, 180]].forEach(function ([name, input, limit]) {
      const raw = input.value.trim().replace(",", ".");
      const value = Number(raw);
      let bad = null;
      if (raw === "") { bad = t("coord_missing_" + name); }
      else if (!/^[-+]?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value)) { bad = t("coord_not_number_" + name); }
      else if (Math.abs(value) > limit) { bad = t("coord_range_" + name, { limit: limit }); }
      input.setAttribute("aria-invalid", bad ? "true" : "false");
      if (bad && !problem) { problem = bad; input.focus(); }
      out[name] = value;
    });
    if (messageEl) {
      messageEl.textContent = problem || "";
      messageEl.hidden = !problem;
    }
    return problem ? null : out;
  }

  function setCoordinates(latInput, lonInput, lat, lon) {
    latInput.value = lat === null || lat === undefined ? "" : Number(lat).toFixed(6);
    lonInput.value = lon === null || lon === undefined ? "" : Number(lon).toFixed(6);
    latInput.removeAttribute("aria-invalid");
    lonInput.removeAttribute("aria-invalid");
  }

  /* A message in the live region; ``action`` ({label, run, seconds}) adds a button, e.g. Undo,
     shown for ``seconds`` (default 12). */
  let statusTimer = null;
  function status(message, kind, action) {
    const box = document.getElementById("status");
    if (!box) { return; }
    box.replaceChildren();
    if (!message) { return; }
    const msg = el("div", { className: "msg " + (kind || "ok") }, [el("span", { text: message })]);
    if (action) {
      msg.append(el("button", { type: "button", className: "secondary", text: action.label,
        onclick: function () { box.replaceChildren(); action.run(); } }));
    }
    box.append(msg);
    clearTimeout(statusTimer);
    if (kind !== "error") { statusTimer = setTimeout(function () { if (box.contains(msg)) { box.replaceChildren(); } }, action ? (action.seconds || 12) * 1000 : 6000); }
  }

  function icon(label, kind) {
    return L.divIcon({
      className: "pin-wrap", iconSize: [26, 26], iconAnchor: [13, 26], popupAnchor: [0, -24],
      html: el("div", { className: "pin " + (kind || "") }, [el("span", { text: label })]),
    });
  }

  /* The editor's map, with a note for when no tiles load. */
  function editorMap(mapEl) {
    mapEl.setAttribute("data-missing", t("tiles_missing"));
    return ArtMap.create(mapEl).setView([20, 0], 2);
  }

  /* What the next click on the map does (e.g. place a venue): shown over the map with a Cancel
     button, ended by Cancel or Escape. */
  function mapMode(mapEl) {
    const box = document.getElementById("map-mode");
    let current = null;
    function set(next, message) {
      current = next;
      box.replaceChildren();
      box.hidden = !next;
      mapEl.style.cursor = next ? "crosshair" : "";
      if (next) {
        box.append(el("span", { text: message }),
          el("button", { type: "button", className: "secondary", text: t("cancel"), onclick: function () { set(null); } }));
      }
    }
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && current) { set(null); } });
    return { set: set, get: function () { return current; } };
  }

  /* An editor page: its root element (#rootId, whose data-api names its JSON API), the map in
     #map and the map's click mode. */
  function editor(rootId) {
    const root = document.getElementById(rootId);
    const mapEl = document.getElementById("map");
    return { root: root, api: root.dataset.api, map: editorMap(mapEl), mode: mapMode(mapEl) };
  }

  return { pick: pick, me: me, metres: metres, minutes: minutes, readCoordinates: readCoordinates,
           setCoordinates: setCoordinates, status: status, icon: icon, editor: editor };
})();
