/* Shared map set-up for the staff pages: tiles from the configured URL, markers even without tiles. */
"use strict";
window.ArtMap = (function () {
  const settings = JSON.parse(document.getElementById("map-settings").textContent);
  function create(element, options) {
    const map = L.map(element, Object.assign({ zoomControl: true }, options || {}));
    const tiles = L.tileLayer(settings.tile_url, { maxZoom: 19, attribution: settings.attribution });
    tiles.on("tileerror", function () { element.classList.add("tiles-missing"); });
    tiles.addTo(map);
    return map;
  }
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  async function api(method, url, body) {
    const options = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") { options.headers["X-CSRFToken"] = csrfToken(); }
    const response = await fetch(url, options);
    const data = response.status === 204 ? null : await response.json().catch(function () { return null; });
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || response.statusText);
      error.status = response.status;
      error.data = data;
      throw error;
    }
    return data;
  }
  return { create: create, api: api, settings: settings };
})();
