/* What the curator pages share: texts, formatting, coordinates, messages, map symbols. */
"use strict";
window.Curator = (function () {
  const texts = JSON.parse(document.getElementById("curator-texts").textContent);
  const me = JSON.parse(document.getElementById("curator-me").textContent);
  const lang = document.documentElement.lang || "en";

  function t(key, values) {
    let s = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(values[k])); });
    return s;
  }

  function pick(text, language) {
    if (!text) { return ""; }
    const first = language || lang;
    return text[first] || text.en || text.de || "";
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; }
      else if (k === "className") { node.className = v; }
      else if (k.startsWith("on")) { node.addEventListener(k.slice(2), v); }
      else { node.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.append(c); }
    });
    return node;
  }

  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  function metres(m) {
    if (m >= 1000) { return t("km", { n: new Intl.NumberFormat(lang, { maximumFractionDigits: 2 }).format(m / 1000) }); }
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

  /* A message in the live region; ``action`` ({label, run}) adds a button, e.g. Undo. */
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
    if (kind !== "error") { statusTimer = setTimeout(function () { if (box.contains(msg)) { box.replaceChildren(); } }, action ? 12000 : 6000); }
  }

  function errorText(error) {
    if (error && error.status === 0) { return t("offline"); }
    return (error && error.message) || t("failed");
  }

  function icon(label, kind) {
    return L.divIcon({
      className: "pin-wrap", iconSize: [26, 26], iconAnchor: [13, 26], popupAnchor: [0, -24],
      html: '<div class="pin ' + (kind || "") + '"><span>' + String(label).replace(/[<>&"]/g, "") + "</span></div>",
    });
  }

  function markTilesMissing(mapEl) { mapEl.setAttribute("data-missing", t("tiles_missing")); }

  /* Fetch that turns a network failure into an Error with status 0. */
  async function api(method, url, body) {
    try {
      return await ArtMap.api(method, url, body);
    } catch (error) {
      if (error.status === undefined) { error.status = 0; }
      throw error;
    }
  }

  async function upload(url, file) {
    const data = new FormData();
    data.append("image", file);
    const meta = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(url, { method: "PUT", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": meta ? meta.content : "" } });
    const json = await response.json().catch(function () { return null; });
    if (!response.ok) {
      const error = new Error((json && json.error && json.error.message) || response.statusText);
      error.status = response.status;
      error.data = json;
      throw error;
    }
    return json;
  }

  return { t: t, pick: pick, el: el, lang: lang, me: me, metres: metres, minutes: minutes,
           number: number, readCoordinates: readCoordinates, setCoordinates: setCoordinates,
           status: status, errorText: errorText, icon: icon, markTilesMissing: markTilesMissing,
           api: api, upload: upload };
})();
