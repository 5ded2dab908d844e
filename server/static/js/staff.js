/* What every staff page shares: its texts and numbers in the page's language, elements whose
   user text is only ever text, and the JSON API with the CSRF token. Loaded before the page's script. */
"use strict";
window.Staff = (function () {
  const lang = document.documentElement.lang || "de";
  const source = document.getElementById("staff-texts");
  const texts = source ? JSON.parse(source.textContent) : {};
  const languagesSource = document.getElementById("staff-languages");
  /* The languages every text exists in (markers/i18n.py LANGUAGES). */
  const languages = languagesSource ? JSON.parse(languagesSource.textContent) : [lang];
  /* The languages a text players read may have: those, and Leichte Sprache (optional). */
  const textLanguages = languages.concat(["de-x-ls"]);

  /* The page's text ``key`` with each {name} replaced by values[name]; the key itself if unknown. */
  function t(key, values) {
    const text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole;
    });
  }

  /* The locale of the page's language as the server formats it (server/formats.py). */
  const locale = lang === "en" ? "en-GB" : lang === "de-x-ls" ? "de" : lang;
  const zoneSource = document.getElementById("staff-zone");
  /* The event's time zone (EVENT_TIMEZONE): every time a staff page shows is in it. */
  const zone = zoneSource ? JSON.parse(zoneSource.textContent) : undefined;

  /* A number in the page's language, with at most ``digits`` decimals (default 1): "756,7". */
  function number(value, digits) {
    return new Intl.NumberFormat(locale, { maximumFractionDigits: digits === undefined ? 1 : digits }).format(value);
  }

  function inZone(iso, options, how) {
    if (!iso) { return ""; }
    const moment = new Date(iso);
    try { return moment[how](locale, Object.assign({ timeZone: zone }, options)); }
    catch (e) { return moment[how](locale, options); }
  }

  /* The clock time of an ISO timestamp in the event's zone and the page's language: "19:05". */
  function clock(iso, options) {
    return inZone(iso, options || { hour: "2-digit", minute: "2-digit" }, "toLocaleTimeString");
  }

  /* Date and time of an ISO timestamp in the event's zone: "29.11.2026, 19:05". */
  function when(iso) {
    return inZone(iso, { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" }, "toLocaleString");
  }

  /* An element: attrs "text" (set as text, never as HTML), "className", on<event> handlers, other
     attributes (true: present, null/undefined/false: left out); children are nodes or strings. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(function ([k, v]) {
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = String(v); }
      else if (k === "className") { node.className = v; }
      else if (k.startsWith("on")) { node.addEventListener(k.slice(2), v); }
      else { node.setAttribute(k, v === true ? "" : v); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.append(c); }
    });
    return node;
  }

  /* The element with this id. */
  function byId(id) {
    return document.getElementById(id);
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /* Fetch JSON (or send FormData) with the CSRF token; a failure throws an Error with the server's
     message, the HTTP status (0 when the server could not be reached) and the answer as data. */
  async function api(method, url, body) {
    const options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body instanceof FormData) { options.body = body; }
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") { options.headers["X-CSRFToken"] = csrfToken(); }
    let response;
    try {
      response = await fetch(url, options);
    } catch (failure) {
      const error = new Error(t("offline"));
      error.status = 0;
      throw error;
    }
    const data = response.status === 204 ? null : await response.json().catch(function () { return null; });
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || t("failed"));
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }

  /* Upload a file as the multipart field ``name``. */
  function upload(url, name, file) {
    const data = new FormData();
    data.append(name, file);
    return api("PUT", url, data);
  }

  return { lang: lang, languages: languages, textLanguages: textLanguages, byId: byId, t: t, number: number, clock: clock, when: when, zone: zone, el: el, api: api, upload: upload };
})();
